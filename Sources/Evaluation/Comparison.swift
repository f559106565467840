/// Models side by side (`zoo compare`): one entry per checkpoint, grouped so
/// that only figures of the same data in the same units are ranked together.
///
/// Two −ELBO or NLL figures are comparable only when they are of the same
/// images (the same split of the same data, by fingerprint when evaluated now)
/// and measure the same kind of quantity: a probability of binarized pixels,
/// a Bernoulli cross-entropy of continuous pixels (not a normalized density),
/// a density of continuous pixels, a density of standardized features (other
/// units), and for conditional models p(x | y) rather than p(x).
public enum Comparison {
    /// The figure models are ranked by (lower is better).
    public enum Metric: String, Sendable, CaseIterable {
        case elbo, nll
    }

    /// One checkpoint's row.
    public struct Entry: Sendable, Equatable {
        public var checkpoint: String
        public var recipe: String?
        public var architecture: String
        public var parameters: Int
        public var epochs: Int
        /// What the figures are of: the data and split, said for people.
        public var data: String
        /// Equal for figures of the same images (path, split, limit, hold-out, fingerprint).
        public var dataKey: String
        /// What the figures measure (see `Comparison.units`).
        public var units: String
        public var negativeELBO: Double?
        public var elboStandardError: Double?
        public var nll: Double?
        public var nllStandardError: Double?
        /// Bits per dimension of the ranking figure (NLL when there is one, else −ELBO).
        public var bitsPerDim: Double?
        public var activeUnits: Int?
        public var latentDim: Int
        public var secondsPerEpoch: Double?
        /// "evaluated" (computed now) or "history" (the checkpoint's last test loss).
        public var source: String

        public init(
            checkpoint: String, recipe: String?, architecture: String, parameters: Int, epochs: Int, data: String, dataKey: String,
            units: String, negativeELBO: Double?, elboStandardError: Double?, nll: Double?, nllStandardError: Double?,
            bitsPerDim: Double?, activeUnits: Int?, latentDim: Int, secondsPerEpoch: Double?, source: String
        ) {
            self.checkpoint = checkpoint
            self.recipe = recipe
            self.architecture = architecture
            self.parameters = parameters
            self.epochs = epochs
            self.data = data
            self.dataKey = dataKey
            self.units = units
            self.negativeELBO = negativeELBO
            self.elboStandardError = elboStandardError
            self.nll = nll
            self.nllStandardError = nllStandardError
            self.bitsPerDim = bitsPerDim
            self.activeUnits = activeUnits
            self.latentDim = latentDim
            self.secondsPerEpoch = secondsPerEpoch
            self.source = source
        }

        public func value(_ metric: Metric) -> Double? { metric == .nll ? nll : negativeELBO }
    }

    /// Entries of the same data and units, best first.
    public struct Group: Sendable, Equatable {
        public var data: String
        public var units: String
        public var entries: [Entry]
    }

    /// What a model's figures measure, from its decoder and data handling.
    public static func units(likelihood: String, binarized: Bool, standardized: Bool, conditional: Bool) -> String {
        var u: String
        switch likelihood {
        case "bernoulli":
            u = binarized ? "nats: −log probability of binarized pixels" : "nats: Bernoulli cross-entropy of [0, 1] pixels (not a density)"
        case "continuous-bernoulli": u = "nats: −log density of [0, 1] pixels (continuous Bernoulli)"
        default: u = "nats: −log density of the values (Gaussian)"
        }
        if standardized { u += ", standardized features" }
        if conditional { u += ", conditional on the label: p(x | y)" }
        return u
    }

    /// Groups `entries` by data and units (in order of first appearance) and
    /// sorts each group by `metric`, lowest first; entries without the figure
    /// come last, in their given order.
    public static func groups(_ entries: [Entry], by metric: Metric) -> [Group] {
        var order: [String] = []
        var members: [String: [Entry]] = [:]
        for e in entries {
            let key = e.dataKey + "\u{1}" + e.units
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(e)
        }
        return order.map { key in
            let group = members[key] ?? []
            let ranked = group.enumerated().sorted { a, b in
                switch (a.element.value(metric), b.element.value(metric)) {
                case (let x?, let y?): return x != y ? x < y : a.offset < b.offset
                case (.some, nil): return true
                case (nil, .some): return false
                case (nil, nil): return a.offset < b.offset
                }
            }.map(\.element)
            return Group(data: group[0].data, units: group[0].units, entries: ranked)
        }
    }

    /// Why the groups are not ranked together (nil for one group): which
    /// property differs between them.
    public static func whySeparate(_ groups: [Group]) -> String? {
        guard groups.count > 1 else { return nil }
        var reasons: [String] = []
        if Set(groups.map(\.data)).count > 1 || Set(groups.flatMap { $0.entries.map(\.dataKey) }).count > 1 {
            reasons.append("they were evaluated on different data (a figure of other images is no ranking)")
        }
        if Set(groups.map(\.units)).count > 1 {
            reasons.append("their figures are in different units (\(Set(groups.map(\.units)).sorted().joined(separator: "; ")))")
        }
        return "not ranked together: " + reasons.joined(separator: ", and ") + "; each group is ranked on its own"
    }
}
