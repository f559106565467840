#!/usr/bin/env python3
"""Checks `zoo export --onnx DIR` with ONNX's own tools: onnx.checker passes on
both files, their metadata holds zoo's config and version, and onnxruntime's
outputs match zoo's: the encoder's mu and logvar on the first COUNT test
images against `zoo embed --logvar --csv` (the CSV's label column gives a
conditional model its one-hot label), and the decoder's mean on the latent
points `zoo sample --latent-out` wrote against the means `zoo sample --out
NAME.npy` wrote (with --label LABEL for a conditional model), within 1e-4.
Both runs use a batch of several rows and of one row (the batch axis is dynamic).

Usage: check_onnx.py DIR EMBEDDING.csv IMAGES-idx3-ubyte[.gz] COUNT SAMPLES.npy Z.npy [LABEL]
"""
import csv
import gzip
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

folder, table, images_path, count, samples_path, z_path = sys.argv[1:7]
count = int(count)
label = int(sys.argv[7]) if len(sys.argv) > 7 else None
problems = []

models = {}
for part in ("encoder", "decoder"):
    m = onnx.load(f"{folder}/{part}.onnx")
    onnx.checker.check_model(m, full_check=True)
    meta = {p.key: p.value for p in m.metadata_props}
    if "zoo_version" not in meta or "model" not in json.loads(meta.get("config", "{}")):
        problems.append(f"{part}: metadata {sorted(meta)} lacks config or zoo_version")
    if [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")] != [17]:
        problems.append(f"{part}: opset {[(o.domain, o.version) for o in m.opset_import]}")
    models[part] = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    config = json.loads(meta["config"])["model"]

shape = config["input_shape"]
classes = config.get("label_classes", 0)
opener = gzip.open if images_path.endswith(".gz") else open
with opener(images_path, "rb") as f:
    raw = f.read()
pixels = int(np.prod(shape))
x = (np.frombuffer(raw, dtype=np.uint8, offset=16, count=count * pixels).reshape(count, *shape) / 255.0).astype(np.float32)
with open(table, newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:count + 1]
latent = config["latent_dim"]
mu_zoo = np.array([[float(r[header.index(f"mu_{j}")]) for j in range(latent)] for r in rows])
logvar_zoo = np.array([[float(r[header.index(f"logvar_{j}")]) for j in range(latent)] for r in rows])


def run(session, feeds):
    """The session on all rows at once and one row at a time, which must agree."""
    together = session.run(None, feeds)
    single = [session.run(None, {k: v[i:i + 1] for k, v in feeds.items()}) for i in range(len(next(iter(feeds.values()))))]
    for j, out in enumerate(together):
        if np.abs(out - np.concatenate([s[j] for s in single])).max() > 1e-5:
            problems.append("batch of one differs from the full batch")
    return together


feeds = {"x": x}
if classes:
    feeds["label"] = np.eye(classes, dtype=np.float32)[[int(r[2]) for r in rows]]
mu, logvar = run(models["encoder"], feeds)
worst_encoder = max(np.abs(mu - mu_zoo).max(), np.abs(logvar - logvar_zoo).max())

z = np.load(z_path)
samples = np.load(samples_path)
feeds = {"z": z}
if classes:
    feeds["label"] = np.eye(classes, dtype=np.float32)[[label] * len(z)]
mean, logits = run(models["decoder"], feeds)
worst_decoder = np.abs(mean.reshape(samples.shape) - samples).max()
if worst_encoder > 1e-4 or worst_decoder > 1e-4:
    problems.append(f"largest differences: encoder {worst_encoder:.2e}, decoder {worst_decoder:.2e}")
print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}: checker passed; {count} images, largest |mu, logvar − zoo| "
      f"{worst_encoder:.2e}; {len(z)} samples, largest |mean − zoo| {worst_decoder:.2e}"
      + (("; " + "; ".join(problems)) if problems else ""))
sys.exit(1 if problems else 0)
