#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Facts about the machine a figure was measured on.
public enum Machine {
    /// The CPU's model name as the kernel reports it (the first "model name"
    /// line of /proc/cpuinfo), or "unknown CPU" where there is none. (A proc
    /// file reports size 0, so it is read line by line, not by its size.)
    public static var cpuModel: String {
        guard let file = fopen("/proc/cpuinfo", "r") else { return "unknown CPU" }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("model name"), let colon = text.firstIndex(of: ":") else { continue }
            let name = text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            return String(name.prefix(while: { $0 != "\n" }))
        }
        return "unknown CPU"
    }
}
