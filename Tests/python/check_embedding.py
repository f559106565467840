#!/usr/bin/env python3
"""Runs a zoo checkpoint's encoder in numpy, from the parameters h5py reads by
their state_dict names, on the first images of an IDX file, and compares the
posterior means with the mu_* columns `zoo embed --csv` wrote. The encoder is
walked as the config's layer list declares it: an MLP's linear layers are
named fc1, fc2, … in order, then the μ head; any other stack's are
encoder.<index> and mu (nn.Sequential's names). Convolutions are computed as
direct loops over PyTorch's definition (cross-correlation, zero padding,
weight [out, in, k, k]), not as im2col products. A conditional model
(label_classes C > 0) gets [x, one-hot(label)] with the CSV's label column,
or, when the encoder starts with a convolution, C label planes after the
image's channels.

Usage: check_embedding.py CHECKPOINT.h5 EMBEDDING.csv IMAGES-idx3-ubyte[.gz] COUNT
Exits non-zero (with the largest difference) when any |mu - mu_numpy| > 1e-4.
"""
import csv
import gzip
import json
import sys

import h5py
import numpy as np

ckpt, table, images_path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

with h5py.File(ckpt, "r") as f:
    config = json.loads(f["config"][()])
    params = {name: np.asarray(f["model"][name], dtype=np.float64) for name in f["model"]}
model = config["model"]
latent = model["latent_dim"]
classes = model.get("label_classes", 0)
activations = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}

opener = gzip.open if images_path.endswith(".gz") else open
with opener(images_path, "rb") as f:
    raw = f.read()
n, rows, cols = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
x = np.frombuffer(raw, dtype=np.uint8, offset=16, count=count * rows * cols).reshape(count, rows * cols) / 255.0
shape = model["input_shape"]
assert int(np.prod(shape)) == rows * cols, (shape, rows, cols)

with open(table, newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows_read = [r for _, r in zip(range(count), reader)]

def conv2d(h, w, b, stride, pad):
    """y[n, o, i, j] = b[o] + sum over c, u, v of w[o, c, u, v] * h[n, c, i*stride - pad + u, j*stride - pad + v]."""
    n, c, hh, ww = h.shape
    k = w.shape[2]
    padded = np.zeros((n, c, hh + 2 * pad, ww + 2 * pad))
    padded[:, :, pad:pad + hh, pad:pad + ww] = h
    ho, wo = (hh + 2 * pad - k) // stride + 1, (ww + 2 * pad - k) // stride + 1
    y = np.empty((n, w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = padded[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, :, i, j] = np.einsum("ncuv,ocuv->no", patch, w) + b
    return y


labels = [int(r[2]) for r in rows_read]
tutorial = all(layer["type"] in ("linear", "relu", "tanh") for layer in model["encoder"] + model["decoder"])
first = next((layer["type"] for layer in model["encoder"] if layer["type"] not in ("relu", "tanh", "leaky_relu")), None)
if classes and len(shape) == 3 and first == "conv2d":
    planes = np.zeros((count, classes, shape[1], shape[2]))
    planes[np.arange(count), labels] = 1
    h = np.concatenate([x.reshape(count, *shape), planes], axis=1)
elif classes:
    h = np.concatenate([x, np.eye(classes)[labels]], axis=1)
else:
    h = x.reshape(count, *shape)
linear = 0
for index, layer in enumerate(model["encoder"]):
    kind = layer["type"]
    name = None if tutorial else f"encoder.{index}"
    if kind == "linear":  # weights [out, in], as nn.Linear, on the flattened input
        linear += 1
        name = name or f"fc{linear}"
        h = h.reshape(count, -1) @ params[f"{name}.weight"].T + params[f"{name}.bias"]
    elif kind == "conv2d":
        h = conv2d(h.reshape(count, -1, *h.shape[-2:]), params[f"{name}.weight"], params[f"{name}.bias"],
                   layer.get("stride", 1), layer.get("padding", 0))
    elif kind == "flatten":
        h = h.reshape(count, -1)
    elif kind == "unflatten":
        h = h.reshape(count, *layer["shape"])
    elif kind == "leaky_relu":
        h = np.where(h > 0, h, layer.get("negative_slope", 0.01) * h)
    else:
        h = activations[kind](h)
head = f"fc{linear + 1}" if tutorial else "mu"
mu = h.reshape(count, -1) @ params[f"{head}.weight"].T + params[f"{head}.bias"]
assert header[:3] == ["index", "split", "label"], header
mu_cols = [header.index(f"mu_{j}") for j in range(latent)]
zoo_mu = np.array([[float(r[c]) for c in mu_cols] for r in rows_read])
assert zoo_mu.shape == (count, latent), zoo_mu.shape
assert [int(r[0]) for r in rows_read] == list(range(count))

worst = float(np.abs(zoo_mu - mu).max())
print(f"{count} images, {latent} latents: largest |mu_zoo - mu_numpy| = {worst:.2e}")
sys.exit(0 if worst <= 1e-4 else 1)
