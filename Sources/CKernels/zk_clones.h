// Which instruction sets zoo's element-wise kernels are compiled for (private
// to the C kernels). Each kernel marked ZK_CLONES is built once per level and
// the loader picks the widest the CPU runs: AVX-512 (x86-64-v4), AVX2 with FMA
// (x86-64-v3), or baseline x86-64.
//
// Building with -DZK_AVX2_ONLY leaves out the AVX-512 clones, so that a CPU
// with AVX-512 runs every kernel of zoo's as a CPU without it would:
//   swift build -c release -Xcc -DZK_AVX2_ONLY --build-path .build-avx2
// Together with ZOO_BLAS_CORETYPE=Haswell (OpenBLAS's AVX2 kernels) this is
// how Scripts/speed_vs_pytorch.py --avx2 emulates an AVX2-only CPU.
#ifndef ZK_CLONES_H
#define ZK_CLONES_H

#ifdef ZK_AVX2_ONLY
#define ZK_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ZK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif

#endif
