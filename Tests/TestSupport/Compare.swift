/// Bitwise comparison for determinism checks on large arrays: nil when `a` and
/// `b` are bit-identical, otherwise where they first differ.
///
/// Use `#expect(firstDifference(a, b) == nil)` rather than `#expect(a == b)`:
/// on failure Swift Testing diffs the two collections, which for arrays of
/// 10^5 elements takes minutes in a debug build and would stall CI.
public func firstDifference(_ a: [Float], _ b: [Float]) -> String? {
    guard a.count == b.count else { return "counts differ: \(a.count) and \(b.count)" }
    for i in a.indices where a[i].bitPattern != b[i].bitPattern {
        return "first difference at [\(i)]: \(a[i]) and \(b[i])"
    }
    return nil
}

public func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> String? {
    guard a.count == b.count else { return "counts differ: \(a.count) and \(b.count)" }
    for i in a.indices where a[i] != b[i] { return "first difference at [\(i)]: \(a[i]) and \(b[i])" }
    return nil
}
