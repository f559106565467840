/// Everything that can be wrong with a dataset on disk, each with the path
/// and what to do about it.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    case defaultDirectoryMissing(path: String)
    case directoryMissing(path: String)
    case splitMissing(directory: String, split: Split, lookedFor: [String])
    case fileMissing(path: String)
    case unreadable(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case truncated(path: String, expectedBytes: Int, gotBytes: Int)
    case trailingData(path: String)
    case badMagic(path: String, found: String, expected: String)
    case badShape(path: String, reason: String)
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    case empty(path: String)
    case badArray(path: String, reason: String)
    case badValue(path: String, reason: String)
    case badTable(path: String, reason: String)
    case badFolder(path: String, reason: String)
    case testSplitTooLarge(path: String, requested: Int, available: Int)
    case sourceMissing(path: String)
    case unknownSource(path: String)
    case hasTestSplit(path: String)
    case noTestSplit(path: String)

    public var description: String {
        switch self {
        case .defaultDirectoryMissing(let path):
            return "the default dataset directory \(path) does not exist. Install Fashion-MNIST with "
                + "`apt-get install dataset-fashion-mnist` (Debian), or pass --data DIR with a directory in the "
                + "MNIST layout (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-…)."
        case .directoryMissing(let path):
            return "data directory \(path) does not exist (or is not a directory). Pass --data with a directory "
                + "in the MNIST layout, or install the default data with `apt-get install dataset-fashion-mnist`."
        case .splitMissing(let dir, let split, let names):
            return "data directory \(dir) has no \(split.rawValue) split: none of \(names.joined(separator: ", ")) "
                + "exists there. \(split == .train ? "Training needs a train split; use a directory that has one." : "Use a directory with a test (t10k-*) split.")"
        case .fileMissing(let path):
            return "\(path) is missing: an IDX dataset needs both its images and its labels file."
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)."
        case .corrupt(let path, let reason):
            return "\(path) is corrupt (\(reason)). Re-download or reinstall the file."
        case .truncated(let path, let expected, let got):
            return "\(path) is truncated: the IDX header announces \(expected) bytes of data but the file holds only \(got)"
                + " (at most, for a gzip file). Re-download or reinstall the file."
        case .trailingData(let path):
            return "\(path) has bytes after the data its IDX header announces; it is not a valid IDX file."
        case .badMagic(let path, let found, let expected):
            return "\(path) is not an IDX file of the expected kind: magic number \(found), expected \(expected)."
        case .badShape(let path, let reason):
            return "\(path) has an unusable shape: \(reason)."
        case .countMismatch(let images, let n, let labels, let m):
            return "\(images) holds \(n) images but \(labels) holds \(m) labels; they must match."
        case .empty(let path):
            return "\(path) holds no images."
        case .badArray(let path, let reason):
            return "\(path) is not an array zoo can read: \(reason)."
        case .badFolder(let path, let reason):
            return "\(path) cannot be read as an image folder: \(reason)."
        case .badTable(let path, let reason):
            return "\(path) is not a table zoo can read: \(reason)."
        case .badValue(let path, let reason):
            return "\(path) holds \(reason)."
        case .testSplitTooLarge(let path, let requested, let available):
            return "--test-split \(requested) would hold out every one of the \(available) examples of \(path); "
                + "choose fewer than \(available)"
        case .sourceMissing(let path):
            return "the data \(path) does not exist. --data takes a directory in the MNIST layout, a NumPy .npy or .npz file, "
                + "or an HDF5 file (FILE.h5 or FILE.h5:/group) "
                + "(without --data zoo uses Fashion-MNIST from `apt-get install dataset-fashion-mnist`)."
        case .unknownSource(let path):
            return "\(path) is a file zoo cannot read as data: it is neither a NumPy .npy array, a zip (.npz) archive, nor an HDF5 file. "
                + "--data takes a directory in the MNIST layout, a .npy or .npz file (numpy.save, numpy.savez) or an HDF5 file."
        case .hasTestSplit(let path):
            return "\(path) has its own test split (t10k-* or x_test); --test-split is for data without one"
        case .noTestSplit(let path):
            return "\(path) has no test split (the run used no --test-split); use --split train"
        }
    }
}
