import CKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A seeded pseudo-random stream: xoshiro256** (Blackman & Vigna), seeded
/// through SplitMix64 from a (seed, stream) pair so that independent streams
/// (initialization, shuffling, noise, binarization, ...) never overlap in practice.
///
/// The whole state is four `UInt64`s (`state`), which a checkpoint stores so that
/// a resumed run draws exactly the numbers the uninterrupted run would have drawn.
public struct RandomStream: Equatable, Sendable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// Well-known stream identifiers; any other `UInt64` works too.
    public enum Purpose: UInt64, CaseIterable, Sendable {
        case initialization = 1
        case shuffle = 2
        case noise = 3
        case binarization = 4
        case evaluation = 5
        case testBinarization = 6
        case sampling = 7
        case importanceSampling = 8
        case embedding = 9
        case validationSplit = 10
        case testSplit = 11
    }

    public init(seed: UInt64, stream: UInt64) {
        var sm = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public init(seed: UInt64, purpose: Purpose, index: UInt64 = 0) {
        self.init(seed: seed, stream: purpose.rawValue &* 0x1_0000_0000 &+ index)
    }

    /// Restores a stream from a saved state. All-zero is not a valid state.
    public init?(state words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        state = (words[0], words[1], words[2], words[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: RandomStream, b: RandomStream) -> Bool { a.stateWords == b.stateWords }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform on [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform on (0, 1] with 53 random bits (safe to take the log of).
    @inline(__always)
    public mutating func nextOpenDouble() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// Uniform integer in [0, bound), unbiased (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Fills `out` with 24-bit uniform integers, two per 64-bit draw.
    public mutating func fillUniform24(_ out: UnsafeMutablePointer<UInt32>, count: Int) {
        var i = 0
        while i + 1 < count {
            let r = next()
            out[i] = UInt32(truncatingIfNeeded: r >> 40)
            out[i + 1] = UInt32(truncatingIfNeeded: (r >> 8) & 0xFF_FFFF)
            i += 2
        }
        if i < count { out[i] = UInt32(truncatingIfNeeded: next() >> 40) }
    }

    /// The words `fillNormal(_:count:)` would draw for `count` values (two per
    /// pair of values), drawn into `words` (room for count + 1): the cheap,
    /// sequential part of `fillNormal`. `normals(fromWords:count:range:into:)`
    /// then gives the same values, a range at a time, on any thread.
    public mutating func normalWords(count: Int, into words: UnsafeMutablePointer<UInt64>) {
        for i in 0..<(2 * ((count + 1) / 2)) { words[i] = next() }
    }

    /// Values `range` (within 0..<count) of what `fillNormal(_:count:)` writes,
    /// from the words `normalWords(count:into:)` drew: the same bits (the same
    /// double-precision Box–Muller), so splitting a fill across threads does not
    /// change it.
    public static func normals(
        fromWords words: UnsafePointer<UInt64>, count: Int, range: Range<Int>, into out: UnsafeMutablePointer<Float>
    ) {
        var i = range.lowerBound & ~1
        while i < range.upperBound {
            let (a, b) = boxMuller(words[i], words[i + 1])
            if i >= range.lowerBound { out[i] = a }
            if i + 1 < range.upperBound && i + 1 < count { out[i + 1] = b }
            i += 2
        }
    }

    /// Two standard normals from two words (Box–Muller in double precision):
    /// u1 on (0, 1] from the first (as `nextOpenDouble`), u2 on [0, 1) from the second.
    @inline(__always)
    private static func boxMuller(_ first: UInt64, _ second: UInt64) -> (Float, Float) {
        let u1 = Double((first >> 11) + 1) * 0x1p-53
        let u2 = Double(second >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (Float(r * cos(angle)), Float(r * sin(angle)))
    }

    /// Fills `out` with standard normal draws (Box–Muller in double precision;
    /// one pair of uniforms gives two normals; an odd count discards the last).
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i < count {
            let first = next()
            let (a, b) = Self.boxMuller(first, next())
            out[i] = a
            if i + 1 < count { out[i + 1] = b }
            i += 2
        }
    }

    /// Fills `out` with `2 * pairs` standard normal draws through the vectorized
    /// Box–Muller kernel (float precision, ~1e-7 relative error, |z| < 6.67), one
    /// 64-bit draw per pair written to `bits` first; draws 2i and 2i + 1 come
    /// from the stream's i-th word, so splitting a run into blocks of whole
    /// pairs does not change the draws. About 20x faster than
    /// `fillNormal`; used where billions of draws are needed (importance sampling).
    public mutating func fillNormalFast(_ out: UnsafeMutablePointer<Float>, pairs: Int, bits: UnsafeMutablePointer<UInt64>) {
        for i in 0..<pairs { bits[i] = next() }
        zk_normal(bits, pairs, out)
    }

    /// A uniform random permutation of 0..<n (Fisher–Yates) written into `out`.
    public mutating func permutation(_ out: UnsafeMutablePointer<Int64>, count n: Int) {
        for i in 0..<n { out[i] = Int64(i) }
        if n < 2 { return }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            let t = out[i]
            out[i] = out[j]
            out[j] = t
        }
    }
}
