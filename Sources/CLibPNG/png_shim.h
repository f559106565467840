// Shim for libpng (Debian: libpng-dev, pkg-config `libpng`): PNG decoding for
// image-folder datasets (CPNGDecode wraps its setjmp-based API for Swift).
#pragma once
#include <png.h>
