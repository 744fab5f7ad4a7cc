#!/usr/bin/env bash
# Installs the system packages the test suite uses, from Debian's archive (idempotent):
#   chromium                       the real browser the UI tests drive (playwright-core, no download)
#   python3-sklearn, python3-scipy, python3-skimage, python3-numpy, python3-pil
#                                  reference implementations the metric tests compare against
#   redis-server                   the real Redis the benchmark queue tests start on loopback (BullMQ)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(chromium python3-numpy python3-pil python3-sklearn python3-scipy python3-skimage redis-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "test dependencies present: ${packages[*]}"
