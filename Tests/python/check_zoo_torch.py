#!/usr/bin/env python3
"""Checks python/zoo_torch.py against zoo itself (needs torch, h5py, numpy).

1. load(CKPT) builds the module with strict=True, and its encode gives the
   mu and logvar `zoo embed --logvar --csv EMBED` wrote for the first COUNT
   test images, within 1e-4; decode of the latent points `zoo sample
   --latent-out Z` wrote gives the means `zoo sample --out SAMPLES` wrote.
2. Its negative ELBO over the images `zoo eval --elbo --report REPORT`
   evaluated (the first test images), averaged over 50 draws, lies within 4
   times the spread of a one-draw figure of zoo's one-draw figure (the draws
   cannot be zoo's: they come from zoo's own generator), and the KL terms,
   which need no draw, agree within 1e-3 nat.
3. load_optimizer(CKPT, model) holds zoo's Adam state, and given the gradient
   of zoo's next step (recovered from NEXT's first moments, NEXT being CKPT
   resumed by one step), its step() gives NEXT's parameters and second
   moments within float rounding.

Usage: check_zoo_torch.py CKPT NEXT EMBED.csv IMAGES-idx3-ubyte.gz COUNT SAMPLES.npy Z.npy REPORT.json [LABEL]
"""
import csv
import gzip
import json
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import zoo_torch  # noqa: E402

ckpt, nxt, table, images_path, count, samples_path, z_path, report_path = sys.argv[1:9]
count = int(count)
label = int(sys.argv[9]) if len(sys.argv) > 9 else None
problems = []
torch.manual_seed(0)
model = zoo_torch.load(ckpt)
model.eval()
shape = model.input_shape
with gzip.open(images_path, "rb") as f:
    raw = f.read()
report = json.load(open(report_path))
n_eval = report["data"]["images"]
n_images = max(count, n_eval)
x_all = torch.from_numpy((np.frombuffer(raw, np.uint8, offset=16, count=n_images * int(np.prod(shape))) / 255.0).astype(np.float32))
x_all = x_all.reshape(n_images, *shape)
with open(table, newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:count + 1]
L = model.latent_dim
mu_zoo = np.array([[float(r[header.index(f"mu_{j}")]) for j in range(L)] for r in rows])
logvar_zoo = np.array([[float(r[header.index(f"logvar_{j}")]) for j in range(L)] for r in rows])
labels = [int(r[2]) for r in rows] if model.classes else None
with torch.no_grad():
    mu, logvar = model.encode(x_all[:count], labels)
    worst_encoder = max(np.abs(mu.numpy() - mu_zoo).max(), np.abs(logvar.numpy() - logvar_zoo).max())
    z = torch.from_numpy(np.load(z_path))
    mean = model.mean(model.decode(z, [label] * len(z) if model.classes else None)).numpy()
    worst_decoder = np.abs(mean.reshape(np.load(samples_path).shape) - np.load(samples_path)).max()
if worst_encoder > 1e-4 or worst_decoder > 1e-4:
    problems.append(f"encoder differs by {worst_encoder:.2e}, decoder by {worst_decoder:.2e}")

# 2. The negative ELBO.
elbo = report["elbo"]
n = n_eval
x = x_all[:n]
eval_labels = None
if model.classes:
    with open(table, newline="") as f:
        eval_labels = [int(r[2]) for r in list(csv.reader(f))[1:n + 1]]
with torch.no_grad():
    draws = torch.stack([model.negative_elbo(x, eval_labels) for _ in range(50)])
    mu, logvar = model.encode(x, eval_labels)
    kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean().item()
torch_elbo = draws.mean().item()
# zoo's figure is one draw per image: it differs from the mean over draws by the
# spread of a one-draw mean over these images, which the 50 draws measure.
one_draw_spread = draws.mean(1).std().item()
gap = abs(torch_elbo - elbo["negative_elbo"])
if gap > 4 * one_draw_spread + 1e-3:
    problems.append(f"−ELBO {torch_elbo:.4f} (torch, 50 draws) against zoo's {elbo['negative_elbo']:.4f}")
if abs(kl - elbo["kl"]) > 1e-3:
    problems.append(f"KL {kl:.5f} against zoo's {elbo['kl']:.5f}")

# 3. The next Adam step.
opt = zoo_torch.load_optimizer(ckpt, model)
with h5py.File(ckpt, "r") as f, h5py.File(nxt, "r") as g:
    b1 = float(f["optimizer"].attrs["beta1"])
    if int(g["optimizer"].attrs["step"]) != int(f["optimizer"].attrs["step"]) + 1:
        problems.append("NEXT is not one Adam step after CKPT")
    for name, p in model.named_parameters():
        m0 = np.asarray(f["optimizer/exp_avg"][name], np.float64)
        m1 = np.asarray(g["optimizer/exp_avg"][name], np.float64)
        p.grad = torch.from_numpy(((m1 - b1 * m0) / (1 - b1)).astype(np.float32)).reshape(p.shape)
    opt.step()
    worst_step, worst_v = 0.0, 0.0
    for name, p in model.named_parameters():
        want = np.asarray(g["model"][name], np.float64)
        before = np.asarray(f["model"][name], np.float64)
        delta = np.abs(want - before).max()
        worst_step = max(worst_step, np.abs(p.detach().numpy().reshape(want.shape) - want).max() / max(delta, 1e-12))
        v = opt.state[p]["exp_avg_sq"].numpy().reshape(want.shape)
        v_zoo = np.asarray(g["optimizer/exp_avg_sq"][name], np.float64)
        worst_v = max(worst_v, np.abs(v - v_zoo).max() / max(np.abs(v_zoo).max(), 1e-30))
if worst_step > 1e-2 or worst_v > 1e-4:
    problems.append(f"Adam step differs: parameters by {worst_step:.2e} of the step, second moments by {worst_v:.2e} relative")

print(f"torch {torch.__version__}: encoder {worst_encoder:.2e}, decoder {worst_decoder:.2e}; −ELBO {torch_elbo:.4f} "
      f"(50 draws, one-draw spread {one_draw_spread:.4f}) vs zoo {elbo['negative_elbo']:.4f}, KL {kl:.5f} vs {elbo['kl']:.5f}; next Adam step: parameters within "
      f"{worst_step:.2e} of the step, second moments {worst_v:.2e}" + (("; " + "; ".join(problems)) if problems else ""))
sys.exit(1 if problems else 0)
