// Shim for libxsmm (Debian: libxsmm-dev, pkg-config `libxsmm`): just-in-time
// generated small matrix products. Only CJITGEMM includes it; Swift calls
// CJITGEMM's wrapper, never libxsmm's macro-heavy header.
#pragma once
#include <libxsmm.h>
