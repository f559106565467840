#!/usr/bin/env python3
"""Runs a zoo checkpoint's encoder in numpy, from the parameters h5py reads by
their state_dict names, on the first images of an IDX file, and compares the
posterior means with the mu_* columns `zoo embed --csv` wrote. The encoder is
walked as the config's layer list declares it (linear layers named fc1, fc2, …
in order, then the μ head); a conditional model (label_classes C > 0) gets
[x, one-hot(label)] with the CSV's label column.

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

with open(table, newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows_read = [r for _, r in zip(range(count), reader)]

h = x
if classes:
    h = np.concatenate([x, np.eye(classes)[[int(r[2]) for r in rows_read]]], axis=1)
linear = 0
for layer in model["encoder"]:  # weights [out, in], as nn.Linear
    if layer["type"] == "linear":
        linear += 1
        h = h @ params[f"fc{linear}.weight"].T + params[f"fc{linear}.bias"]
    else:
        h = activations[layer["type"]](h)
mu = h @ params[f"fc{linear + 1}.weight"].T + params[f"fc{linear + 1}.bias"]
assert header[:3] == ["index", "split", "label"], header
mu_cols = [header.index(f"mu_{j}") for j in range(latent)]
zoo_mu = np.array([[float(r[c]) for c in mu_cols] for r in rows_read])
assert zoo_mu.shape == (count, latent), zoo_mu.shape
assert [int(r[0]) for r in rows_read] == list(range(count))

worst = float(np.abs(zoo_mu - mu).max())
print(f"{count} images, {latent} latents: largest |mu_zoo - mu_numpy| = {worst:.2e}")
sys.exit(0 if worst <= 1e-4 else 1)
