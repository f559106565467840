#!/usr/bin/env python3
"""Writes a zoo checkpoint from numpy arrays alone (a model trained elsewhere):
root attributes, /config as a str of JSON, and /model/<state_dict name> in
PyTorch's shapes; no /optimizer and no /training.

Usage: write_numpy_checkpoint.py PATH
"""
import json
import sys

import h5py
import numpy as np

path = sys.argv[1]
rng = np.random.default_rng(0)
shapes = {"fc1": (400, 784), "fc2": (20, 400), "fc3": (20, 400), "fc4": (400, 20), "fc5": (784, 400)}
config = {
    "model": {"input_dim": 784, "hidden": [400], "latent_dim": 20, "likelihood": "bernoulli", "sigma": 0.1},
    "training": {"epochs": 1, "batch_size": 128, "seed": 3, "threads": 2,
                 "optimizer": {"type": "adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}},
    "data": {"binarization": "none", "limit": 1000},
}
with h5py.File(path, "w") as f:
    f.attrs["format"] = "zoo-vae-checkpoint"
    f.attrs["format_version"] = np.int64(1)
    f.attrs["zoo_version"] = "numpy"
    f.attrs["created_utc"] = "2026-11-25T00:00:00Z"
    f["config"] = json.dumps(config)
    for layer, (out, inp) in shapes.items():
        bound = 1 / np.sqrt(inp)
        f[f"model/{layer}.weight"] = rng.uniform(-bound, bound, (out, inp)).astype(np.float32)
        f[f"model/{layer}.bias"] = rng.uniform(-bound, bound, out).astype(np.float32)
print("ok")
