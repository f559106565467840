#!/usr/bin/env bash
# Installs the Debian packages zoo builds, runs and tests with (idempotent).
#   libopenblas-dev  matrix products (pkg-config openblas)
#   libxsmm-dev      just-in-time kernels for some of them (pkg-config libxsmm)
#   libhdf5-dev      checkpoints (pkg-config hdf5)
#   zlib1g-dev       gzip datasets and PNG (pkg-config zlib)
#   libpng-dev       PNG decoding for image-folder datasets (pkg-config libpng)
#   dataset-fashion-mnist   the default data, in /usr/share/datasets/fashion-mnist
#   python3-h5py python3-numpy   the interoperability tests
#   python3-venv    the virtual environment below
#   chromium        renders `zoo report`'s page headless in the tests
# and, from PyPI into .venv (ZOO_VENV overrides the place; Debian's numpy and
# h5py stay visible in it), the Python packages Debian does not have:
#   safetensors     `zoo export --safetensors` is read back by its own reader
#   onnx onnxruntime `zoo export --onnx` is checked and run by them (numpy kept
#                   below 2 so that Debian's h5py still imports)
#   tensorboard     `zoo train --log`'s event files are read back by its reader
set -euo pipefail
packages=(pkg-config libopenblas-dev libxsmm-dev libhdf5-dev zlib1g-dev libpng-dev dataset-fashion-mnist python3-h5py python3-numpy python3-venv chromium)
pypi=(safetensors==0.8.0 onnx==1.17.0 onnxruntime==1.20.1 tensorboard==2.21.0 "numpy<2")
venv="${ZOO_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv}"
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    echo "installing: ${missing[*]}" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! "$venv/bin/python" -c "import safetensors, onnx, onnxruntime, tensorboard, h5py" 2>/dev/null; then
    echo "installing into $venv: ${pypi[*]}" >&2
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${pypi[@]}"
fi
