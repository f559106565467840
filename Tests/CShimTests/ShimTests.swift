import CHDF5
import COpenBLAS
import CZlibShim
import Testing

/// The C shims compile, link and reach their libraries.
@Suite struct ShimTests {
    @Test func hdf5ShimWrapsTheMacrosSwiftCannotImport() {
        var major: UInt32 = 0
        var minor: UInt32 = 0
        var release: UInt32 = 0
        #expect(H5get_libversion(&major, &minor, &release) >= 0)
        #expect(major == 1 && minor >= 10)
        #expect(H5Tget_size(zoo_H5T_NATIVE_FLOAT()) == 4)
        #expect(H5Tget_size(zoo_H5T_NATIVE_DOUBLE()) == 8)
        #expect(H5Tget_size(zoo_H5T_NATIVE_UINT8()) == 1)
        #expect(zoo_H5F_ACC_TRUNC() != zoo_H5F_ACC_RDONLY())
        #expect(zoo_H5P_DEFAULT() == 0)
    }

    @Test func openBLASAndZlibAreLinked() {
        #expect(String(cString: openblas_get_config()).contains("OpenBLAS"))
        #expect(String(cString: zlibVersion()).hasPrefix("1."))
        #expect(crc32(0, Array("123456789".utf8), 9) == 0xCBF4_3926)  // the CRC-32 check value
    }
}
