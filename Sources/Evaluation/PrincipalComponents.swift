/// Principal components of points in d dimensions, from their covariance
/// accumulated in double (one pass, any number of points) and a cyclic Jacobi
/// eigen-decomposition (d is a latent size: tens, not thousands).
public struct PrincipalComponents: Sendable {
    public let dimension: Int
    private var count = 0
    private var sum: [Double]
    private var crossProducts: [Double]

    public init(dimension: Int) {
        self.dimension = dimension
        sum = [Double](repeating: 0, count: dimension)
        crossProducts = [Double](repeating: 0, count: dimension * dimension)
    }

    public mutating func add(_ point: UnsafePointer<Float>) {
        count += 1
        let d = dimension
        for i in 0..<d {
            let a = Double(point[i])
            sum[i] += a
            for j in i..<d { crossProducts[i * d + j] += a * Double(point[j]) }
        }
    }

    public var mean: [Double] { sum.map { $0 / Double(max(count, 1)) } }

    /// Covariance (divided by n), symmetric d×d, row-major.
    public var covariance: [Double] {
        let d = dimension
        let m = mean
        let n = Double(max(count, 1))
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                let v = crossProducts[i * d + j] / n - m[i] * m[j]
                c[i * d + j] = v
                c[j * d + i] = v
            }
        }
        return c
    }

    /// Eigenvalues (descending) and unit eigenvectors (row k is the k-th component).
    public func components() -> (variances: [Double], vectors: [[Double]]) {
        let d = dimension
        var a = covariance
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<d { for j in (i + 1)..<max(i + 1, d) { off += a[i * d + j] * a[i * d + j] } }
            if off < 1e-30 { break }
            for p in 0..<d {
                for q in (p + 1)..<max(p + 1, d) where abs(a[p * d + q]) > 1e-300 {
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * a[p * d + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<d {
                        let akp = a[k * d + p]
                        let akq = a[k * d + q]
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let apk = a[p * d + k]
                        let aqk = a[q * d + k]
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p]
                        let vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<d).sorted { a[$0 * d + $0] > a[$1 * d + $1] }
        return (order.map { a[$0 * d + $0] }, order.map { k in (0..<d).map { v[$0 * d + k] } })
    }
}

extension PrincipalComponents {
    /// Rows of `points` (`dimension` values each) projected onto the first two
    /// principal components of what was added, after centring; with the share
    /// of the total variance each component explains, in percent.
    public func projectOntoFirstTwo(_ points: [Float]) -> (x: [Float], y: [Float], percent: (Double, Double)) {
        let L = dimension
        let n = points.count / max(L, 1)
        let (variances, vectors) = components()
        var x = [Float](repeating: 0, count: n)
        var y = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var a = 0.0
            var b = 0.0
            for j in 0..<L {
                let c = Double(points[i * L + j]) - mean[j]
                a += c * vectors[0][j]
                b += c * vectors[1][j]
            }
            x[i] = Float(a)
            y[i] = Float(b)
        }
        let total = max(variances.reduce(0, +), 1e-300)
        return (x, y, (100 * variances[0] / total, 100 * variances[1] / total))
    }
}
