import Testing

@testable import Evaluation

/// `Comparison` ranks only figures of the same data and units, lowest first,
/// entries without the figure last, and says what differs between groups.
@Suite struct ComparisonTests {
    static func entry(_ name: String, data: String = "d", units: String = "u", elbo: Double?, nll: Double? = nil) -> Comparison.Entry {
        Comparison.Entry(
            checkpoint: name, recipe: nil, architecture: "a", parameters: 1, epochs: 1, data: data, dataKey: data, units: units,
            negativeELBO: elbo, elboStandardError: nil, nll: nll, nllStandardError: nil, bitsPerDim: nil, activeUnits: nil,
            latentDim: 2, secondsPerEpoch: nil, source: "history")
    }

    @Test func oneGroupIsRankedLowestFirstWithMissingFiguresLast() {
        let entries = [
            Self.entry("b", elbo: 250, nll: 240), Self.entry("none", elbo: nil), Self.entry("a", elbo: 245, nll: 241),
            Self.entry("tie", elbo: 250, nll: nil),
        ]
        let byELBO = Comparison.groups(entries, by: .elbo)
        #expect(byELBO.count == 1 && byELBO[0].entries.map(\.checkpoint) == ["a", "b", "tie", "none"])
        #expect(Comparison.groups(entries, by: .nll)[0].entries.map(\.checkpoint) == ["b", "a", "none", "tie"])
        #expect(Comparison.whySeparate(byELBO) == nil)
    }

    @Test func otherDataAndOtherUnitsAreGroupedApartWithTheReason() {
        let entries = [
            Self.entry("x", elbo: 300), Self.entry("other-data", data: "e", elbo: 100), Self.entry("y", elbo: 200),
            Self.entry("other-units", units: "v", elbo: 50),
        ]
        let groups = Comparison.groups(entries, by: .elbo)
        #expect(groups.map { $0.entries.map(\.checkpoint) } == [["y", "x"], ["other-data"], ["other-units"]])
        let why = Comparison.whySeparate(groups) ?? ""
        #expect(why.hasPrefix("not ranked together:") && why.contains("different data") && why.contains("different units (u; v)"))
        #expect(Comparison.whySeparate(Comparison.groups([entries[0], entries[3]], by: .elbo))?.contains("different data") == false)
    }

    @Test func unitsNameWhatIsMeasured() {
        #expect(Comparison.units(likelihood: "bernoulli", binarized: true, standardized: false, conditional: false).contains("binarized"))
        #expect(
            Comparison.units(likelihood: "bernoulli", binarized: false, standardized: false, conditional: false).contains("not a density"))
        let g = Comparison.units(likelihood: "gaussian-linear", binarized: false, standardized: true, conditional: true)
        #expect(g.contains("density") && g.contains("standardized") && g.contains("p(x | y)"))
    }
}
