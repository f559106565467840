#!/usr/bin/env python3
"""Reads a `zoo train --log DIR` run back with TensorBoard's own reader
(tensorboard.backend.event_processing.event_accumulator, which checks the
records' CRC-32C framing) and compares it with DIR/metrics.csv: the step
scalars and the epoch scalars have the CSV's steps, each once, and its values
(to float32 precision), and there is one PNG sample grid per epoch.

Usage: check_tensorboard.py DIR
"""
import csv
import sys

from tensorboard.backend.event_processing import event_accumulator

folder = sys.argv[1]
acc = event_accumulator.EventAccumulator(folder, size_guidance={"scalars": 0, "images": 0})
acc.Reload()
problems = []
with open(f"{folder}/metrics.csv", newline="") as f:
    rows = list(csv.DictReader(f))
steps = [r for r in rows if r["kind"] == "step"]
epochs = [r for r in rows if r["kind"] == "epoch"]


def compare(tag, rows, column):
    events = acc.Scalars(tag)
    got = [(e.step, e.value) for e in events]
    want = [(int(r["global_step"]), float(r[column])) for r in rows if r[column] != ""]
    if [s for s, _ in got] != [s for s, _ in want]:
        problems.append(f"{tag}: steps {[s for s, _ in got][:6]}… against the CSV's {[s for s, _ in want][:6]}…")
    elif any(abs(a - b) > 1e-5 * max(1.0, abs(b)) for (_, a), (_, b) in zip(got, want)):
        problems.append(f"{tag}: values differ from the CSV's {column}")


compare("train/loss", steps, "loss")
compare("train/kl", steps, "kl")
compare("epoch/train_loss", epochs, "loss")
compare("epoch/test_loss", epochs, "test_loss")
images = acc.Images("samples") if "samples" in acc.Tags()["images"] else []
if len(images) != len(epochs) or any(not i.encoded_image_string.startswith(b"\x89PNG") for i in images):
    problems.append(f"{len(images)} sample images for {len(epochs)} epochs")
print(f"{len(acc.Scalars('train/loss'))} step and {len(acc.Scalars('epoch/train_loss'))} epoch events, {len(images)} images: "
      + ("; ".join(problems) if problems else "as in metrics.csv"))
sys.exit(1 if problems else 0)
