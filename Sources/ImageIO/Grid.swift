/// Tiles equally sized grayscale images into one image, like torchvision's
/// `make_grid`: `columns` images per row, `padding` pixels of `padValue`
/// around and between them.
public enum ImageGrid {
    /// - Parameters:
    ///   - images: `count` images of height×width floats in [0, 1], row-major, back to back.
    public static func tile(
        _ images: UnsafeBufferPointer<Float>, count: Int, height: Int, width: Int,
        columns: Int = 8, padding: Int = 2, padValue: UInt8 = 0
    ) -> Image {
        precondition(images.count >= count * height * width && columns >= 1)
        let cols = min(columns, max(count, 1))
        let rows = (count + cols - 1) / cols
        let W = cols * (width + padding) + padding
        let H = rows * (height + padding) + padding
        var image = Image(width: W, height: max(H, 1), pixels: [UInt8](repeating: padValue, count: W * max(H, 1)))
        for k in 0..<count {
            let oy = padding + (k / cols) * (height + padding)
            let ox = padding + (k % cols) * (width + padding)
            for y in 0..<height {
                for x in 0..<width {
                    let v = images[k * height * width + y * width + x]
                    let clamped = v.isNaN ? 0 : min(max(v, 0), 1)
                    image.pixels[(oy + y) * W + ox + x] = UInt8((clamped * 255).rounded())
                }
            }
        }
        return image
    }
}
