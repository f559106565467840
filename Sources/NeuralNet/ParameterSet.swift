import NumericCore

/// All trainable parameters of a model in one flat float32 buffer, with a
/// second buffer of the same layout for their gradients.
///
/// Each parameter is a named `View` (names and shapes follow PyTorch's
/// `state_dict`: `fc1.weight` is [out, in]). One flat buffer lets the optimizer
/// update everything in a single vectorized pass, and lets layers that share an
/// input (the encoder's μ and log σ² heads) run as one matrix product.
public final class ParameterSet {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    /// Entries in storage order.
    public let entries: [Entry]
    /// Names in PyTorch `state_dict` order (the order of `Module.__init__`).
    public let stateDictOrder: [String]
    public let values: Tensor
    public let gradients: Tensor
    private let index: [String: Int]

    /// - Parameters:
    ///   - layout: (name, shape) in the order the flat buffer stores them.
    ///   - stateDictOrder: the same names in the order PyTorch lists them.
    public init(layout: [(String, [Int])], stateDictOrder: [String]) throws {
        var offset = 0
        var entries: [Entry] = []
        for (name, shape) in layout {
            entries.append(Entry(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        precondition(Set(stateDictOrder) == Set(entries.map(\.name)), "state_dict order must name every parameter once")
        self.entries = entries
        self.stateDictOrder = stateDictOrder
        self.values = try Tensor(shape: [offset])
        self.gradients = try Tensor(shape: [offset])
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// The same parameters (one shared value buffer) with gradients of their
    /// own: a worker that differentiates part of a batch on another thread.
    public init(sharingValuesOf other: ParameterSet) throws {
        entries = other.entries
        stateDictOrder = other.stateDictOrder
        values = other.values
        gradients = try Tensor(shape: [other.count])
        index = other.index
    }

    public var count: Int { values.count }

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    public func value(_ name: String) -> View {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        return View(values, offset: e.offset, shape: e.shape)
    }

    public func gradient(_ name: String) -> View {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        return View(gradients, offset: e.offset, shape: e.shape)
    }

    /// A view spanning several parameters that are adjacent in storage.
    func span(_ first: String, _ last: String, shape: [Int], of tensor: Tensor) -> View {
        guard let a = entry(first), let b = entry(last) else { preconditionFailure("no parameter \(first) or \(last)") }
        precondition(b.offset + b.count - a.offset == shape.reduce(1, *), "\(first)…\(last) are not adjacent")
        return View(tensor, offset: a.offset, shape: shape)
    }
}
