// Shim for HDF5 (Debian: libhdf5-dev, pkg-config `hdf5`).
//
// HDF5 exposes its predefined types and property-list classes as macros that
// expand to library globals (H5T_NATIVE_FLOAT is `H5OPEN H5T_NATIVE_FLOAT_g`).
// Swift cannot import such macros, and mutable C globals are not
// concurrency-safe in Swift 6, so each is wrapped in a static inline function.
#pragma once
#include <hdf5.h>

static inline hid_t zoo_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t zoo_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t zoo_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t zoo_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t zoo_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t zoo_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t zoo_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t zoo_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t zoo_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t zoo_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t zoo_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t zoo_H5T_C_S1(void) { return H5T_C_S1; }

static inline hid_t zoo_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t zoo_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t zoo_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t zoo_H5P_DATASET_XFER(void) { return H5P_DATASET_XFER; }
static inline hid_t zoo_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t zoo_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t zoo_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t zoo_H5E_DEFAULT(void) { return H5E_DEFAULT; }

static inline unsigned zoo_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned zoo_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned zoo_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned zoo_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline size_t zoo_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline hid_t zoo_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t zoo_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
static inline hid_t zoo_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t zoo_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
