#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A dense, row-major float32 buffer with a shape, 64-byte aligned.
///
/// `Tensor` owns its memory and frees it in `deinit`; `View`s borrow part of it.
/// It is a reference type on purpose: the training loop allocates its tensors
/// once and reuses them for every batch, so the steady state allocates nothing.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// A zero-filled tensor of the given shape.
    /// - Throws: `TensorError` for a negative or overflowing shape, or when
    ///   the memory cannot be had.
    public init(shape: [Int]) throws {
        var count = 1
        for d in shape {
            guard d >= 0, case (let p, false) = count.multipliedReportingOverflow(by: d), p <= Int.max / 8 else {
                throw TensorError.badShape(shape)
            }
            count = p
        }
        self.shape = shape
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { throw TensorError.outOfMemory(bytes: bytes, shape: shape) }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A tensor holding a copy of `values`, with `shape` (default: one dimension).
    public convenience init(_ values: [Float], shape: [Int]? = nil) throws {
        try self.init(shape: shape ?? [values.count])
        guard count == values.count else { throw TensorError.badShape(self.shape) }
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { free(pointer) }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    public subscript(index: Int) -> Float {
        get {
            precondition(index >= 0 && index < count)
            return pointer[index]
        }
        set {
            precondition(index >= 0 && index < count)
            pointer[index] = newValue
        }
    }

    /// The contents as an array (tests, small tensors).
    public var array: [Float] { Array(buffer) }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy between tensors of \(other.count) and \(count) elements")
        pointer.update(from: other.pointer, count: count)
    }
}

/// A window into a `Tensor`'s storage: `count` floats from `offset`, with a shape.
/// Parameters of a model are views into one flat buffer so that the optimizer
/// can update all of them in one pass.
public struct View {
    public let base: Tensor
    public let offset: Int
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }

    public init(_ base: Tensor, offset: Int, shape: [Int]) {
        let count = shape.reduce(1, *)
        precondition(offset >= 0 && offset + count <= base.count, "view out of range")
        self.base = base
        self.offset = offset
        self.shape = shape
    }

    public var pointer: UnsafeMutablePointer<Float> { base.pointer + offset }
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
    public var array: [Float] { Array(buffer) }
}

/// A tensor that cannot be made.
public enum TensorError: Error, CustomStringConvertible, Sendable {
    case badShape([Int])
    case outOfMemory(bytes: Int, shape: [Int])

    public var description: String {
        switch self {
        case .badShape(let s):
            return "a tensor of shape \(s) cannot exist (negative or overflowing size, or a size that does not fit its values)"
        case .outOfMemory(let bytes, let s):
            return
                "out of memory: a tensor of shape \(s) needs \(bytes >> 20) MiB that the system would not give; use a smaller model, batch or chunk"
        }
    }
}
