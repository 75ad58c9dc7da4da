"""CPU time of the letter networks on a page's worth of glyphs, by glyphs per run.

    .venv/bin/python benchmarks/bench_network.py [--glyphs 188] [--repeats 5]

A Latin page holds about 188 written boxes. The reader gives its network
``cnn.GLYPHS_PER_RUN`` of them at a time (one thread, as in a scan worker);
this prints what other run sizes would cost on this machine, per network, as
the best and the median of ``--repeats`` timings (process time, ms per page),
and checks that the run size does not change the probabilities.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from petitionscan.recognize import cnn

SIZES = (8, 16, 32, 64, 0)
"""Glyphs per run; 0 is the whole page in one run."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glyphs", type=int, default=188, help="glyphs on the page")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    # Glyph-like input: mostly paper (0) with strokes of ink (1); the time does not depend on it.
    glyphs = (rng.random((args.glyphs, 32, 32)) < 0.15).astype(np.float32)
    print(
        f"{args.glyphs} glyphs a page, one thread; ms per page (best / median of {args.repeats}); default run size "
        f"{cnn.GLYPHS_PER_RUN}"
    )
    for script, weights, meta in (
        ("latin", cnn.WEIGHTS, cnn.META),
        ("cyrillic", cnn.CYRILLIC_WEIGHTS, cnn.CYRILLIC_META),
    ):
        model = cnn.ScriptModel(script, weights, meta)
        reference = None
        cells = []
        for size in SIZES:
            cnn.GLYPHS_PER_RUN = size or args.glyphs
            model.probabilities(list(glyphs))  # warm up (the session is built on first use)
            times = []
            for _ in range(args.repeats):
                start = time.process_time()
                probs = model.probabilities(list(glyphs))
                times.append(1000 * (time.process_time() - start))
            if reference is None:
                reference = probs
            diff = float(np.abs(probs - reference).max())
            label = "all" if size == 0 else str(size)
            cells.append(f"{label}: {min(times):.1f} / {float(np.median(times)):.1f} (max diff {diff:.1e})")
        print(f"{script:9s}" + "   ".join(cells))


if __name__ == "__main__":
    main()
