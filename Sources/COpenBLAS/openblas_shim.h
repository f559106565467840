// Shim for OpenBLAS (Debian: libopenblas-dev, pkg-config `openblas`).
// Linked as `openblas` by name, never the generic `blas` alternative, so that
// openblas_set_num_threads is always present.
#pragma once
#include <cblas.h>
