import Foundation

/// A log file that a run appends to: `bytes` replace the file at `path`
/// crash-safely (`writeAtomically`: what a resumed run keeps of it, or its
/// header), and the returned handle appends after them.
public func appendingFile(startingWith bytes: [UInt8], at path: String) throws -> FileHandle {
    try writeAtomically(bytes, to: path)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    return handle
}
