#!/usr/bin/env python3
"""Golden values for zoo's Adam test (Tests/NeuralNetTests/AdamGoldenTests.swift).

Runs torch.optim.Adam (defaults except where stated) on a float32 parameter
vector with a fixed sequence of gradients and prints the parameters, first and
second moments after every step as Swift array literals. Needs PyTorch; it is
not part of CI. Generated with torch 2.15.0 (CPU) on 2026-11-25.
"""
import torch

torch.set_default_dtype(torch.float32)
init = [0.5, -1.25, 3.0, 1e-3, -2e-4, 0.0, 7.5, -0.3]
grads = [
    [0.1, -0.2, 0.3, -0.4, 0.5, 0.0, 1e-6, -7.0],
    [0.05, 0.2, -0.3, 0.4, 0.5, 1e-3, 2e-6, 3.0],
    [-0.1, -0.1, 0.0, 0.0, -0.5, -1e-3, 0.0, 1.0],
    [1.0, 1.0, 1.0, -1.0, 0.25, 0.0, -1e-6, -2.0],
    [0.3, -0.7, 0.2, 0.2, -0.1, 1e-2, 1e-5, 0.5],
]

for label, kwargs in [("defaults", {}), ("custom", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6))]:
    p = torch.nn.Parameter(torch.tensor(init))
    opt = torch.optim.Adam([p], **kwargs)
    print(f"// {label}: {kwargs}")
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        st = opt.state[p]
        f = lambda t: "[" + ", ".join(repr(float(x)) for x in t.detach().tolist()) + "]"
        print(f"    (p: {f(p)}, m: {f(st['exp_avg'])}, v: {f(st['exp_avg_sq'])}),")
