/// Tiles equally sized images into one image, like torchvision's
/// `make_grid`: `columns` images per row, `padding` pixels of `padValue`
/// around and between them. Images of 3 or more channels are drawn in colour
/// from their first three (RGB; a fourth, alpha, is left out), others in grey
/// from their first channel.
public enum ImageGrid {
    /// - Parameters:
    ///   - images: `count` images of channels×height×width floats in [0, 1]
    ///     (channel planes, row-major: PyTorch's CHW), back to back.
    public static func tile(
        _ images: UnsafeBufferPointer<Float>, count: Int, channels: Int = 1, height: Int, width: Int,
        columns: Int = 8, padding: Int = 2, padValue: UInt8 = 0
    ) -> Image {
        precondition(images.count >= count * channels * height * width && columns >= 1 && channels >= 1)
        let shown = channels >= 3 ? 3 : 1
        let cols = min(columns, max(count, 1))
        let rows = (count + cols - 1) / cols
        let W = cols * (width + padding) + padding
        let H = max(rows * (height + padding) + padding, 1)
        var image = Image(width: W, height: H, channels: shown, pixels: [UInt8](repeating: padValue, count: W * H * shown))
        let plane = height * width
        for k in 0..<count {
            let oy = padding + (k / cols) * (height + padding)
            let ox = padding + (k % cols) * (width + padding)
            for c in 0..<shown {
                for y in 0..<height {
                    for x in 0..<width {
                        let v = images[(k * channels + c) * plane + y * width + x]
                        let clamped = v.isNaN ? 0 : min(max(v, 0), 1)
                        image.pixels[((oy + y) * W + ox + x) * shown + c] = UInt8((clamped * 255).rounded())
                    }
                }
            }
        }
        return image
    }
}
