#!/usr/bin/env python3
"""Reads a `zoo export --safetensors` file with the safetensors package's own
numpy reader and compares it with the checkpoint it came from, read by h5py:
the same tensor names, float32, bit for bit the same values, and the run
configuration in the header's __metadata__ equal to the checkpoint's /config.

Usage: check_safetensors.py EXPORT.safetensors CHECKPOINT.h5
Exits non-zero naming the first difference.
"""
import json
import sys

import h5py
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

path, ckpt = sys.argv[1], sys.argv[2]
tensors = load_file(path)
with safe_open(path, "np") as f:
    metadata = f.metadata()
with h5py.File(ckpt, "r") as f:
    model = {name: np.asarray(f["model"][name]) for name in f["model"]}
    config = json.loads(f["config"][()])
problems = []
if set(tensors) != set(model):
    problems.append(f"names differ: {sorted(set(tensors) ^ set(model))}")
for name in sorted(set(tensors) & set(model)):
    a, b = tensors[name], model[name]
    if a.dtype != np.float32 or a.shape != b.shape or not np.array_equal(a.view(np.uint32), b.astype(np.float32).view(np.uint32)):
        problems.append(f"{name}: {a.dtype} {a.shape} differs from the checkpoint's {b.dtype} {b.shape}")
if metadata.get("format") != "pt" or json.loads(metadata.get("config", "null")) != config:
    problems.append(f"metadata {sorted(metadata)} lacks format=pt or the checkpoint's config")
print(f"{len(tensors)} tensors, {sum(t.size for t in tensors.values())} values, metadata {sorted(metadata)}: "
      + ("; ".join(problems) if problems else "identical to the checkpoint"))
sys.exit(1 if problems else 0)
