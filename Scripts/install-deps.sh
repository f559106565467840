#!/usr/bin/env bash
# Installs the Debian packages zoo builds, runs and tests with (idempotent).
#   libopenblas-dev  matrix products (pkg-config openblas)
#   libhdf5-dev      checkpoints (pkg-config hdf5)
#   zlib1g-dev       gzip datasets and PNG (pkg-config zlib)
#   libpng-dev       PNG decoding for image-folder datasets (pkg-config libpng)
#   dataset-fashion-mnist   the default data, in /usr/share/datasets/fashion-mnist
#   python3-h5py python3-numpy   the interoperability tests
set -euo pipefail
packages=(pkg-config libopenblas-dev libhdf5-dev zlib1g-dev libpng-dev dataset-fashion-mnist python3-h5py python3-numpy)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
