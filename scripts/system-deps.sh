#!/usr/bin/env bash
# Installs what a Debian/Ubuntu checkout needs from the system, only when missing:
# python3-venv, Tesseract (printed serials when a QR code is damaged, the
# baseline engine and its tests), Chromium and its driver (the review page's
# browser tests), the PostgreSQL server (the tests of the optional shared
# store start a private one). Fonts and handwriting ship inside the package.
set -euo pipefail
need=()
python3 -c "import ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
