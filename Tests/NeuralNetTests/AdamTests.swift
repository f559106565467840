import NumericCore
import TestSupport
import Testing

@testable import NeuralNet

@Suite struct AdamTests {
    func model() throws -> VAE {
        let vae = try VAE(config: ModelConfig(inputDim: 8, hidden: [6], latentDim: 2), maxRows: 4)
        var r = RandomStream(seed: 1, stream: 9)
        vae.initialize(using: &r)
        for i in 0..<32 { vae.input[i] = r.nextFloat() }
        r.fillNormal(vae.epsilon.pointer, count: 8)
        return vae
    }

    /// Updating layer by layer during backward is bit-identical to one update after it.
    @Test func layerwiseUpdateIsBitIdenticalToWholeUpdate() throws {
        let a = try model()
        let b = try model()
        let oa = try Adam(parameterCount: a.parameters.count)
        let ob = try Adam(parameterCount: b.parameters.count)
        for _ in 0..<5 {
            a.forward(rows: 4, computeGradients: true)
            a.backward(rows: 4)
            oa.update(a.parameters)
            b.forward(rows: 4, computeGradients: true)
            ob.beginStep()
            b.backward(rows: 4) { ob.update(b.parameters, range: $0) }
        }
        #expect(firstDifference(a.parameters.values.array, b.parameters.values.array) == nil)
        #expect(firstDifference(oa.firstMoment.array, ob.firstMoment.array) == nil)
        #expect(firstDifference(oa.secondMoment.array, ob.secondMoment.array) == nil)
        #expect(oa.step == 5 && ob.step == 5)
    }
}
