"""zoo checkpoints in PyTorch.

    import zoo_torch
    model = zoo_torch.load("conv.h5")                  # a torch.nn.Module, weights loaded strict=True
    opt = zoo_torch.load_optimizer("conv.h5", model)   # torch.optim.Adam with zoo's moments and step
    mu, logvar = model.encode(x)                       # x: [N, C, H, W] (or [N, D]) in [0, 1]
    logits = model.decode(z)                           # in the input's shape; model.mean(logits) for p(x|z)'s mean

Depends on h5py, numpy and torch. The module is built from the checkpoint's
config (format 4: input_shape, encoder and decoder layer lists, latent_dim,
likelihood, label_classes): models of linear layers and activations name
their layers fc1, fc2, … as zoo does; any other has nn.Sequential `encoder`
and `decoder` and linear `mu` and `logvar` heads. A conditional model takes
`label` (class indices) in encode and decode.
"""
import json

import h5py
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class _FlatLinear(nn.Linear):
    """nn.Linear on its input flattened to one vector per example, as zoo's linear layers take it."""

    def forward(self, x):
        return super().forward(x.flatten(1))


def _plan(layers, shape):
    """(module, output shape) of each declared layer, from the input shape."""
    out = []
    for spec in layers:
        kind = spec["type"]
        if kind == "linear":
            module, shape = _FlatLinear(int(np.prod(shape)), spec["out_features"]), [spec["out_features"]]
        elif kind == "relu":
            module = nn.ReLU()
        elif kind == "tanh":
            module = nn.Tanh()
        elif kind == "leaky_relu":
            module = nn.LeakyReLU(spec.get("negative_slope", 0.01))
        elif kind == "flatten":
            module, shape = nn.Flatten(), [int(np.prod(shape))]
        elif kind == "unflatten":
            module, shape = nn.Unflatten(1, tuple(spec["shape"])), list(spec["shape"])
        elif kind in ("conv2d", "conv_transpose2d"):
            k, s, p = spec["kernel_size"], spec.get("stride", 1), spec.get("padding", 0)
            c, h, w = shape
            if kind == "conv2d":
                module = nn.Conv2d(c, spec["out_channels"], k, s, p)
                shape = [spec["out_channels"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1]
            else:
                op = spec.get("output_padding", 0)
                module = nn.ConvTranspose2d(c, spec["out_channels"], k, s, p, op)
                shape = [spec["out_channels"], (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op]
        else:
            raise ValueError(f"unknown layer type {kind!r}")
        out.append((module, shape))
    return out


class ZooVAE(nn.Module):
    """The VAE a zoo checkpoint's config declares, with zoo's state_dict names."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.input_shape = list(config["input_shape"])
        self.latent_dim = config["latent_dim"]
        self.classes = config.get("label_classes", 0)
        self.likelihood = config["likelihood"]
        encoder, decoder = config["encoder"], config["decoder"]
        first = next((l["type"] for l in encoder if l["type"] not in ("relu", "tanh", "leaky_relu")), None)
        self.label_planes = self.classes > 0 and len(self.input_shape) == 3 and first == "conv2d"
        shape = self.input_shape
        if self.classes:
            shape = [shape[0] + self.classes] + shape[1:] if self.label_planes else [int(np.prod(shape)) + self.classes]
        enc = _plan(encoder, shape)
        width = int(np.prod(enc[-1][1])) if enc else int(np.prod(shape))
        dec = _plan(decoder, [self.latent_dim + self.classes])
        self.tutorial = all(l["type"] in ("linear", "relu", "tanh") for l in encoder + decoder)
        if self.tutorial:
            # fc1, fc2, … in order: the encoder's linear layers, μ, log σ², the decoder's.
            count = 0
            self._encoder, self._decoder = [], []
            for modules, target in ((enc, self._encoder), (None, None), (dec, self._decoder)):
                if modules is None:
                    self.mu_name, self.logvar_name = f"fc{count + 1}", f"fc{count + 2}"
                    setattr(self, self.mu_name, _FlatLinear(width, self.latent_dim))
                    setattr(self, self.logvar_name, _FlatLinear(width, self.latent_dim))
                    count += 2
                    continue
                for module, _ in modules:
                    if isinstance(module, nn.Linear):
                        count += 1
                        setattr(self, f"fc{count}", module)
                        target.append(f"fc{count}")
                    else:
                        target.append(module)
        else:
            self.encoder = nn.Sequential(*[m for m, _ in enc])
            self.mu = _FlatLinear(width, self.latent_dim)
            self.logvar = _FlatLinear(width, self.latent_dim)
            self.decoder = nn.Sequential(*[m for m, _ in dec])

    def _run(self, stack, h):
        for item in stack:
            h = getattr(self, item)(h) if isinstance(item, str) else item(h)
        return h

    def _onehot(self, label, n):
        if label is None:
            raise ValueError("a conditional model needs label (class indices)")
        return F.one_hot(torch.as_tensor(label).long().reshape(n), self.classes).float()

    def encode(self, x, label=None):
        """(μ, log σ²) of q(z|x) for x of shape [N, *input_shape] (or [N, D])."""
        x = x.reshape(len(x), *self.input_shape)
        if self.classes:
            y = self._onehot(label, len(x))
            if self.label_planes:
                x = torch.cat([x, y[:, :, None, None].expand(-1, -1, *self.input_shape[1:])], 1)
            else:
                x = torch.cat([x.flatten(1), y], 1)
        if self.tutorial:
            h = self._run(self._encoder, x)
            return getattr(self, self.mu_name)(h), getattr(self, self.logvar_name)(h)
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z, label=None):
        """The decoder's logits for z, in the input's shape."""
        if self.classes:
            z = torch.cat([z, self._onehot(label, len(z))], 1)
        h = self._run(self._decoder, z) if self.tutorial else self.decoder(z)
        return h.reshape(len(z), *self.input_shape)

    def mean(self, logits):
        """The mean of p(x|z) from the logits, as zoo's likelihood defines it."""
        if self.likelihood == "gaussian-linear":
            return logits
        if self.likelihood == "continuous-bernoulli":
            exact = 1 / (1 - torch.exp(-logits)) - 1 / logits
            series = 0.5 + logits / 12 - logits ** 3 / 720
            return torch.where(logits.abs() < 1e-2, series, exact)
        return torch.sigmoid(logits)

    def forward(self, x, label=None):
        """(logits, μ, log σ²) with one z = μ + σ ε."""
        mu, logvar = self.encode(x, label)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z, label), mu, logvar

    def negative_elbo(self, x, label=None):
        """Per-image negative ELBO in nats with one z ~ q(z|x): zoo's loss (Bernoulli and Gaussian decoders)."""
        logits, mu, logvar = self.forward(x, label)
        x = x.reshape(logits.shape)
        if self.likelihood == "bernoulli":
            rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        elif self.likelihood in ("gaussian", "gaussian-linear"):
            sigma = self.config["sigma"]
            mean = torch.sigmoid(logits) if self.likelihood == "gaussian" else logits
            d = mean[0].numel()
            rec = ((x - mean) ** 2).flatten(1).sum(1) / (2 * sigma ** 2) + d * (np.log(sigma) + 0.5 * np.log(2 * np.pi))
        else:
            raise NotImplementedError("negative_elbo: the continuous Bernoulli's normalizer is not written here")
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)
        return rec + kl


