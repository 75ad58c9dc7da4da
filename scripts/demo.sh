#!/usr/bin/env bash
# The demo, end to end, for a checkout: `petitionscan demo` prints sheets,
# simulates signed and scanned returns, reads them, counts unique signatures
# and exports CSV and PDF files. Everything stays in demo/ (replaced each run).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo
.venv/bin/petitionscan demo demo
echo "(from this checkout the command is .venv/bin/petitionscan, or run . .venv/bin/activate first)"
