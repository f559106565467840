#!/usr/bin/env python3
"""Interop check: a checkpoint written by zoo, read with h5py + numpy only.

Usage: check_checkpoint.py CHECKPOINT INSPECT_JSON
INSPECT_JSON is the output of `zoo inspect CHECKPOINT --json`: its "parameters"
list gives each state_dict name's shape, mean, std and norm as zoo computed them.
Exits non-zero with a message on the first mismatch.
"""
import json
import sys

import h5py
import numpy as np

path, stats_path = sys.argv[1], sys.argv[2]
report = json.load(open(stats_path))
expected = {p["name"]: p for p in report["parameters"]}
with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "zoo-vae-checkpoint", f.attrs["format"]
    assert int(f.attrs["format_version"]) == 1
    for key in ("zoo_version", "created_utc"):
        assert isinstance(f.attrs[key], str), (key, type(f.attrs[key]))
    config_text = f["config"][()]
    config_text = config_text.decode() if isinstance(config_text, bytes) else config_text
    config = json.loads(config_text)
    assert config["model"]["input_dim"] == 784, config["model"]

    state_dict = {name: np.asarray(f["model"][name]) for name in f["model"]}
    assert set(state_dict) == set(expected), (sorted(state_dict), sorted(expected))
    for name, array in state_dict.items():
        e = expected[name]
        assert array.dtype == np.float32, (name, array.dtype)
        assert list(array.shape) == e["shape"], (name, array.shape, e["shape"])
        a = array.astype(np.float64)
        for stat, value in (("mean", a.mean()), ("std", a.std()), ("norm", np.sqrt((a * a).sum()))):
            assert abs(value - e[stat]) <= 1e-6 * max(1.0, abs(e[stat])), (name, stat, value, e[stat])
        ds = f["model"][name]
        assert ds.compression == "gzip" and ds.shuffle and ds.fletcher32 and ds.chunks, name

    for moment in ("exp_avg", "exp_avg_sq"):
        assert set(f["optimizer"][moment]) == set(expected), moment
    assert f["optimizer"].attrs["type"] == "adam"
    assert int(f["training"].attrs["global_step"]) == int(f["optimizer"].attrs["step"])
    for stream in ("initialization", "shuffle", "shuffle_epoch_start", "noise", "binarization"):
        assert f["training"]["rng"][stream].shape == (4,) and f["training"]["rng"][stream].dtype == np.uint64, stream
    assert len(f["history"]["train_loss"]) == int(f["training"].attrs["epoch"])
print("ok: %d parameters, config and layout as documented" % len(state_dict))
