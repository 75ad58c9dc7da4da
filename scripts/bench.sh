#!/usr/bin/env bash
# Every benchmark with the arguments its documented figures come from; each
# prints its own table. Not part of the tests: run on a quiet machine, since
# speed figures vary with load (the tables print the load average where it matters).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
run() { echo; echo "== $*"; $py "$@"; }
run benchmarks/bench_scan.py --sheets 40 --jobs 2,1
run benchmarks/bench_network.py
run benchmarks/bench_recognizer.py --pages 40 --time-pages 8
run benchmarks/bench_recognizer.py --pages 40 --engines cnn --seed 3
if [ -d "${PETITIONSCAN_HANDWRITING:-../shared/handwriting}" ]; then
  if [ -d build/fonts ]; then fonts=(--fonts build/fonts); else
    fonts=(); echo "(held-out handwriting fonts skipped: fetch them with training/fetch_fonts.py)"; fi
  run benchmarks/bench_recognizer.py --data "${PETITIONSCAN_HANDWRITING:-../shared/handwriting}" --per-writer 2 "${fonts[@]}"
  run benchmarks/bench_recognizer.py --data "${PETITIONSCAN_HANDWRITING:-../shared/handwriting}" --script cyrillic
  run benchmarks/bench_recognizer.py --pages 200 --engines cnn --hands paper --seed 3
  run benchmarks/bench_recognizer.py --pages 100 --engines cnn --seed 3 \
    --campaign petitionscan/forms/campaigns/mangystau-ru.toml
else
  echo "(letter benchmark skipped: it needs the handwriting data in ../shared/handwriting)"
fi
run benchmarks/bench_tally.py
run benchmarks/bench_scripts.py --people 10000 --seed 1
run benchmarks/bench_review.py --rows 5000 --decisions 40
run benchmarks/bench_stations.py --sheets 96 --stations 4 --rows 500 --reviewers 5
run benchmarks/bench_memory.py
