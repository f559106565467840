#!/usr/bin/env python3
"""Bit-for-bit comparison of two zoo checkpoints (any format version): every
array under /model and /optimizer, the /training/rng streams, and the
/history columns except wall-clock seconds. For refactors that promise
identical numbers (issue 11): train the same recipe, seed and thread count
with the code before and after, then compare.

Usage: compare-checkpoints.py A.h5 B.h5   (exit 0 when identical)
Needs h5py and numpy (Debian's python3-h5py, python3-numpy: /usr/bin/python3).
"""
import sys

import h5py
import numpy as np


def arrays(f):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name.split("/")[0] in ("model", "optimizer", "history", "training"):
            if name == "history/seconds" or obj.dtype.kind not in "fiu":
                return
            out[name] = obj[()]
    f.visititems(visit)
    return out


with h5py.File(sys.argv[1], "r") as fa, h5py.File(sys.argv[2], "r") as fb:
    a, b = arrays(fa), arrays(fb)
    problems = [f"only in one file: {name}" for name in sorted(set(a) ^ set(b))]
    for name in sorted(set(a) & set(b)):
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            diff = np.max(np.abs(x.astype(np.float64) - y.astype(np.float64))) if x.shape == y.shape else "shape"
            problems.append(f"{name}: differs (max |a − b| = {diff})")
    for p in problems:
        print(p)
    print(f"{'identical' if not problems else 'DIFFERENT'}: {len(set(a) & set(b))} arrays compared")
    sys.exit(1 if problems else 0)
