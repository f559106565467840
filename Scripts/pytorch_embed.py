#!/usr/bin/env python3
"""The latent means of every Fashion-MNIST image computed with PyTorch from a zoo
checkpoint of the tutorial model, written as the CSV `zoo embed CKPT --split all
--csv z.csv` writes, for comparing speed (needs torch, h5py, numpy; not used by
the tests).

Usage: pytorch_embed.py CHECKPOINT.h5 --csv z.csv [--threads 2] [--data DIR]
Prints the seconds from reading the data to the written file (the import of
torch excluded), and those of the encoder pass alone.
"""
import argparse
import gzip
import json
import time

import h5py
import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("checkpoint")
parser.add_argument("--csv", required=True)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()
torch.set_num_threads(args.threads)

start = time.perf_counter()
with h5py.File(args.checkpoint, "r") as f:
    config = json.loads(f["config"][()])
    p = {name: torch.from_numpy(np.asarray(f["model"][name])) for name in f["model"]}
tutorial_encoder = [{"type": "linear", "out_features": 400}, {"type": "relu"}]  # fc1 + ReLU: the tutorial's model only
assert config["model"]["encoder"] == tutorial_encoder, config["model"]


def idx(name, offset):
    with gzip.open(f"{args.data}/{name}.gz", "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


splits = []
for split, prefix in (("train", "train"), ("test", "t10k")):
    images = idx(f"{prefix}-images-idx3-ubyte", 16).reshape(-1, 784)
    labels = idx(f"{prefix}-labels-idx1-ubyte", 8)
    splits.append((split, images, labels))
x = torch.from_numpy(np.concatenate([s[1] for s in splits]) / np.float32(255.0)).float()

F = torch.nn.functional
encode_start = time.perf_counter()
with torch.no_grad():
    mu = F.linear(F.relu(F.linear(x, p["fc1.weight"], p["fc1.bias"])), p["fc2.weight"], p["fc2.bias"]).numpy()
encode_seconds = time.perf_counter() - encode_start

d = mu.shape[1]
with open(args.csv, "w") as f:
    f.write("index,split,label," + ",".join(f"mu_{j}" for j in range(d)) + "\n")
    row = 0
    for split, images, labels in splits:
        body = mu[row:row + len(images)]
        prefix = np.char.add(np.char.add(np.arange(len(images)).astype(str), f",{split},"), labels.astype(str))
        values = np.array([",".join(v) for v in np.char.mod("%.9g", body)])
        f.write("\n".join(np.char.add(np.char.add(prefix, ","), values)) + "\n")
        row += len(images)
seconds = time.perf_counter() - start
print(f"{len(mu)} images: {seconds:.2f} s from reading the data to the written CSV, encoder pass {encode_seconds:.3f} s; "
      f"torch {torch.__version__}, {args.threads} threads")
