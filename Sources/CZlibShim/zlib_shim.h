// Shim for zlib (Debian: zlib1g-dev, pkg-config `zlib`): gzip reading for the
// IDX datasets, deflate and crc32 for PNG.
#pragma once
#include <zlib.h>
