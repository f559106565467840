import Foundation
import Support
import SwiftProtobuf

/// A run's scalars and images as TensorBoard reads them: one event file,
/// `DIR/events.out.tfevents.0.zoo`, of records (little-endian u64 length,
/// masked CRC-32C of those 8 bytes, the serialized `Event`, masked CRC-32C
/// of it), starting with the `brain.Event:2` file-version event.
///
/// A resumed run continues the file: opening it at global step G keeps the
/// events up to G and drops later ones (a resumed run writes them again,
/// bit for bit), so each step appears once.
public final class TensorBoardLog {
    public static let fileName = "events.out.tfevents.0.zoo"
    public let path: String
    private let handle: FileHandle

    /// Opens DIR's event file for a run resumed at `globalStep`, or starts it for a new run (nil).
    /// - Throws: `TensorBoardLogError` naming the file when it cannot be read or written.
    public init(directory: String, resumingAt globalStep: Int?, wallTime: Double) throws {
        path = directory + "/" + Self.fileName
        var kept: [UInt8] = []
        if let globalStep, FileManager.default.fileExists(atPath: path) {
            let bytes: [UInt8]
            do { bytes = try readRegularFile(path, maximumBytes: 1 << 31) } catch {
                throw TensorBoardLogError(path: path, reason: error.description)
            }
            for (record, event) in Self.records(bytes) where event.step <= Int64(globalStep) { kept += record }
        }
        if kept.isEmpty {
            var first = Tensorboard_Event()
            first.wallTime = wallTime
            first.fileVersion = "brain.Event:2"
            kept = try Self.record(first)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            handle = try appendingFile(startingWith: kept, at: path)
        } catch {
            throw TensorBoardLogError(path: path, reason: "\(error)")
        }
    }

    deinit { try? handle.close() }

    /// Scalars (tag, value) at `step`, as one summary event.
    public func scalars(_ values: [(String, Double)], step: Int, wallTime: Double) throws {
        try write(
            values.map { tag, value in
                Tensorboard_Summary.Value.with {
                    $0.tag = tag
                    $0.simpleValue = Float(value)
                }
            }, step: step, wallTime: wallTime)
    }

    /// A PNG image (`channels` 1, 3 or 4) at `step`.
    public func image(_ tag: String, png: [UInt8], height: Int, width: Int, channels: Int, step: Int, wallTime: Double) throws {
        let image = Tensorboard_Summary.Image.with {
            $0.height = Int32(height)
            $0.width = Int32(width)
            $0.colorspace = Int32(channels)
            $0.encodedImageString = Data(png)
        }
        try write(
            [
                Tensorboard_Summary.Value.with {
                    $0.tag = tag
                    $0.image = image
                }
            ], step: step, wallTime: wallTime)
    }

    private func write(_ values: [Tensorboard_Summary.Value], step: Int, wallTime: Double) throws {
        var event = Tensorboard_Event()
        event.wallTime = wallTime
        event.step = Int64(step)
        event.summary = Tensorboard_Summary.with { $0.value = values }
        do { try handle.write(contentsOf: Data(try Self.record(event))) } catch {
            throw TensorBoardLogError(path: path, reason: "\(error)")
        }
    }

    /// One framed record of `event`.
    static func record(_ event: Tensorboard_Event) throws -> [UInt8] {
        let data: [UInt8] = try event.serializedBytes()
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { out += $0 }
        let lengthCRC = maskedCRC32C(out)
        withUnsafeBytes(of: lengthCRC.littleEndian) { out += $0 }
        out += data
        withUnsafeBytes(of: maskedCRC32C(data).littleEndian) { out += $0 }
        return out
    }

    /// The well-formed records of a file (its bytes and event), up to the first damaged one.
    static func records(_ bytes: [UInt8]) -> [([UInt8], Tensorboard_Event)] {
        var out: [([UInt8], Tensorboard_Event)] = []
        var at = 0
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) } }
        while at + 12 <= bytes.count {
            let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
            guard u32(at + 8) == maskedCRC32C(Array(bytes[at..<(at + 8)])), n <= UInt64(bytes.count - at - 16) else { break }
            let end = at + 12 + Int(n)
            let data = Array(bytes[(at + 12)..<end])
            guard u32(end) == maskedCRC32C(data), let event = try? Tensorboard_Event(serializedBytes: data) else { break }
            out.append((Array(bytes[at..<(end + 4)]), event))
            at = end + 4
        }
        return out
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) masked as TensorBoard's
/// record format requires: ((c >> 15) | (c << 17)) + 0xa282ead8.
func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c = crc32cTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8)
    }
    c ^= 0xFFFF_FFFF
    return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
}

let crc32cTable: [UInt32] = (0..<256).map { i in
    (0..<8).reduce(UInt32(i)) { c, _ in c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
}

/// An event file that cannot be written.
public struct TensorBoardLogError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write TensorBoard events to \(path): \(reason)" }
}
