#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file could not be written; the target is left as it was.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "cannot write \(path): \(reason)" }
}

/// The text of `errno` values, with the one users meet most spelled as they search for it.
public func errorText(_ code: Int32) -> String {
    code == ENOSPC ? "no space left on device" : String(cString: strerror(code))
}

/// Hidden temporary files beside a target: `.NAME.tmp-PID`, renamed over
/// NAME when complete, and `.NAME.tmp-PID.old`, the hard-linked backup of
/// the old target that `OutputFile.commit` keeps while it renames. A process
/// killed while writing or committing leaves them behind; the next write to
/// the same target removes those whose process is gone.
public enum Temporaries {
    /// The directory and file name of `path` ("." for a bare name).
    public static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// This process's temporary for `path`.
    public static func name(for path: String) -> String {
        let (dir, name) = split(path)
        return "\(dir)/.\(name).tmp-\(getpid())"
    }

    /// Temporaries (and commit backups) of `path` left by processes that no
    /// longer run (PID in the name).
    public static func stale(for path: String) -> [String] {
        let (dir, name) = split(path)
        let prefix = ".\(name).tmp-"
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var found: [String] = []
        while let entry = readdir(d) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard entryName.hasPrefix(prefix) else { continue }
            var owner = entryName.dropFirst(prefix.count)
            if owner.hasSuffix(".old") { owner = owner.dropLast(4) }
            guard let pid = Int32(owner), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { found.append("\(dir)/\(entryName)") }
        }
        return found.sorted()
    }

    /// Removes the stale temporaries of `path`; returns how many it removed.
    @discardableResult
    public static func removeStale(for path: String) -> Int {
        stale(for: path).reduce(0) { $0 + (unlink($1) == 0 ? 1 : 0) }
    }
}
