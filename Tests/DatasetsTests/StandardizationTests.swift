import Foundation
import Testing

@testable import Datasets

@Suite struct StandardizationTests {
    /// Three examples of three features: one varying, one constant, one of bytes' scale.
    let set = ImageSet(
        split: .train, shape: [3], values: .floats([1, 5, 0, 2, 5, 0.5, 6, 5, 1]), labels: [0, 0, 0], hasLabels: false)

    @Test func fitsThePopulationMeanAndStandardDeviation() {
        let s = Standardization.fit(set)
        #expect(s.mean == [3, 5, 0.5])
        // Population variance of (1, 2, 6): ((−2)² + (−1)² + 3²) / 3 = 14/3.
        #expect(abs(s.std[0] - Float((14.0 / 3).squareRoot())) < 1e-6)
        #expect(s.std[1] == 1, "a constant feature keeps a scale of 1")
        #expect(abs(s.std[2] - Float((1.0 / 6).squareRoot())) < 1e-6)
    }

    @Test func applyThenUndoIsTheIdentity() {
        let s = Standardization.fit(set)
        let standardized = s.apply(to: set)
        guard case .floats(var v) = standardized.values else {
            Issue.record("standardized data must be floats")
            return
        }
        #expect(abs(v[0] + v[3] + v[6]) < 1e-6 && v[1] == 0 && v[4] == 0)
        s.undo(&v)
        for (a, b) in zip(v, [1, 5, 0, 2, 5, 0.5, 6, 5, 1] as [Float]) { #expect(abs(a - b) < 1e-5) }
    }

    @Test func bytesAreStandardizedAsTheModelSeesThem() {
        let bytes = ImageSet(split: .train, shape: [1], values: .bytes([0, 255]), labels: [0, 0], hasLabels: false)
        let s = Standardization.fit(bytes)
        #expect(s.mean == [0.5] && s.std == [0.5])
        #expect(s.apply(to: bytes).values == .floats([-1, 1]))
    }
}