def config(path):
    """The run configuration stored in a checkpoint."""
    with h5py.File(path, "r") as f:
        return json.loads(f["config"][()])


def load(path):
    """The checkpoint's model as a ZooVAE, its parameters loaded with strict=True."""
    c = config(path)
    model = ZooVAE(c["model"])
    with h5py.File(path, "r") as f:
        state = {name: torch.from_numpy(np.asarray(f["model"][name], dtype=np.float32)) for name in f["model"]}
    model.load_state_dict(state, strict=True)
    return model


def load_optimizer(path, model):
    """torch.optim.Adam over model.parameters() holding zoo's hyperparameters, moments and step."""
    with h5py.File(path, "r") as f:
        g = f["optimizer"]
        a = dict(g.attrs)
        opt = torch.optim.Adam(model.parameters(), lr=float(a["lr"]), betas=(float(a["beta1"]), float(a["beta2"])), eps=float(a["eps"]))
        step = int(a["step"])
        for name, p in model.named_parameters():
            opt.state[p] = {
                "step": torch.tensor(float(step)),
                "exp_avg": torch.from_numpy(np.asarray(g["exp_avg"][name], dtype=np.float32)).reshape(p.shape).clone(),
                "exp_avg_sq": torch.from_numpy(np.asarray(g["exp_avg_sq"][name], dtype=np.float32)).reshape(p.shape).clone(),
            }
    return opt
