#!/usr/bin/env python3
"""The importance-weighted NLL of a zoo checkpoint computed with PyTorch, for
comparing figures and speed with `zoo eval --nll` (needs torch, h5py, numpy;
not used by the tests).

Usage: pytorch_iwae.py CHECKPOINT.h5 [--images N] [--k 5000] [--chunk 500] [--threads 2]
Reads the first N Fashion-MNIST test images, loads the parameters by their
state_dict names, and prints the mean −log p̂(x) and the seconds taken.
"""
import argparse
import gzip
import json
import math
import time

import h5py
import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("checkpoint")
parser.add_argument("--images", type=int, default=200)
parser.add_argument("--k", type=int, default=5000)
parser.add_argument("--chunk", type=int, default=500)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

with h5py.File(args.checkpoint, "r") as f:
    config = json.loads(f["config"][()])
    p = {name: torch.from_numpy(np.asarray(f["model"][name])) for name in f["model"]}
tutorial_encoder = [{"type": "linear", "out_features": 400}, {"type": "relu"}]  # fc1 + ReLU: the tutorial's model only
assert config["model"]["encoder"] == tutorial_encoder and config["model"]["likelihood"] == "bernoulli", config["model"]
with gzip.open(args.data, "rb") as f:
    raw = f.read()
x_all = torch.from_numpy(np.frombuffer(raw, np.uint8, offset=16, count=args.images * 784).reshape(-1, 784) / 255.0).float()

F = torch.nn.functional
start = time.time()
total = 0.0
with torch.no_grad():
    h = F.relu(F.linear(x_all, p["fc1.weight"], p["fc1.bias"]))
    mu_all, logvar_all = F.linear(h, p["fc2.weight"], p["fc2.bias"]), F.linear(h, p["fc3.weight"], p["fc3.bias"])
    for i in range(args.images):
        x, mu, logvar = x_all[i], mu_all[i], logvar_all[i]
        std = torch.exp(0.5 * logvar)
        ws = []
        for s in range(0, args.k, args.chunk):
            eps = torch.randn(min(args.chunk, args.k - s), mu.numel())
            z = mu + eps * std
            logits = F.linear(F.relu(F.linear(z, p["fc4.weight"], p["fc4.bias"])), p["fc5.weight"], p["fc5.bias"])
            log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(1)
            log_pz = (-0.5 * z * z).sum(1)
            log_qz = (-0.5 * eps * eps - 0.5 * logvar).sum(1)
            ws.append(log_px + log_pz - log_qz)
        w = torch.cat(ws).double()
        total += -(torch.logsumexp(w, 0) - math.log(args.k)).item()
seconds = time.time() - start
print(f"{args.images} images, K={args.k}: NLL {total / args.images:.2f} nats, {seconds:.1f} s "
      f"({seconds / args.images * 10000:.0f} s per 10,000 images), torch {torch.__version__}, {args.threads} threads")
