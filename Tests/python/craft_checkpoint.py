#!/usr/bin/env python3
"""Writes a hostile variant of a zoo checkpoint, for the tests of issue 10.

Usage: craft_checkpoint.py SOURCE.h5 CASE OUT.h5

Most cases turn the file into an unsealed format-2 file first (no user block,
no metadata digest: what an older zoo or h5py writes), so that the value
checks behind the seal and the digest are what the test exercises; the
"flip-*" cases keep the sealed format-3 file and change one bit.
"""
import json
import shutil
import sys

import h5py
import numpy as np

source, case, out = sys.argv[1], sys.argv[2], sys.argv[3]


def legacy_config(text):
    """The config of a format-4 MLP as format 2 wrote it: input_dim, hidden widths, activation,
    and the data as an MNIST-layout directory."""
    config = json.loads(text)
    model = config["model"]
    shape, encoder = model.pop("input_shape"), model.pop("encoder")
    model.pop("decoder")
    model["input_dim"] = int(np.prod(shape))
    model["hidden"] = [layer["out_features"] for layer in encoder if layer["type"] == "linear"]
    model["activation"] = next(layer["type"] for layer in encoder if layer["type"] != "linear")
    data = config["data"]  # format 2 knew only MNIST-layout directories
    assert data["kind"] == "mnist-directory" and data["test_split"] == 0 and not data["standardize"], data
    config["data"] = {"directory": data["path"], "binarization": data["binarization"], "limit": data["limit"]}
    return json.dumps(config)


def unsealed_copy(src, dst):
    """A format-2 copy without user block or digest, object by object."""
    with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
        for k, v in a.attrs.items():
            if k != "metadata_sha256":
                b.attrs[k] = v
        b.attrs["format_version"] = np.int64(2)
        for name in a:
            if name == "config":
                b["config"] = legacy_config(a["config"][()])
            else:
                a.copy(a[name], b, name=name)


if case.startswith("flip-"):
    # Change one value in the config's text or an attribute of a sealed file.
    shutil.copy(source, out)
    with h5py.File(out, "r+") as f:
        if case == "flip-config-beta":
            text = f["config"][()].decode()
            assert '"beta" : 1' in text
            del f["config"]
            f["config"] = text.replace('"beta" : 1', '"beta" : 3', 1)
        elif case == "flip-optimizer-lr":
            f["optimizer"].attrs["lr"] = np.float64(f["optimizer"].attrs["lr"]) * 2
    # Reseal like zoo does (CRC-32 of everything after the 512-byte user
    # block), so only the metadata digest can tell.
    import zlib
    data = open(out, "rb").read()
    header = b"zoo-checkpoint-crc32 %08x\n" % zlib.crc32(data[512:])
    open(out, "wb").write(header + bytes(512 - len(header)) + data[512:])
    sys.exit(0)

unsealed_copy(source, out)
with h5py.File(out, "r+") as f:
    config = json.loads(f["config"][()])

    def set_config(c):
        del f["config"]
        f["config"] = json.dumps(c)

    if case == "plain":
        pass
    elif case == "format-version-array":
        f.attrs["format_version"] = np.array([2, 2, 2], dtype=np.int64)
    elif case == "format-string-array":
        f.attrs["format"] = np.array([b"zoo-vae-checkpoint", b"x"], dtype=h5py.string_dtype())
    elif case == "lr-array":
        f["optimizer"].attrs["lr"] = np.array([1e-3, 1e-3, 1e-3])
    elif case == "lr-negative":
        f["optimizer"].attrs["lr"] = np.float64(-1e-3)
        config["training"]["optimizer"]["lr"] = -1e-3
        set_config(config)
    elif case == "lr-differs":
        f["optimizer"].attrs["lr"] = np.float64(5e-3)
    elif case == "history-huge":
        del f["history/train_loss"]
        f["history"].create_dataset("train_loss", shape=(1 << 40,), dtype="f8", chunks=(1 << 16,), compression="gzip")
    elif case == "history-zeros":
        del f["history/train_loss"]
        f["history"].create_dataset("train_loss", data=np.zeros(1 << 17), compression="gzip", chunks=(1 << 17,))
    elif case == "rng-huge":
        del f["training/rng/noise"]
        f["training/rng"].create_dataset("noise", shape=(1 << 40,), dtype="u8", chunks=(1 << 16,), compression="gzip")
    elif case == "rng-float64":
        words = f["training/rng/noise"][()]
        del f["training/rng/noise"]
        f["training/rng/noise"] = words.astype(np.float64)
    elif case == "latent-huge":
        del f["training/latent/kl"]
        f["training/latent"].create_dataset("kl", shape=(1 << 40,), dtype="f8", chunks=(1 << 16,), compression="gzip")
    elif case == "latent-dim-1e6":
        config["model"]["latent_dim"] = 1000000
        set_config(config)
    elif case == "latent-dim-2e33":
        config["model"]["latent_dim"] = 2 ** 33
        set_config(config)
    elif case == "batch-size-max":
        config["training"]["batch_size"] = 2 ** 63 - 1
        set_config(config)
    elif case == "kl-warmup-max":
        config["training"]["kl_warmup"] = 2 ** 63 - 2
        set_config(config)
    elif case == "threads-1e5":
        config["training"]["threads"] = 100000
        set_config(config)
    elif case == "config-huge":
        config["model"]["padding"] = "x" * (2 << 20)
        set_config(config)
    elif case == "fingerprint-int":
        f["training"].attrs["data_fingerprint"] = np.int64(7)
    elif case == "best-val-loss-string":
        f["training"].attrs["best_val_loss"] = "low"
    elif case == "nan-weight":
        w = f["model/fc1.weight"][()]
        w[0, 0] = np.nan
        f["model/fc1.weight"][...] = w
    elif case == "external-link":
        with h5py.File(out + ".other.h5", "w") as o:
            f.copy(f["model"], o, name="model")
        del f["model"]
        f["model"] = h5py.ExternalLink(out.split("/")[-1] + ".other.h5", "/model")
    elif case == "hard-link-cycle":
        f["training/loop"] = f["/"]
    elif case == "many-objects":
        g = f.create_group("extra")
        for i in range(10001):
            g.create_group("g%05d" % i)
    elif case == "soft-link":
        f["training/alias"] = h5py.SoftLink("/training")
    else:
        sys.exit("unknown case " + case)
print("ok")
