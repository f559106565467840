import Evaluation
import Foundation
import Testing

/// The latent plane `zoo sample --manifold` decodes: prior quantiles, z₀ to
/// the right and z₁ upwards; Φ⁻¹ against reference values (Python's statistics.NormalDist) to 1e-9.
@Suite struct LatentGridsTests {
    @Test func normalQuantileMatchesReferenceValues() {
        // Φ⁻¹ at these probabilities (statistics.NormalDist().inv_cdf, Wichura's AS241).
        for (p, x) in [
            (0.5, 0.0), (0.975, 1.959963984540054), (0.001, -3.090232306167813), (0.25, -0.6744897501960817),
            (1e-10, -6.361340902404056), (0.999999, 4.753424308817089),
        ] {
            #expect(abs(LatentGrids.normalQuantile(p) - x) < 1e-9 * max(1, abs(x)), "Φ⁻¹(\(p))")
        }
    }

    @Test func manifoldIsAGridOfPriorQuantiles() {
        let z = LatentGrids.manifold(steps: 4)
        #expect(z.count == 4 * 4 * 2)
        let q = [-1.1503493803760079, -0.31863936396437514, 0.31863936396437514, 1.1503493803760079].map(Float.init)
        for r in 0..<4 {
            for c in 0..<4 {
                #expect(abs(z[(r * 4 + c) * 2] - q[c]) < 1e-6 && abs(z[(r * 4 + c) * 2 + 1] - q[3 - r]) < 1e-6, "tile \(r), \(c)")
            }
        }
    }
}
