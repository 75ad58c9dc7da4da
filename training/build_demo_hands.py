"""Build petitionscan/simulate/hands.json.gz: a small set of real pen strokes that ships with the package.

The simulator's best handwriting is the held-out writers of the shared
handwriting folder, which is not part of the project. So that ``petitionscan
demo`` and ``simulate`` write honest handwriting on any laptop, the capitals
A-Z of the 11 writers of UJI Pen Characters v1 (Llorens et al., LREC 2008;
UCI Machine Learning Repository, CC BY 4.0, which permits redistribution with
credit) ship in a reduced form: each stroke simplified (Ramer-Douglas-Peucker,
tolerance 1 % of the letter's height) and its points rounded to 1/200 of the
height. These writers are never used to train the recognizer, so a demo on
them is read as unseen hands. Run once with the project's venv:

    .venv/bin/python training/build_demo_hands.py [--data ../shared/handwriting]

The output is deterministic (sorted, no timestamps), so it is committed.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "petitionscan" / "simulate" / "hands.json.gz"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TOLERANCE = 0.01  # of the letter's height
GRID = 200  # points rounded to 1/GRID of the letter's height


def simplify(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Ramer-Douglas-Peucker: the fewest points that stay within ``tolerance`` of the line."""
    if len(points) < 3:
        return points
    start, end = points[0], points[-1]
    chord = end - start
    length = float(np.hypot(*chord))
    rel = points - start
    dist = (
        np.abs(chord[0] * rel[:, 1] - chord[1] * rel[:, 0]) / length if length > 0 else np.hypot(rel[:, 0], rel[:, 1])
    )
    i = int(np.argmax(dist))
    if dist[i] <= tolerance:
        return np.stack([start, end])
    return np.concatenate([simplify(points[: i + 1], tolerance)[:-1], simplify(points[i:], tolerance)])


def reduce_glyph(strokes: list[list[list[float]]]) -> list[list[int]] | None:
    """Strokes scaled to height GRID, simplified and flattened to ``[x0, y0, x1, y1, ...]`` ints."""
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes if len(s)]
    if not arrays:
        return None
    allpts = np.concatenate(arrays)
    lo = allpts.min(axis=0)
    height = float(np.ptp(allpts[:, 1]))
    if height <= 0:
        return None
    out = []
    for pts in arrays:
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(np.diff(pts, axis=0) != 0, axis=1)
        pts = (pts[keep] - lo) / height
        pts = simplify(pts, TOLERANCE)
        out.append([int(v) for v in np.round(pts * GRID).astype(int).ravel()])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "handwriting")
    args = ap.parse_args()
    writers: dict[str, dict[str, list[list[list[int]]]]] = {}
    with gzip.open(args.data / "uji1-strokes.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj["label"] not in LETTERS:
                continue
            glyph = reduce_glyph(obj["strokes"])
            if glyph is not None:
                writers.setdefault(obj["writer"], {}).setdefault(obj["label"], []).append(glyph)
    doc = {
        "source": "UJI Pen Characters v1, capitals A-Z of its 11 writers (Llorens et al., LREC 2008; CC BY 4.0)",
        "grid": GRID,
        "writers": {w: dict(sorted(g.items())) for w, g in sorted(writers.items())},
    }
    data = json.dumps(doc, separators=(",", ":"), sort_keys=False).encode("utf-8")
    OUT.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    glyphs = sum(len(v) for g in writers.values() for v in g.values())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(writers)} writers, {glyphs} glyphs)")


if __name__ == "__main__":
    main()
