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
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor shape must be non-negative: \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            // Allocation failure of a model-sized buffer is not recoverable.
            preconditionFailure("out of memory allocating \(bytes) bytes")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A tensor holding a copy of `values`, with `shape` (default: one dimension).
    public convenience init(_ values: [Float], shape: [Int]? = nil) {
        self.init(shape: shape ?? [values.count])
        precondition(count == values.count, "shape \(self.shape) does not hold \(values.count) values")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { free(pointer) }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    public subscript(index: Int) -> Float {
        get { precondition(index >= 0 && index < count); return pointer[index] }
        set { precondition(index >= 0 && index < count); pointer[index] = newValue }
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
