import Testing

@testable import NumericCore

@Suite struct RandomStreamTests {
    @Test func sameSeedAndStreamGiveTheSameSequence() {
        var a = RandomStream(seed: 42, purpose: .noise)
        var b = RandomStream(seed: 42, purpose: .noise)
        for _ in 0..<1000 { #expect(a.next() == b.next()) }
    }

    @Test func streamsAndSeedsDiffer() {
        var a = RandomStream(seed: 42, purpose: .noise)
        var b = RandomStream(seed: 42, purpose: .shuffle)
        var c = RandomStream(seed: 43, purpose: .noise)
        let xa = (0..<8).map { _ in a.next() }
        let xb = (0..<8).map { _ in b.next() }
        let xc = (0..<8).map { _ in c.next() }
        #expect(xa != xb)
        #expect(xa != xc)
    }

    @Test func stateRoundTripsExactly() {
        var a = RandomStream(seed: 7, stream: 3)
        for _ in 0..<17 { _ = a.next() }
        guard var b = RandomStream(state: a.stateWords) else {
            Issue.record("state rejected")
            return
        }
        for _ in 0..<100 { #expect(a.next() == b.next()) }
        #expect(RandomStream(state: [0, 0, 0, 0]) == nil)
        #expect(RandomStream(state: [1, 2, 3]) == nil)
    }

    @Test func normalDrawsHaveUnitMomentsWithinSamplingError() {
        var r = RandomStream(seed: 1, purpose: .noise)
        let n = 200_000
        var x = [Float](repeating: 0, count: n)
        x.withUnsafeMutableBufferPointer { r.fillNormal($0.baseAddress!, count: n) }
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
        // Standard errors: mean 1/√n ≈ 0.0022, variance √(2/n) ≈ 0.0032; allow 5 of them.
        #expect(abs(mean) < 0.011)
        #expect(abs(variance - 1) < 0.016)
        let tail = x.filter { abs($0) > 1.96 }.count
        #expect(abs(Double(tail) / Double(n) - 0.05) < 0.003)
    }

    /// Drawing the words first and transforming them in pieces gives
    /// `fillNormal`'s bits, for odd counts and pieces that split a pair, and
    /// leaves the stream where `fillNormal` leaves it.
    @Test(arguments: [1, 7, 2560, 2561])
    func normalsFromWordsMatchFillNormalInAnySplit(count: Int) {
        var a = RandomStream(seed: 4, purpose: .noise)
        var b = a
        var expected = [Float](repeating: 0, count: count)
        expected.withUnsafeMutableBufferPointer { a.fillNormal($0.baseAddress!, count: count) }
        var words = [UInt64](repeating: 0, count: count + 2)
        words.withUnsafeMutableBufferPointer { b.normalWords(count: count, into: $0.baseAddress!) }
        #expect(a == b)
        for pieces in [1, 2, 3, 5] {
            var out = [Float](repeating: .nan, count: count)
            out.withUnsafeMutableBufferPointer { o in
                words.withUnsafeBufferPointer { w in
                    for t in 0..<pieces {
                        RandomStream.normals(
                            fromWords: w.baseAddress!, count: count, range: (count * t / pieces)..<(count * (t + 1) / pieces),
                            into: o.baseAddress!)
                    }
                }
            }
            #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "\(pieces) pieces")
        }
    }

    @Test func boundedIntegersAreInRangeAndUniform() {
        var r = RandomStream(seed: 9, stream: 1)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[r.nextInt(below: 7)] += 1 }
        // Each count ~ Binomial(70000, 1/7): sd ≈ 92.6; allow 5 sd.
        for c in counts { #expect(abs(c - 10_000) < 463) }
    }

    @Test func permutationIsAPermutation() {
        var r = RandomStream(seed: 3, purpose: .shuffle)
        var p = [Int64](repeating: -1, count: 1000)
        p.withUnsafeMutableBufferPointer { r.permutation($0.baseAddress!, count: 1000) }
        #expect(Set(p) == Set((0..<1000).map(Int64.init)))
        #expect(p != (0..<1000).map(Int64.init))
    }

    @Test func uniform24BitsAreInRange() {
        var r = RandomStream(seed: 5, stream: 5)
        var u = [UInt32](repeating: 0, count: 10_001)
        u.withUnsafeMutableBufferPointer { r.fillUniform24($0.baseAddress!, count: $0.count) }
        #expect(u.allSatisfy { $0 < 1 << 24 })
        let mean = u.reduce(0.0) { $0 + Double($1) } / Double(u.count) / Double(1 << 24)
        #expect(abs(mean - 0.5) < 0.015)
    }
}
