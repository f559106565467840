// Helpers shared by the single-file C benchmarks in Scripts/ (included by
// path, so each still builds with the one command in its header).
#ifndef ZOO_BENCH_COMMON_H
#define ZOO_BENCH_COMMON_H
#include <stdlib.h>
#include <time.h>

// Seconds on the monotonic clock.
static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// n floats, 64-byte aligned, filled with small values in [-0.05, 0.05) (exits when out of memory).
static inline float *alloc_floats(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) exit(1);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) * 1e-4f - 0.05f;
    return p;
}
#endif
