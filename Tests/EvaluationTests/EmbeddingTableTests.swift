import Datasets
import Evaluation
import Foundation
import Testing

@Suite struct EmbeddingTableTests {
    let posterior: [Float] = [0.5, -1.25, 0.1, -2]  // μ = (0.5, −1.25), log σ² = (0.1, −2)

    @Test func headerAndRowsHaveTheDocumentedColumns() {
        var t = EmbeddingTable(latentDim: 2, logvar: true, samples: 2, seed: 7)
        #expect(t.csvHeader == "index,split,label,mu_0,mu_1,logvar_0,logvar_1,z_0_0,z_0_1,z_1_0,z_1_1\r\n")
        var text = ""
        posterior.withUnsafeBufferPointer { t.appendCSVRow(to: &text, index: 3, split: .test, label: 9, posterior: $0.baseAddress!) }
        #expect(text.hasPrefix("3,test,9,0.5,-1.25,0.1,-2.0,") && text.hasSuffix("\r\n"))
        let fields = text.dropLast(2).split(separator: ",")
        #expect(fields.count == 11)
        // Each draw is μ + σ·ε: with |ε| < 6, within 6σ of μ.
        let z = fields[7...].map { Float($0)! }
        let sigma = posterior[2...].map { expf(0.5 * $0) }
        for s in 0..<2 { for j in 0..<2 { #expect(abs(z[2 * s + j] - posterior[j]) < 6 * sigma[j]) } }
    }

    /// An image's draws depend on the seed, its split and its index only.
    @Test func drawsArePerImage() {
        func row(_ index: Int, _ split: Split, seed: UInt64 = 7) -> String {
            var t = EmbeddingTable(latentDim: 2, logvar: false, samples: 3, seed: seed)
            var text = ""
            posterior.withUnsafeBufferPointer {
                t.appendCSVRow(to: &text, index: index, split: split, label: 0, posterior: $0.baseAddress!)
            }
            return String(text.split(separator: ",", maxSplits: 3)[3])
        }
        #expect(row(5, .train) == row(5, .train))
        #expect(row(5, .train) != row(6, .train) && row(5, .train) != row(5, .test) && row(5, .train) != row(5, .train, seed: 8))
        var t = EmbeddingTable(latentDim: 2, logvar: false, samples: 3, seed: 7)
        var first = ""
        var both = ""
        posterior.withUnsafeBufferPointer {
            t.appendCSVRow(to: &first, index: 5, split: .train, label: 0, posterior: $0.baseAddress!)
            t.appendCSVRow(to: &both, index: 4, split: .train, label: 0, posterior: $0.baseAddress!)
            t.appendCSVRow(to: &both, index: 5, split: .train, label: 0, posterior: $0.baseAddress!)
        }
        #expect(both.hasSuffix(first))
    }

    @Test func tsvPairHoldsMeansAndMetadata() {
        let t = EmbeddingTable(latentDim: 2, logvar: false, samples: 0, seed: 1)
        var vectors = ""
        var metadata = EmbeddingTable.metadataHeader
        posterior.withUnsafeBufferPointer {
            t.appendTSVRows(vectors: &vectors, metadata: &metadata, index: 0, split: .train, label: 4, posterior: $0.baseAddress!)
        }
        #expect(vectors == "0.5\t-1.25\n" && metadata == "index\tsplit\tlabel\n0\ttrain\t4\n")
    }

    @Test func plotShowsTheLatentsOrTheirFirstTwoComponents() {
        let one = PlotCoordinates(points: [1, 2, 3], latentDim: 1, pca: PrincipalComponents(dimension: 1))
        #expect(one.x == [1, 2, 3] && one.y == [0, 0, 0] && one.xLabel == "Z0")
        let two = PlotCoordinates(points: [1, 2, 3, 4], latentDim: 2, pca: PrincipalComponents(dimension: 2))
        #expect(two.x == [1, 3] && two.y == [2, 4] && two.yLabel == "Z1")
        // Points along (1, 1, 0) spread far more than along anything else: PC1 carries nearly all variance.
        var pca = PrincipalComponents(dimension: 3)
        var points: [Float] = []
        for i in 0..<20 {
            let t = Float(i) - 9.5
            let row: [Float] = [t, t, 0.01 * Float(i % 2)]
            row.withUnsafeBufferPointer { pca.add($0.baseAddress!) }
            points += row
        }
        let three = PlotCoordinates(points: points, latentDim: 3, pca: pca)
        #expect(three.x.count == 20 && three.xLabel == "PC1 (100%)" && three.yLabel == "PC2 (0%)")
    }
}
