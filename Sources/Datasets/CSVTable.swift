import CSV

/// Examples from a CSV table with a header row (RFC 4180 quoting, parsed by
/// yaslab/CSV.swift): every numeric column is a feature, `labelColumn` names
/// the class label. A column is numeric when its first row's cell is a
/// number; every later cell of it must then be a finite number too. Other
/// columns are left out, and the description says which.
public enum CSVTable {
    /// Largest table read, 1 GiB.
    public static let maximumBytes = 1 << 30

    public struct Loaded {
        public let examples: ImageSet
        public let description: String
        /// The label strings in index order, when labels are not plain integers.
        public let classNames: [String]?
    }

    /// - Throws: `DatasetError` naming the file, and the row and column of a bad cell.
    public static func load(path: String, labelColumn: String?) throws -> Loaded {
        let bytes = try readRegularFile(path, maximumBytes: maximumBytes)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DatasetError.badTable(path: path, reason: "it is not UTF-8 text")
        }
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true) } catch {
            throw DatasetError.badTable(path: path, reason: "its header row cannot be read (\(error))")
        }
        guard let header = reader.headerRow, !header.isEmpty, header != [""] else {
            throw DatasetError.badTable(path: path, reason: "it has no header row")
        }
        if let dup = Dictionary(grouping: header, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw DatasetError.badTable(path: path, reason: "the header names column '\(dup)' twice")
        }
        var labelIndex: Int?
        if let labelColumn {
            guard let i = header.firstIndex(of: labelColumn) else {
                throw DatasetError.badTable(
                    path: path,
                    reason: "there is no column '\(labelColumn)' for --label-column; the columns are \(header.joined(separator: ", "))")
            }
            labelIndex = i
        }
        var features: [Int] = []
        var skipped: [String] = []
        var values: [Float] = []
        var labelCells: [String] = []
        var row = 0
        while let fields = reader.next() {
            row += 1
            // A blank line (one empty field) ends nothing and holds nothing.
            if fields == [""] { continue }
            guard fields.count == header.count else {
                throw DatasetError.badTable(
                    path: path,
                    reason: "data row \(row) has \(fields.count) fields but the header has \(header.count); every row needs one per column")
            }
            if features.isEmpty && skipped.isEmpty {
                for (c, cell) in fields.enumerated() where c != labelIndex {
                    if Double(cell) != nil { features.append(c) } else { skipped.append(header[c]) }
                }
                guard !features.isEmpty else {
                    throw DatasetError.badTable(
                        path: path, reason: "no column holds numbers (the first row's cells are \(fields.joined(separator: ", ")))")
                }
            }
            for c in features {
                let cell = fields[c]
                guard let v = Double(cell) else {
                    throw DatasetError.badTable(
                        path: path,
                        reason: cell.isEmpty
                            ? "data row \(row), column '\(header[c])' is empty; fill or drop missing values"
                            : "data row \(row), column '\(header[c])' holds '\(cell.prefix(40))', not a number")
                }
                guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                    throw DatasetError.badTable(
                        path: path, reason: "data row \(row), column '\(header[c])' holds \(cell), not a finite float32 number")
                }
                values.append(Float(v))
            }
            if let labelIndex { labelCells.append(fields[labelIndex]) }
        }
        if let error = reader.error {
            throw DatasetError.badTable(path: path, reason: "it cannot be parsed after data row \(row) (\(error))")
        }
        guard row > 0, !values.isEmpty else { throw DatasetError.empty(path: path) }
        let count = values.count / features.count

        var labels = [UInt8](repeating: 0, count: count)
        var classNames: [String]?
        if let labelIndex {
            let integers = labelCells.compactMap { Int($0) }
            if integers.count == labelCells.count, integers.allSatisfy({ (0...255).contains($0) }) {
                labels = integers.map(UInt8.init)
            } else {
                let names = Set(labelCells).sorted()
                guard names.count <= 256 else {
                    throw DatasetError.badTable(
                        path: path,
                        reason: "column '\(header[labelIndex])' has \(names.count) distinct labels; zoo takes at most 256 classes")
                }
                let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, UInt8($0)) })
                labels = labelCells.map { index[$0] ?? 0 }
                classNames = names
            }
        }
        let set = ImageSet(
            split: .train, shape: [features.count], values: .floats(values), labels: labels, hasLabels: labelIndex != nil,
            imagesPath: path, labelsPath: labelIndex.map { "\(path) column \(header[$0])" } ?? path)
        var description = "CSV table \(path), \(count) rows × \(features.count) numeric columns"
        if let labelIndex {
            description +=
                ", label column '\(header[labelIndex])'"
                + (classNames.map { " (\($0.count) classes: \($0.prefix(5).joined(separator: ", "))\($0.count > 5 ? ", …" : ""))" } ?? "")
        }
        if !skipped.isEmpty { description += "; non-numeric columns left out: \(skipped.joined(separator: ", "))" }
        return Loaded(examples: set, description: description, classNames: classNames)
    }

    /// Whether the file looks like a CSV table: text (no NUL byte, UTF-8) whose first line has a comma.
    static func looksLikeTable(_ path: String) -> Bool {
        let head = readPrefix(of: path, count: 4096)
        guard !head.isEmpty, !head.contains(0) else { return false }
        let firstLine = head.prefix { $0 != 0x0A }
        guard firstLine.contains(UInt8(ascii: ",")) else { return false }
        // A cut-off multi-byte character at the end of the sample is fine.
        return (0...3).contains { String(validating: head.dropLast($0), as: UTF8.self) != nil }
    }
}

extension CSVTable {
    /// Rows of `columns` floats as CSV (header `x_0,…`, or `names`; CRLF
    /// lines, RFC 4180), each value in Swift's shortest round-trip form; a
    /// first column `kind` when `kinds` labels the rows.
    public static func encode(_ values: [Float], columns: Int, names: [String]? = nil, kinds: [String]? = nil) -> String {
        precondition(columns > 0 && values.count % columns == 0)
        let rows = values.count / columns
        var header = (names ?? (0..<columns).map { "x_\($0)" })
        if kinds != nil { header.insert("kind", at: 0) }
        var text = header.map(quoted).joined(separator: ",") + "\r\n"
        for r in 0..<rows {
            if let kinds { text += quoted(kinds[r]) + "," }
            text += (0..<columns).map { "\(values[r * columns + $0])" }.joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// A field quoted when it holds a comma, quote or line break (RFC 4180).
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
