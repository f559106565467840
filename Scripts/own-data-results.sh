#!/usr/bin/env bash
# Runs the README's "Your own data" block in a scratch directory, then evaluates
# every checkpoint it made and prints a Markdown table of the 2-epoch results;
# copies the embedding plots and sample grids to docs/own-data/.
# Usage: Scripts/own-data-results.sh   (after swift build -c release)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$root/.build/release:/usr/bin:/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/zoo-own-data.XXXXXX")
trap 'status=$?; [ $status -eq 0 ] || echo "failed in $work" >&2; rm -rf "$work"' EXIT
ln -s "$root/Tests" "$work/Tests"
cd "$work"
awk '/^## Your own data/{s=1} s && /^```sh/{b=1; next} b && /^```/{exit} b && !/^#/ && NF' "$root/README.md" > block.sh
while IFS= read -r line; do sh -c "$line" </dev/null >/dev/null 2>&1 || { echo "failed: $line" >&2; exit 1; }; done < block.sh
echo "| data (kind) | model | test examples | test −ELBO after 2 epochs (nats) | bits/dim |"
echo "| --- | --- | ---: | ---: | ---: |"
for ckpt in digits-npy digits-npz fashion-h5 wine photos; do
    zoo eval "$ckpt.h5" --elbo --json > "$ckpt.json" 2> "$ckpt.err" || { cat "$ckpt.err" >&2; exit 1; }
    zoo inspect "$ckpt.h5" --json > "$ckpt-inspect.json"
    /usr/bin/python3 - "$ckpt" <<'PY'
import json, sys
name = sys.argv[1]
ev, ins = json.load(open(f"{name}.json")), json.load(open(f"{name}-inspect.json"))
c = ins["config"]
shape = "×".join(map(str, c["model"]["input_shape"]))
train = ins["history"][-1] if ins["history"] else {}
path = c["data"]["path"] or "default"
file, _, group = path.partition(":/")
label = file.split("/")[-1] + (":/" + group if group else "")
print(f"| `{label}` ({c['data']['kind']}) | {shape}, {c['model']['likelihood']}"
      f"{', conditional' if c['model']['label_classes'] else ''}{', standardized' if c['data']['standardize'] else ''} | "
      f"{ev['data']['images']} | {ev['elbo']['negative_elbo']:.2f} | {ev['elbo']['bits_per_dim']:.3f} |")
PY
done
mkdir -p "$root/docs/own-data"
cp digits-npz.png wine.png "$root/docs/own-data/"
cp photos/sampled-2.png "$root/docs/own-data/photos-sampled-2.png"
cp photos/reconst-2.png "$root/docs/own-data/photos-reconst-2.png"
