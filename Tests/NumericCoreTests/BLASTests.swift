import Testing

@testable import NumericCore

@Suite struct BLASTests {
    /// Reference product in double precision.
    func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * m + i] : a[i * k + p]
                    let y = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(x) * Double(y)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesNaiveProduct(transA: Bool, transB: Bool) {
        let m = 13
        let n = 7
        let k = 29
        var r = RandomStream(seed: 11, stream: 0)
        let a = (0..<(m * k)).map { _ in r.nextFloat() * 2 - 1 }
        let b = (0..<(k * n)).map { _ in r.nextFloat() * 2 - 1 }
        var c = [Float](repeating: 0.5, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.gemm(
                        transA: transA, transB: transB, m: m, n: n, k: k, alpha: 2,
                        a: pa.baseAddress!, lda: transA ? m : k, b: pb.baseAddress!, ldb: transB ? k : n,
                        beta: 1, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        let ref = naive(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
        for i in 0..<(m * n) {
            // Float32 accumulation over k = 29 terms of magnitude ≤ 1: error ≲ 1e-5.
            #expect(abs(Double(c[i]) - (2 * ref[i] + 0.5)) < 1e-4)
        }
    }
}

@Suite struct TensorAllocationTests {
    /// Memory that cannot be had, or a shape whose size overflows, is a thrown error, never a trap.
    @Test func impossibleTensorsThrow() {
        #expect(throws: TensorError.self) { try Tensor(shape: [1 << 40, 1 << 30]) }  // overflows Int
        #expect(throws: TensorError.self) { try Tensor(shape: [-1, 4]) }
        #expect(throws: TensorError.self) { try Tensor(shape: [1 << 44]) }  // 64 TiB: posix_memalign refuses
        #expect(throws: TensorError.self) { try Tensor([1, 2, 3], shape: [2]) }
    }
}
