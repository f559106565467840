#!/usr/bin/env bash
# Trains every recipe on Fashion-MNIST with its own settings, evaluates the test
# split (−ELBO, NLL with K = 5000, active units), and, for the unconditional
# models, the MNIST test set as out-of-distribution data; then writes
# results/RESULTS.md, the table the README quotes.
#
#   Scripts/results.sh [recipe ...]        (default: every recipe of `zoo list`)
#
# Environment: ZOO (default .build/release/zoo, built if missing), MNIST (the
# MNIST directory, default Tests/Data/mnist-t10k; skipped if absent),
# K (importance samples, default 5000), OUT (default results), EVAL=0 to
# retrain (for the timings) but keep the existing eval reports: a run is
# bit-identical for the same seed and thread count, so they still apply.
# Checkpoints (results/NAME.h5) are not committed; the eval reports are.
set -euo pipefail
cd "$(dirname "$0")/.."
ZOO=${ZOO:-.build/release/zoo}
MNIST=${MNIST:-Tests/Data/mnist-t10k}
K=${K:-5000}
OUT=${OUT:-results}
EVAL=${EVAL:-1}
[ -x "$ZOO" ] || swift build -c release --product zoo
mkdir -p "$OUT"
recipes=("$@")
[ ${#recipes[@]} -gt 0 ] || mapfile -t recipes < <("$ZOO" list | awk '{print $1}')

for r in "${recipes[@]}"; do
    echo "== $r" >&2
    "$ZOO" train --recipe "$r" --save "$OUT/$r.h5" > "$OUT/$r-train.txt"
    "$ZOO" inspect "$OUT/$r.h5" --json > "$OUT/$r-inspect.json"
    [ "$EVAL" = 0 ] && continue
    "$ZOO" eval "$OUT/$r.h5" --nll --iw-samples "$K" --report "$OUT/$r-eval.json" > /dev/null
    if [ -d "$MNIST" ] && [ "$r" != cvae ]; then
        "$ZOO" eval "$OUT/$r.h5" --nll --iw-samples "$K" --data "$MNIST" --report "$OUT/$r-mnist-eval.json" > /dev/null
    fi
done

python3 - "$OUT" "$K" "${recipes[@]}" <<'PY'
import json, math, os, statistics, sys
out, K, recipes = sys.argv[1], sys.argv[2], sys.argv[3:]
def load(p):
    return json.load(open(p)) if os.path.exists(p) else None
rows = ["| recipe | model | data | test −ELBO | test NLL (K=%s) | bits/dim | active units | s/epoch | MNIST NLL (OOD) |" % K,
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
for r in recipes:
    ins, ev, mn = load(f"{out}/{r}-inspect.json"), load(f"{out}/{r}-eval.json"), load(f"{out}/{r}-mnist-eval.json")
    m, t = ins["config"]["model"], ins["config"]["training"]
    widths = lambda stack: [l["out_features"] for l in stack if l["type"] == "linear"]
    arch = "-".join(map(str, [math.prod(m["input_shape"])] + widths(m["encoder"]) + [m["latent_dim"]] + widths(m["decoder"])))
    extras = sorted({l["type"] for l in m["encoder"] + m["decoder"] if l["type"] != "linear"})
    if m["likelihood"] == "gaussian": extras.append("Gaussian σ=%g" % m["sigma"])
    if m.get("label_classes", 0): extras.append("conditional")
    if t.get("beta", 1) != 1: extras.append("β=%g" % t["beta"])
    if t.get("iw_samples", 1) > 1: extras.append("IWAE K=%d" % t["iw_samples"])
    nll = ev["nll"]["estimates"][-1]
    secs = statistics.median(h["seconds"] for h in ins["history"])
    ood = "%.2f" % mn["nll"]["estimates"][-1]["nll"] if mn else "–"
    rows.append("| `%s` | %s, %s | %s, %d epochs | %.2f | %.2f | %.4f | %d / %d | %.2f | %s |" % (
        r, arch, ", ".join(extras), ins["config"]["data"]["binarization"], len(ins["history"]),
        ev["elbo"]["negative_elbo"], nll["nll"], nll["bits_per_dim"], ev["latent"]["active_units"], m["latent_dim"], secs, ood))
blas = ev["blas"]
text = "\n".join(rows) + "\n\nFashion-MNIST test set (10,000 images), nats per image; produced by `Scripts/results.sh` " \
    "(zoo %s, eval on OpenBLAS %s with %d threads).\n" % (ev["zoo_version"] if "zoo_version" in ev else "?", blas["core"], blas["threads"])
open(f"{out}/RESULTS.md", "w").write(text)
print(text)
PY
