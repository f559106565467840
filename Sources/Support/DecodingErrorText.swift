import Foundation

/// A `Decodable` failure in words: what is wrong and at which key path
/// ("missing key sigma at model"), without Swift's context dump.
public func describe(decodingError error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func at(_ c: DecodingError.Context) -> String {
        let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return path.isEmpty ? "" : " at " + path.replacingOccurrences(of: ".[", with: "[")
    }
    switch e {
    case .keyNotFound(let key, let c): return "missing key \(key.stringValue)\(at(c))"
    case .typeMismatch(_, let c): return "wrong type\(at(c)): \(c.debugDescription)"
    case .valueNotFound(_, let c): return "missing value\(at(c))"
    case .dataCorrupted(let c): return "invalid\(at(c)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
}
