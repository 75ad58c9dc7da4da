"""Letter accuracy of the recognizer on writers it never saw in training.

Usage (needs the handwriting folder, see docs/model-card.md):

    .venv/bin/python benchmarks/bench_recognizer.py [--data /work/shared/handwriting] [--per-writer 2]

Test writers: UNIPEN labs tos, imp, syn, pri and all UJI writers, held out of
training as whole writers. Each letter is written into a field between two
neighbours, once clean ("plain") and once degraded like a scan ("paper":
pen width, slant, off-centre, low resolution, blur, box-line remnants,
bitonal/fax/photocopy, JPEG), and read by the full engine, all boxes in one
batch. Prints a table: letters, accuracy, mean confidence, calibration error,
read time per box, and the most frequent confusions.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import itertools

from petitionscan.recognize import FieldImage, get_engine
from petitionscan.recognize.render import Sample, load_stroke_file, render_field

TEST_LABS = ("tos", "imp", "syn", "pri")


def test_samples(data: Path, per_writer: int, rng: np.random.Generator) -> list[Sample]:
    pool = [s for s in load_stroke_file(data / "unipen-strokes.jsonl.gz") if s.writer.split("-")[0] in TEST_LABS]
    pool += load_stroke_file(data / "uji1-strokes.jsonl.gz")
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in pool:
        groups[(s.writer, s.label)].append(s)
    out: list[Sample] = []
    for key in sorted(groups):
        g = groups[key]
        for i in rng.permutation(len(g))[:per_writer]:
            out.append(g[int(i)])
    return out


def ece(conf: np.ndarray, ok: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for a, b in itertools.pairwise(edges):
        m = (conf > a) & (conf <= b)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - ok[m].mean())
    return float(total)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/work/shared/handwriting"))
    ap.add_argument("--per-writer", type=int, default=2, help="samples per writer and letter")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--engine", default="cnn")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    samples = test_samples(args.data, args.per_writer, rng)
    engine = get_engine(args.engine)
    writers = len({s.writer for s in samples})
    print(f"engine {engine.version}; {len(samples)} letters from {writers} held-out writers")
    print(f"{'condition':<10} {'letters':>8} {'accuracy':>9} {'top3':>7} {'mean p':>7} {'ECE':>6} {'ms/box':>7}")
    for condition in ("plain", "paper"):
        fields = []
        for i, s in enumerate(samples):
            left = samples[int(rng.integers(len(samples)))] if rng.random() < 0.5 else None
            right = samples[int(rng.integers(len(samples)))] if rng.random() < 0.5 else None
            img, boxes, _ = render_field([left, s, right], rng, degrade=condition == "paper")
            blank = (True, False, True)  # only the middle box is read
            fields.append(FieldImage(str(i), img, boxes, blank, 8.0))
        t0 = time.perf_counter()
        readings = []
        for k in range(0, len(fields), 100):  # about a page of fields per call
            readings += engine.read(fields[k : k + 100])
        dt = time.perf_counter() - t0
        conf, ok, top3 = [], [], []
        confusions: Counter[str] = Counter()
        for s, r in zip(samples, readings, strict=False):
            if not r.letters:
                conf.append(0.0)
                ok.append(False)
                top3.append(False)
                confusions[f"{s.label}->(none)"] += 1
                continue
            lr = r.letters[0]
            conf.append(lr.probability)
            ok.append(lr.char == s.label)
            top3.append(any(c == s.label for c, _ in lr.alternatives))
            if lr.char != s.label:
                confusions[f"{s.label}->{lr.char}"] += 1
        c, o = np.asarray(conf), np.asarray(ok)
        print(
            f"{condition:<10} {len(samples):>8} {o.mean():>9.4f} {np.mean(top3):>7.4f} "
            f"{c.mean():>7.3f} {ece(c, o):>6.3f} {1000 * dt / len(samples):>7.2f}"
        )
        print("  confusions: " + ", ".join(f"{k} {v}" for k, v in confusions.most_common(10)))


if __name__ == "__main__":
    main()
