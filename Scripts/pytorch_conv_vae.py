#!/usr/bin/env python3
"""The conv-vae recipe's PyTorch module (issue 13), for quality and speed
comparisons with `zoo train --recipe conv-vae` on the same CPU, and for
loading a zoo conv-vae checkpoint into PyTorch. Needs PyTorch (not part of CI).

  pytorch_conv_vae.py [--epochs N] [--data DIR] [--limit N] [--threads T]
      trains the module as zoo trains the recipe (Bernoulli decoder from the
      logits, Adam 1e-3, batch 128, the in-memory loop, no DataLoader) and
      prints per-epoch train and test negative ELBO (nats per image), the
      seconds of each training epoch and of the test pass, the median and
      the peak resident memory.
  pytorch_conv_vae.py --checkpoint CKPT.h5 [--data DIR] [--draws K]
      loads the checkpoint's /model arrays with load_state_dict(strict=True)
      and prints the test negative ELBO (mean over K noise draws), its
      reconstruction and KL terms, to compare with `zoo eval CKPT --elbo`.
  pytorch_conv_vae.py --checkpoint CKPT.h5 --nll K [--images N] [--chunk C]
      the importance-weighted −log p(x) of the first N test images with K
      draws each (decoder batches of C draws), and the seconds it took, to
      compare with `zoo eval CKPT --nll --iw-samples K --limit N`.
"""
import argparse, gzip, resource, statistics, struct, time
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


class ConvVAE(nn.Module):
    """Exactly the module of issue 13; its state_dict names are the checkpoint's."""

    def __init__(self, c=1, h=28, w=28, z=20):
        super().__init__()
        s = 64 * (h // 4) * (w // 4)
        self.encoder = nn.Sequential(
            nn.Conv2d(c, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(s, 256), nn.ReLU())
        self.mu = nn.Linear(256, z)
        self.logvar = nn.Linear(256, z)
        self.decoder = nn.Sequential(
            nn.Linear(z, 256), nn.ReLU(),
            nn.Linear(256, s), nn.ReLU(), nn.Unflatten(1, (64, h // 4, w // 4)),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, c, 4, 2, 1))

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar


def loss_terms(logits, x, mu, logvar):
    """Summed over the batch: Bernoulli reconstruction (BCE from the logits) and the closed-form KL."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return rec, kl


def evaluate(model, test):
    rec_sum, kl_sum = 0.0, 0.0
    with torch.no_grad():
        for i in range(0, len(test), 128):
            x = test[i:i + 128]
            logits, mu, logvar = model(x)
            rec, kl = loss_terms(logits, x, mu, logvar)
            rec_sum += rec.item()
            kl_sum += kl.item()
    return rec_sum / len(test), kl_sum / len(test)


ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=15)
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
ap.add_argument("--limit", type=int, default=0, help="train on the first N images only")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--checkpoint", help="evaluate a zoo conv-vae checkpoint instead of training")
ap.add_argument("--draws", type=int, default=10)
ap.add_argument("--nll", type=int, default=0, help="importance samples K per image (with --checkpoint)")
ap.add_argument("--images", type=int, default=100)
ap.add_argument("--chunk", type=int, default=500)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)


def images(name):
    a = idx(f"{args.data}/{name}-images-idx3-ubyte.gz")
    return torch.from_numpy(a.reshape(-1, 1, a.shape[1], a.shape[2]).astype(np.float32) / 255)


test = images("t10k")
if args.checkpoint:
    import h5py
    with h5py.File(args.checkpoint, "r") as f:
        state = {name: torch.from_numpy(np.asarray(f["model"][name])) for name in f["model"]}
    model = ConvVAE(c=test.shape[1], h=test.shape[2], w=test.shape[3], z=state["mu.weight"].shape[0])
    model.load_state_dict(state, strict=True)
    model.eval()
    if args.nll:
        start, total = time.perf_counter(), 0.0
        with torch.no_grad():
            x_all = test[:args.images]
            h = model.encoder(x_all)
            mu_all, logvar_all = model.mu(h), model.logvar(h)
            for i in range(len(x_all)):
                x, mu, logvar = x_all[i], mu_all[i], logvar_all[i]
                std = torch.exp(0.5 * logvar)
                ws = []
                for s in range(0, args.nll, args.chunk):
                    eps = torch.randn(min(args.chunk, args.nll - s), mu.numel())
                    z = mu + eps * std
                    logits = model.decoder(z)
                    log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").flatten(1).sum(1)
                    ws.append(log_px + (-0.5 * z * z).sum(1) - (-0.5 * eps * eps - 0.5 * logvar).sum(1))
                w = torch.cat(ws).double()
                total += -(torch.logsumexp(w, 0) - np.log(args.nll)).item()
        seconds = time.perf_counter() - start
        print(f"{len(x_all)} images, K={args.nll}: −log p(x) {total / len(x_all):.2f} nats (log p(z), log q constants cancel), "
              f"{seconds:.2f} s ({len(x_all) / seconds:.2f} images/s); torch {torch.__version__}, {args.threads} threads")
        raise SystemExit(0)
    draws = [evaluate(model, test) for _ in range(args.draws)]
    rec = [d[0] for d in draws]
    kl = draws[0][1]
    print(f"test −ELBO {statistics.mean(rec) + kl:.4f} (reconstruction {statistics.mean(rec):.4f} ± "
          f"{statistics.stdev(rec) / len(rec) ** 0.5 if len(rec) > 1 else 0:.4f} over {len(rec)} draws, KL {kl:.4f}); "
          f"{sum(p.numel() for p in model.parameters())} parameters loaded strict; torch {torch.__version__}")
    raise SystemExit(0)

train = images("train")
if args.limit:
    train = train[:args.limit]
model = ConvVAE(c=train.shape[1], h=train.shape[2], w=train.shape[3])
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
times, eval_times = [], []
print(f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)
for epoch in range(1, args.epochs + 1):
    model.train()
    perm = torch.randperm(len(train))
    total, t0 = 0.0, time.perf_counter()
    for i in range(0, len(train), 128):
        x = train[perm[i:i + 128]]
        opt.zero_grad()
        logits, mu, logvar = model(x)
        rec, kl = loss_terms(logits, x, mu, logvar)
        loss = rec + kl
        loss.backward()
        total += loss.item()
        opt.step()
    times.append(time.perf_counter() - t0)
    model.eval()
    t1 = time.perf_counter()
    rec, kl = evaluate(model, test)
    eval_times.append(time.perf_counter() - t1)
    print(f"epoch {epoch}  train {total / len(train):.2f}  test {rec + kl:.2f}  {times[-1]:.3f} s  "
          f"({len(train) / times[-1]:.0f} images/s; test pass {eval_times[-1]:.3f} s)", flush=True)
print(f"median {statistics.median(times):.3f} s per epoch ({len(train) / statistics.median(times):.0f} images/s); "
      f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
      f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
