#!/usr/bin/env python3
"""Interop check: a checkpoint written by zoo, read with h5py + numpy only.

Usage: check_checkpoint.py CHECKPOINT INSPECT_JSON [LAYOUT_JSON]
INSPECT_JSON is the output of `zoo inspect CHECKPOINT --json`: its "parameters"
list gives each state_dict name's shape, mean, std and norm as zoo computed them.
Exits non-zero with a message on the first mismatch.
"""
import json
import sys

import h5py
import numpy as np



def assert_filters(ds, name):
    """Every array is chunked with Fletcher-32 checksums; arrays of fewer than
    65,536 values are also shuffled and gzipped, larger ones stored as they are."""
    assert ds.fletcher32 and ds.chunks, (name, "filters")
    if ds.size >= 1 << 16:
        assert ds.compression is None and not ds.shuffle, (name, ds.compression, ds.shuffle)
    else:
        assert ds.compression == "gzip" and ds.shuffle, (name, ds.compression, ds.shuffle)


path, stats_path = sys.argv[1], sys.argv[2]
report = json.load(open(stats_path))
expected = {p["name"]: p for p in report["parameters"]}
import zlib

raw = open(path, "rb").read()
seal = raw[:512].rstrip(b"\0").decode()
assert seal == "zoo-checkpoint-crc32 %08x\n" % zlib.crc32(raw[512:]), seal[:90]
with h5py.File(path, "r") as f:
    assert f.userblock_size == 512, f.userblock_size
    assert f.attrs["format"] == "zoo-vae-checkpoint", f.attrs["format"]
    assert int(f.attrs["format_version"]) == 4
    assert len(f.attrs["metadata_sha256"]) == 64, f.attrs["metadata_sha256"]
    for key in ("zoo_version", "created_utc"):
        assert isinstance(f.attrs[key], str), (key, type(f.attrs[key]))
    config_text = f["config"][()]
    config_text = config_text.decode() if isinstance(config_text, bytes) else config_text
    config = json.loads(config_text)
    model = config["model"]
    assert model["input_shape"] == [1, 28, 28], model
    # The tutorial's MLP as layer lists: fc1 (+ReLU), the heads fc2/fc3, fc4 (+ReLU), fc5.
    linear = lambda stack: [layer["out_features"] for layer in stack if layer["type"] == "linear"]
    assert linear(model["encoder"]) + [model["latent_dim"]] * 2 + linear(model["decoder"]) == [
        list(expected[f"fc{i}.weight"]["shape"])[0] for i in range(1, 6)
    ], model

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
        assert_filters(ds, name)

    for moment in ("exp_avg", "exp_avg_sq"):
        assert set(f["optimizer"][moment]) == set(expected), moment
    assert f["optimizer"].attrs["type"] == "adam"
    assert int(f["training"].attrs["global_step"]) == int(f["optimizer"].attrs["step"])
    for stream in ("initialization", "shuffle", "shuffle_epoch_start", "noise", "binarization"):
        assert f["training"]["rng"][stream].shape == (4,) and f["training"]["rng"][stream].dtype == np.uint64, stream
    assert len(f["history"]["train_loss"]) == int(f["training"].attrs["epoch"])

def check_layout(path, layout_path, parameters):
    """Every object in the file is described by schemas/checkpoint-layout.json, with its
    type, shape and attributes; every required object is present."""
    layout = json.load(open(layout_path))
    kinds = {"int64": np.int64, "float64": np.float64, "float32": np.float32, "uint64": np.uint64}

    def attr_ok(value, kind):
        if kind == "string":
            return isinstance(value, str)
        return np.asarray(value).dtype == kinds[kind] and np.asarray(value).shape == ()

    with h5py.File(path, "r") as f:
        epochs = len(f["history"]["epoch"]) if "history" in f else 0
        config_text = f["config"][()]
        model_config = json.loads(config_text.decode() if isinstance(config_text, bytes) else config_text)["model"]
        latent = model_config["latent_dim"]
        input_size = int(np.prod(model_config["input_shape"]))
        present = {"/"}
        f.visit(lambda name: present.add("/" + name))

        def matches(entry, p):
            pattern = entry["path"]
            if "{" not in pattern:
                return p == pattern
            prefix = pattern[:pattern.index("{")]
            if not p.startswith(prefix) or "/" in p[len(prefix):]:
                return False
            name = p[len(prefix):]
            names = entry.get("names", parameters if "{parameter}" in pattern else None)
            return names is None or name in names

        for p in sorted(present):
            entries = [e for e in layout["objects"] if matches(e, p)]
            assert entries, f"{p} is not in the documented layout"
            e, obj = entries[0], f[p]
            is_group = isinstance(obj, h5py.Group)
            assert is_group == (e["kind"] == "group"), (p, e["kind"])
            for key, kind in e.get("attributes", {}).items():
                optional = key in e.get("optional_attributes", [])
                assert key in obj.attrs or optional, (p, "missing attribute", key)
                if key in obj.attrs:
                    assert attr_ok(obj.attrs[key], kind), (p, key, obj.attrs[key])
            if not is_group:
                name = p.rsplit("/", 1)[1]
                kind = e["names"][name] if isinstance(e.get("names"), dict) else e.get("type")
                if kind == "string":
                    assert h5py.check_string_dtype(obj.dtype) is not None, (p, obj.dtype)
                elif kind is not None:
                    assert obj.dtype == kinds[kind], (p, obj.dtype, kind)
                shape = e.get("shape")
                if shape == "parameter":
                    assert obj.shape == tuple(parameters[name]), (p, obj.shape)
                elif shape == ["latent"]:
                    assert obj.shape == (latent,), (p, obj.shape)
                elif shape == ["epochs"]:
                    assert obj.shape == (epochs,), (p, obj.shape)
                elif shape == ["input"]:
                    assert obj.shape == (input_size,), (p, obj.shape)
                elif shape is not None:
                    assert obj.shape == tuple(shape), (p, obj.shape, shape)
                if obj.shape and obj.size > 0:
                    assert_filters(obj, p)
        for e in layout["objects"]:
            required = e.get("required") or ("required_with" in e and e["required_with"] in present)
            if required and "{" not in e["path"]:
                assert e["path"] in present, ("missing", e["path"])
            if required and "{parameter}" in e["path"]:
                for name in parameters:
                    assert e["path"].replace("{parameter}", name) in present, ("missing", e["path"], name)
            if required and isinstance(e.get("names"), (list, dict)) and "{" in e["path"]:
                for name in e["names"]:
                    assert e["path"].replace("{stream}", name).replace("{column}", name).replace("{statistic}", name) in present, ("missing", name)


if len(sys.argv) > 3:
    check_layout(path, sys.argv[3], {name: tuple(e["shape"]) for name, e in expected.items()})
print("ok: %d parameters, config and layout as documented" % len(state_dict))
