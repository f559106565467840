import Datasets
import HDF5

/// SHA-256 over everything in a checkpoint that no HDF5 checksum protects:
/// the /config text, every attribute of every object (name, stored type and
/// exact value), and every dataset's type and shape. Array data is covered by
/// its chunks' Fletcher-32 checksums. Stored as the root attribute
/// `metadata_sha256` from format 3 on, so one flipped bit in `"beta" : 1` or
/// the optimizer's `lr` is refused instead of silently training another run.
enum MetadataDigest {
    static let attribute = "metadata_sha256"

    /// The digest of `file` as it is now (the digest attribute itself excluded).
    static func compute(_ file: HDF5File) throws -> String {
        var lines: [String] = []
        for name in try file.attributeNames() where name != attribute {
            lines.append("/@\(name)=\(try file.attributeText(name))")
        }
        try file.walk { group, name, path, kind in
            if kind == .dataset {
                let info = try group.info(name)
                lines.append("\(path):\(info.description)")
                if path == "/config" { lines.append("/config=" + (try group.readString(name, maxBytes: Checkpoint.maximumConfigBytes))) }
            }
            for a in try group.attributeNames(of: name) {
                lines.append("\(path)@\(a)=\(try group.attributeText(a, of: name))")
            }
        }
        var hash = SHA256()
        for line in lines {
            // Length-prefixed, so no two different lists hash the same text.
            hash.update(Array("\(line.utf8.count):".utf8))
            hash.update(Array(line.utf8))
        }
        return hash.finalize()
    }
}
