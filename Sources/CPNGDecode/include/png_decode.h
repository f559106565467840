// PNG decoding through libpng's classic API, whose errors longjmp: Swift
// cannot call that API safely, so this one C function does the whole decode
// and returns an error string instead.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Reads the header of the PNG in `data` (`size` bytes): width, height, and
/// whether it is colour (RGB or palette) or grey. Returns 0, or -1 with a
/// message in `error`.
int zoo_png_info(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height, int *colour, int *bit_depth,
                 char *error, size_t error_size);

/// Decodes the PNG in `data` into `out` (width * height * channels bytes,
/// channels 1 for grey or 3 for colour as zoo_png_info said): palettes are
/// expanded, 16-bit samples keep their high byte (v >> 8), alpha and
/// transparency are dropped (not composited), low bit depths are scaled to
/// 0..255, no gamma is applied. Returns 0, or -1 with a message in `error`.
int zoo_png_decode(const uint8_t *data, size_t size, uint8_t *out, size_t out_size, char *error, size_t error_size);
