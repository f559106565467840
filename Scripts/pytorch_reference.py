#!/usr/bin/env python3
"""The PyTorch tutorial VAE (pytorch/examples vae/main.py) on the same data as
`zoo train`, for speed and quality comparisons on the same CPU. Needs PyTorch
(not part of CI). Usage: pytorch_reference.py [--epochs N] [--data DIR]

Prints per-epoch train loss, test loss (negative ELBO, nats per image) and the
seconds of each training epoch, then the median and the peak resident memory.
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

class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x):
        h1 = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar

def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x, reduction="sum")
    return bce + -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=15)
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
args = ap.parse_args()
torch.manual_seed(1)
train = torch.from_numpy(idx(f"{args.data}/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255)
test = torch.from_numpy(idx(f"{args.data}/t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255)
model = VAE()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
times = []
for epoch in range(1, args.epochs + 1):
    model.train()
    perm = torch.randperm(len(train))
    total, t0 = 0.0, time.perf_counter()
    for i in range(0, len(train), 128):
        x = train[perm[i:i + 128]]
        opt.zero_grad()
        recon, mu, logvar = model(x)
        loss = loss_function(recon, x, mu, logvar)
        loss.backward()
        total += loss.item()
        opt.step()
    times.append(time.perf_counter() - t0)
    model.eval()
    tl = 0.0
    with torch.no_grad():
        for i in range(0, len(test), 128):
            x = test[i:i + 128]
            recon, mu, logvar = model(x)
            tl += loss_function(recon, x, mu, logvar).item()
    print(f"epoch {epoch}  train {total / len(train):.2f}  test {tl / len(test):.2f}  {times[-1]:.3f} s", flush=True)
print(f"median {statistics.median(times):.3f} s per epoch; torch {torch.__version__}, {torch.get_num_threads()} threads; "
      f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
