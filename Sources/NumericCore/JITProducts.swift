import CJITGEMM

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which of `BLAS.gemm`'s products run on libxsmm's just-in-time kernels
/// instead of OpenBLAS: on a CPU where libxsmm generates AVX2 or AVX-512 code, those
/// of the forms A·B and Aᵀ·B (B not transposed), with α = 1 and β 0 or 1,
/// whose B (k × n) takes at most half of a core's L2 cache and whose rows are
/// at most 1024 wide. libxsmm generates a kernel per shape that reads its
/// operands where they lie, without OpenBLAS's packing copies; a kernel sweeps
/// all of B for each block of rows of A, so B has to stay in cache.
///
/// Measured on a 2-core Xeon (`Scripts/jit_products.c`, one thread, medians
/// of 201 calls, and `zoo bench --layers` A/B pairs): with AVX-512 the
/// tutorial MLP's weight gradients (Aᵀ·B over 128 rows) and the convolutional
/// recipe's 64-channel products ran 10–30 % faster than on OpenBLAS's SkylakeX
/// kernels (conv-vae's convolutions 9 % less time in training, the MLP's
/// backward passes 6–8 %); products whose B is a 3136 × 256 weight ran at half
/// OpenBLAS's rate (the first bound keeps them on OpenBLAS), a weight gradient
/// 3136 wide (k = 64, B 800 KB) now faster, now 20 % slower (the second
/// bound). With libxsmm held to AVX2 (`LIBXSMM_TARGET=hsw`, OpenBLAS's Haswell
/// kernels, zoo's AVX2-only build; no AVX2-only CPU was at hand) the MLP's
/// epochs were the same (2.097 against 2.084 s, five pairs) and, since the
/// convolutions went channels-last, conv-vae's 16 % shorter (3.705 against
/// 4.436 s per 12,800 images, five pairs, against the image-minor code on
/// OpenBLAS; the channels-last code on OpenBLAS alone was 8 % slower than
/// that), so libxsmm runs from AVX2 up. (Before, with image-minor
/// convolutions, conv-vae lost 4–7 % with libxsmm on AVX2.) Products with Bᵀ
/// (the linear layers' transposed forward) stay on OpenBLAS: libxsmm 1.17 has
/// no kernels for that form.
///
/// A value of a JIT product does not depend on which rows a call covers, nor
/// on how its columns are split at multiples of 16 (tested): libxsmm's code
/// for AVX2 computes each value as one chain of fused multiply-adds over k in
/// order, and its AVX-512 code does so but for the last n mod 16 columns,
/// whose tail code rounds differently (a C check on conv-vae's 64 × 392 × 512
/// product: 24,638 of 25,088 values equal to the chain, the other 450 all in
/// columns 384–391). Results differ from OpenBLAS's in their last bits; on one machine
/// the choice, and so a run, is the same every time. `ZOO_LIBXSMM=off` in the
/// environment sends every product to OpenBLAS, `ZOO_LIBXSMM=on` uses libxsmm
/// on older CPUs too (to measure it on one); any other value is ignored with a
/// note (`environmentProblem`).
public enum JITProducts {
    /// Whether libxsmm generates AVX2 (or AVX-512) code on this CPU.
    static let generatesAVX2 = zj_target_is_avx2() != 0

    /// What a value of `ZOO_LIBXSMM` asks for: `on` or `off` (any case), or
    /// nothing: unset, empty, or any other value, which zoo ignores with a
    /// note (`environmentProblem`) rather than guess.
    enum Setting: Equatable {
        case rule, on, off
        case unknown(String)

        init(_ value: String?) {
            guard let value, !value.isEmpty else {
                self = .rule
                return
            }
            switch value.lowercased() {
            case "on": self = .on
            case "off": self = .off
            default: self = .unknown(value)
            }
        }
    }

    static let setting = Setting(getenv("ZOO_LIBXSMM").map { String(cString: $0) })

    /// Whether products may run on libxsmm here: with AVX2 or AVX-512 unless
    /// `ZOO_LIBXSMM=off`, on older CPUs only with `ZOO_LIBXSMM=on`.
    public static let isEnabled: Bool = {
        switch setting {
        case .off: false
        case .on: true
        case .rule, .unknown: generatesAVX2
        }
    }()

    /// Why the environment's `ZOO_LIBXSMM` is ignored (a value other than
    /// on or off), for a note on stderr; nil when it is not.
    public static var environmentProblem: String? { problem(setting, enabled: isEnabled) }

    static func problem(_ setting: Setting, enabled: Bool) -> String? {
        guard case .unknown(let value) = setting else { return nil }
        let effect = enabled ? "here (this CPU has AVX2)" : "nowhere here (this CPU lacks AVX2)"
        return "ZOO_LIBXSMM=\(value) is neither on nor off: ignored, so libxsmm runs products \(effect)"
    }

    /// The largest B a JIT product takes, in bytes: half the L2 cache of a
    /// core (256 KiB when the system does not say).
    public static let maxOperandBytes: Int = {
        let l2 = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        return (l2 > 0 ? l2 : 512 * 1024) / 2
    }()

    /// Whether `BLAS.gemm` runs this product on libxsmm (see the type's comment).
    @inline(__always)
    public static func takes(transB: Bool, n: Int, k: Int, alpha: Float, beta: Float) -> Bool {
        takes(transB: transB, n: n, k: k, alpha: alpha, beta: beta, enabled: isEnabled, maxOperandBytes: maxOperandBytes)
    }

    /// The widest B (and C) a JIT product takes, in values.
    static let maxColumns = 1024

    /// The same rule for a given bound and switch (tests).
    @inline(__always)
    static func takes(transB: Bool, n: Int, k: Int, alpha: Float, beta: Float, enabled: Bool, maxOperandBytes: Int) -> Bool {
        enabled && !transB && alpha == 1 && (beta == 0 || beta == 1) && k > 0 && n <= maxColumns && k * n * 4 <= maxOperandBytes
    }

    /// libxsmm's version and the instruction set it generates code for here
    /// ("hsw" for AVX2, "skx", "clx", "cpx", "spr" for AVX-512 families).
    public static var version: String { String(cString: zj_version()) }
    public static var targetArchitecture: String { String(cString: zj_target_arch()) }

    /// One line for `zoo bench`: what runs the JIT products, or that none do.
    public static var summary: String {
        isEnabled
            ? "libxsmm \(version) (\(targetArchitecture)) for products whose B fits in \(maxOperandBytes / 1024) KiB and \(maxColumns) columns"
            : "libxsmm \(version) (\(targetArchitecture)) not used (\(generatesAVX2 ? "ZOO_LIBXSMM=off" : "no AVX2; ZOO_LIBXSMM=on to use it"))"
    }

    /// Runs row-major C = op(A)·B + β·C on libxsmm (see `BLAS.gemm`); false
    /// when libxsmm has no kernel for it (C untouched).
    @inline(__always)
    static func run(
        transA: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) -> Bool {
        zj_sgemm(transA ? 1 : 0, Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc)) != 0
    }
}
