import CJITGEMM
import Testing

@testable import NumericCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct JITProductsTests {
    /// Row-major op(A)·B in double precision, op(A) = A (m × k, stride lda) or Aᵀ (A stored k × m).
    func naive(_ a: [Float], lda: Int, _ b: [Float], ldb: Int, m: Int, n: Int, k: Int, transA: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(b[p * ldb + j]) }
                c[i * n + j] = s
            }
        }
        return c
    }

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var r = RandomStream(seed: seed, stream: 0)
        return (0..<count).map { _ in r.nextFloat() * 2 - 1 }
    }

    /// A·B and Aᵀ·B with β 0 and 1, on sub-matrices (row strides wider than
    /// the rows), run by libxsmm, agree with a double-precision product.
    /// β = 0 overwrites C, NaN included.
    @Test(arguments: [(false, Float(0)), (false, 1), (true, 0), (true, 1)])
    func jitProductsMatchNaiveProduct(transA: Bool, beta: Float) {
        let (m, n, k) = (37, 50, 130)
        let lda = (transA ? m : k) + 3
        let ldb = n + 5
        let ldc = n + 2
        let a = random((transA ? k : m) * lda, seed: 1)
        let b = random(k * ldb, seed: 2)
        var c = [Float](repeating: beta == 0 ? .nan : 0.25, count: m * ldc)
        #expect(JITProducts.takes(transB: false, n: n, k: k, alpha: 1, beta: beta, enabled: true, maxOperandBytes: 1 << 20))
        let ran = c.withUnsafeMutableBufferPointer { pc in
            JITProducts.run(transA: transA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: pc.baseAddress!, ldc: ldc)
        }
        #expect(ran, "libxsmm made no kernel for a \(m)×\(n)×\(k) product")
        let ref = naive(a, lda: lda, b, ldb: ldb, m: m, n: n, k: k, transA: transA)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n { worst = max(worst, abs(Double(c[i * ldc + j]) - (ref[i * n + j] + (beta == 0 ? 0 : 0.25)))) }
            // The padding between rows is never written.
            for j in n..<ldc { #expect(c[i * ldc + j].isNaN == (beta == 0)) }
        }
        // Float32 accumulation over k = 130 terms of magnitude ≤ 1: error ≲ 130 · 2⁻²⁴ · 10 ≈ 1e-4.
        #expect(worst < 1e-4)
    }

    /// Computing the rows in two products, or the columns in two at a multiple
    /// of 16 (libxsmm's AVX-512 tail code rounds the last n mod 16 columns
    /// otherwise), gives the same bits as one product.
    @Test func splittingRowsOrColumnsKeepsTheBits() {
        let (m, n, k) = (64, 96, 200)
        let a = random(m * k, seed: 3)
        let b = random(k * n, seed: 4)
        var whole = [Float](repeating: 0, count: m * n)
        var parts = [Float](repeating: 0, count: m * n)
        whole.withUnsafeMutableBufferPointer { c in
            #expect(JITProducts.run(transA: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: c.baseAddress!, ldc: n))
        }
        parts.withUnsafeMutableBufferPointer { c in
            let c = c.baseAddress!
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    let (a, b) = (a.baseAddress!, b.baseAddress!)
                    // Rows 0..<23, then rows 23..<64 in two column blocks (48 and 48).
                    #expect(JITProducts.run(transA: false, m: 23, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: c, ldc: n))
                    for (first, width) in [(0, 48), (48, 48)] {
                        #expect(
                            JITProducts.run(
                                transA: false, m: m - 23, n: width, k: k, a: a + 23 * k, lda: k, b: b + first, ldb: n, beta: 0,
                                c: c + 23 * n + first, ldc: n))
                    }
                }
            }
        }
        #expect(whole == parts)
    }

    /// The same product twice gives the same bits (the kernel is made once and kept).
    @Test func aProductIsDeterministic() {
        let (m, n, k) = (40, 400, 64)
        let a = random(k * m, seed: 5)
        let b = random(k * n, seed: 6)
        func product(startingFrom value: Float) -> [Float] {
            var c = [Float](repeating: value, count: m * n)
            c.withUnsafeMutableBufferPointer { c in
                BLAS.gemm(transA: true, m: m, n: n, k: k, a: a, lda: m, b: b, ldb: n, c: c.baseAddress!, ldc: n)
            }
            return c
        }
        #expect(product(startingFrom: 0) == product(startingFrom: 1))
    }

    /// Which products go to libxsmm: A·B and Aᵀ·B with α = 1, β 0 or 1, k > 0
    /// and B (k × n floats) within the bounds; never with Bᵀ, nor when switched off.
    @Test func theRuleTakesOnlyWhatLibxsmmRunsWell() {
        let bound = 1 << 20
        func takes(transB: Bool = false, n: Int = 400, k: Int = 128, alpha: Float = 1, beta: Float = 0, enabled: Bool = true) -> Bool {
            JITProducts.takes(transB: transB, n: n, k: k, alpha: alpha, beta: beta, enabled: enabled, maxOperandBytes: bound)
        }
        #expect(takes())
        #expect(takes(beta: 1))
        #expect(takes(n: 1024, k: 256))  // B of exactly 1 MiB
        #expect(!takes(n: 1025, k: 256))
        #expect(!takes(n: 3136, k: 256))  // conv-vae's linear layer's dx: half OpenBLAS's rate on libxsmm
        #expect(!takes(n: 3136, k: 64))  // its weight gradient: B 800 KB but 3136 wide
        #expect(!takes(transB: true))
        #expect(!takes(alpha: 2))
        #expect(!takes(beta: 0.5))
        #expect(!takes(k: 0))
        #expect(!takes(enabled: false))
        #expect(JITProducts.maxOperandBytes > 0)
    }

    /// `ZOO_LIBXSMM`: on and off in any case; unset or empty is the rule;
    /// anything else is the rule too, with a note that names the value.
    @Test func theSwitchTakesOnOrOffAndNamesAnythingElse() throws {
        #expect(JITProducts.Setting(nil) == .rule)
        #expect(JITProducts.Setting("") == .rule)
        #expect(JITProducts.Setting("on") == .on)
        #expect(JITProducts.Setting("OFF") == .off)
        #expect(JITProducts.Setting("Off") == .off)
        #expect(JITProducts.Setting("yes") == .unknown("yes"))
        #expect(JITProducts.problem(.off, enabled: false) == nil)
        #expect(JITProducts.problem(.rule, enabled: true) == nil)
        let note = try #require(JITProducts.problem(.unknown("0ff"), enabled: true))
        #expect(note.hasPrefix("ZOO_LIBXSMM=0ff is neither on nor off: ignored"))
        #expect(note.contains("(this CPU has AVX2)"))
        #expect(JITProducts.problem(.unknown("1"), enabled: false)?.contains("nowhere here") == true)
    }

    /// Without `ZOO_LIBXSMM`, libxsmm runs products exactly where it generates AVX2 code or wider.
    @Test func libxsmmIsOnFromAVX2Up() throws {
        try #require(getenv("ZOO_LIBXSMM") == nil, "ZOO_LIBXSMM is set for this run")
        #expect(JITProducts.isEnabled == (zj_target_is_avx2() != 0))
        if zj_target_is_avx512() != 0 { #expect(JITProducts.isEnabled) }
        #expect(JITProducts.summary.hasPrefix("libxsmm \(JITProducts.version) (\(JITProducts.targetArchitecture))"))
        #expect(JITProducts.summary.contains("not used") == !JITProducts.isEnabled)
    }
}
