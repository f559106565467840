import CZlibShim
import Support

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An 8-bit image, grayscale (1 channel) or RGB (3 channels), row-major.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int = 1, pixels: [UInt8]? = nil) {
        precondition(channels == 1 || channels == 3)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels ?? [UInt8](repeating: 0, count: width * height * channels)
        precondition(self.pixels.count == width * height * channels)
    }

    /// The image enlarged `factor` times, nearest neighbour.
    public func scaled(by factor: Int) -> Image {
        precondition(factor >= 1)
        guard factor > 1 else { return self }
        let (W, n) = (width * factor, channels)
        var out = [UInt8](repeating: 0, count: W * height * factor * n)
        for y in 0..<(height * factor) {
            for x in 0..<W {
                for c in 0..<n { out[(y * W + x) * n + c] = pixels[((y / factor) * width + x / factor) * n + c] }
            }
        }
        return Image(width: W, height: height * factor, channels: n, pixels: out)
    }
}

/// An image that cannot be encoded (writing errors are `FileWriteError`s).
public enum ImageIOError: Error, CustomStringConvertible, Sendable {
    case encoding(String)

    public var description: String {
        switch self {
        case .encoding(let reason): return "PNG encoding failed: \(reason)"
        }
    }
}

/// A minimal PNG encoder (ISO/IEC 15948): IHDR, one zlib-compressed IDAT with
/// filter type 0 on every row, IEND.
public enum PNG {
    public static func encode(_ image: Image) throws -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        ihdr += bigEndian(UInt32(image.width))
        ihdr += bigEndian(UInt32(image.height))
        ihdr += [8, image.channels == 1 ? 0 : 2, 0, 0, 0]  // depth 8, gray/RGB, deflate, filter 0, no interlace
        chunk("IHDR", ihdr, into: &out)

        let stride = image.width * image.channels
        var raw = [UInt8](repeating: 0, count: (stride + 1) * image.height)
        for y in 0..<image.height {
            raw[y * (stride + 1)] = 0
            for x in 0..<stride { raw[y * (stride + 1) + 1 + x] = image.pixels[y * stride + x] }
        }
        var destLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(destLength))
        let status = compress2(&compressed, &destLength, raw, uLong(raw.count), 6)
        guard status == Z_OK else { throw ImageIOError.encoding("zlib compress2 returned \(status)") }
        chunk("IDAT", Array(compressed[0..<Int(destLength)]), into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    /// Encodes and writes atomically: a temporary file beside `path`, then rename.
    public static func write(_ image: Image, to path: String) throws {
        try writeAtomically(try encode(image), to: path)
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian(UInt32(data.count))
        out += typeBytes
        out += data
        var crc = crc32(0, typeBytes, uInt(typeBytes.count))
        if !data.isEmpty { crc = crc32(crc, data, uInt(data.count)) }
        out += bigEndian(UInt32(crc))
    }
}
