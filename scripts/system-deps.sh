#!/usr/bin/env bash
# Installs what petitionscan needs from the system, only when missing:
# Tesseract (printed serials and the baseline engine), DejaVu fonts (Unicode
# text in every PDF), handwriting fonts (the simulator without ../shared),
# Chromium and its driver (the review page's browser tests).
set -euo pipefail
need=()
python3 -c "import ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
for pkg in fonts-bwht fonts-humor-sans fonts-breip fonts-dkg-handwriting; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
