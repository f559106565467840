#include "png_decode.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

struct source {
    const uint8_t *data;
    size_t size, offset;
    char *error;
    size_t error_size;
};

static void read_bytes(png_structp png, png_bytep out, png_size_t n) {
    struct source *s = (struct source *)png_get_io_ptr(png);
    if (s->offset + n > s->size) png_error(png, "the file ends inside the image data (truncated)");
    memcpy(out, s->data + s->offset, n);
    s->offset += n;
}

static void on_error(png_structp png, png_const_charp message) {
    struct source *s = (struct source *)png_get_error_ptr(png);
    snprintf(s->error, s->error_size, "%s", message);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

/// Opens `data` with libpng; on success `*png` and `*info` are set and 0 is
/// returned (the caller destroys them).
static int begin(struct source *s, png_structp *png, png_infop *info) {
    if (s->size < 8 || png_sig_cmp(s->data, 0, 8) != 0) {
        snprintf(s->error, s->error_size, "not a PNG file (no PNG signature)");
        return -1;
    }
    *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    if (!*png) {
        snprintf(s->error, s->error_size, "libpng could not start");
        return -1;
    }
    *info = png_create_info_struct(*png);
    if (!*info) {
        png_destroy_read_struct(png, NULL, NULL);
        snprintf(s->error, s->error_size, "libpng could not start");
        return -1;
    }
    png_set_read_fn(*png, s, read_bytes);
    // Refuse absurd sizes before libpng allocates rows for them.
    png_set_user_limits(*png, 1 << 14, 1 << 14);
    return 0;
}

int zoo_png_info(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height, int *colour, int *bit_depth,
                 char *error, size_t error_size) {
    struct source s = {data, size, 0, error, error_size};
    png_structp png;
    png_infop info;
    if (begin(&s, &png, &info) != 0) return -1;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    *width = png_get_image_width(png, info);
    *height = png_get_image_height(png, info);
    *colour = (png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR) ? 1 : 0;
    *bit_depth = png_get_bit_depth(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int zoo_png_decode(const uint8_t *data, size_t size, uint8_t *out, size_t out_size, char *error, size_t error_size) {
    struct source s = {data, size, 0, error, error_size};
    png_structp png;
    png_infop info;
    if (begin(&s, &png, &info) != 0) return -1;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_free(png, rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int type = png_get_color_type(png, info);
    int channels = (type & PNG_COLOR_MASK_COLOR) ? 3 : 1;
    if ((size_t)width * height * channels != out_size) png_error(png, "the output buffer does not match the image");
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != channels || png_get_rowbytes(png, info) != (size_t)width * channels)
        png_error(png, "unexpected pixel layout after conversion");
    rows = png_malloc(png, height * sizeof(png_bytep));
    for (png_uint_32 y = 0; y < height; y++) rows[y] = out + (size_t)y * width * channels;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_free(png, rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}
