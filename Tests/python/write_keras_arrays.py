#!/usr/bin/env python3
"""Writes the MNIST test digits kept in the repository as the data files users
bring, with numpy and h5py themselves, for the tests of issue 12.

Usage: write_keras_arrays.py DIR
Writes into DIR: mnist.npz (x_train 1000 uint8 (N, 28, 28) with int64 labels,
x_test 200), mnist-plain.npz (numpy.savez, unlabelled, no test split),
fashion.h5 (Fashion-MNIST test images from Debian's dataset-fashion-mnist, 1000
and 200, as float32 in [0, 1] with uint8 labels under the group /fashion, and
nothing at the root), and the bad files bad-*.npz / bad-*.h5 the tests name.
"""
import gzip
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "Data", "mnist-t10k")
x = np.frombuffer(gzip.open(os.path.join(data, "t10k-images-idx3-ubyte.gz")).read(), np.uint8, offset=16).reshape(-1, 28, 28)
y = np.frombuffer(gzip.open(os.path.join(data, "t10k-labels-idx1-ubyte.gz")).read(), np.uint8, offset=8)
xt, yt, xs, ys = x[:1000], y[:1000].astype(np.int64), x[9000:9200], y[9000:9200].astype(np.int64)

np.savez_compressed(f"{out}/mnist.npz", x_train=xt, y_train=yt, x_test=xs, y_test=ys)
np.savez(f"{out}/mnist-plain.npz", x_train=xt)
fashion = "/usr/share/datasets/fashion-mnist"
fx = np.frombuffer(gzip.open(f"{fashion}/t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16).reshape(-1, 28, 28)
fy = np.frombuffer(gzip.open(f"{fashion}/t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
with h5py.File(f"{out}/fashion.h5", "w") as f:
    g = f.create_group("fashion")
    g["x_train"] = fx[:1000].astype(np.float32) / 255
    g["y_train"] = fy[:1000]
    g["x_test"] = fx[9000:9200].astype(np.float32) / 255
    g["y_test"] = fy[9000:9200]

np.savez(f"{out}/bad-no-x-train.npz", images=xt)
np.savez(f"{out}/bad-test-shape.npz", x_train=xt, x_test=xs[:, :, :20])
np.savez(f"{out}/bad-label-count.npz", x_train=xt, y_train=yt[:999])
np.savez(f"{out}/bad-object.npz", x_train=np.array([xt[0], "a pickle"], dtype=object))
np.savez(f"{out}/bad-label-range.npz", x_train=xt[:10], y_train=np.arange(10) * 100)
np.savez(f"{out}/bad-label-float.npz", x_train=xt[:10], y_train=np.zeros(10))
with h5py.File(f"{out}/bad-no-x-train.h5", "w") as f:
    f["images"] = xt
with h5py.File(f"{out}/bad-string.h5", "w") as f:
    f["x_train"] = np.array([b"not numbers"] * 3)
print("ok")
