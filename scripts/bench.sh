#!/usr/bin/env bash
# Every benchmark, one after the other; each prints its own table.
# Not part of the tests: run on a quiet machine, numbers vary with load.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
for bench in benchmarks/bench_*.py; do
  echo "== $bench"
  $py "$bench" "$@"
done
