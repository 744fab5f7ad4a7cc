#!/usr/bin/env bash
# Installs Debian's PyTorch and torchvision for /usr/bin/python3, the reference the parity tests
# (tests/engine/parity.test.ts) and bench/features.ts compare our TypeScript backbones against.
# Debian's packages are used rather than pip wheels because CI and this machine reach apt but
# not PyPI. Idempotent: when both import already, it does nothing. Needs root (or sudo).
set -euo pipefail

PY=/usr/bin/python3

if "$PY" -c 'import torch, torchvision' >/dev/null 2>&1; then
  echo "python3-torch and python3-torchvision already installed: $("$PY" -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)')"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-torch.sh: must run as root (or with sudo available)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
before=$(df --output=used -k / | tail -1)
# apt-get update only when the package lists do not know the package yet (fresh containers).
if ! apt-cache show python3-torch >/dev/null 2>&1; then
  $SUDO apt-get update -q
fi
$SUDO apt-get install -y -q --no-install-recommends python3-torch python3-torchvision python3-numpy
after=$(df --output=used -k / | tail -1)
end=$(date +%s)

"$PY" -c 'import torch, torchvision; print("installed torch", torch.__version__, "torchvision", torchvision.__version__)'
echo "install took $((end - start)) s, disk used grew by $(( (after - before) / 1024 )) MiB"
