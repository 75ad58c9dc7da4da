"""Choose the field-confidence threshold for automatic acceptance; write letters.json.

Names are written in the hands of the validation writers (UNIPEN labs aga and
kai, never trained on), degraded like scans, and read by the shipped engine.
The threshold is the lowest confidence at which the names accepted are right
at least 99.7 % of the time (a margin over the promised 99.5 %). Run after
training, with the project's venv:

    .venv/bin/python training/calibrate.py --train-json build/letters/train.json
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import itertools

from petitionscan.recognize import FieldImage, name_confidence
from petitionscan.recognize.cnn import META, CnnRecognizer
from petitionscan.recognize.names import load_model
from petitionscan.recognize.render import load_stroke_file, render_field

VAL_LABS = ("aga", "kai")
PRECISION = 0.997


def sample_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """Name pairs: mostly real names, a quarter scrambled (names no list knows)."""
    words = sorted(w for w in load_model().words if w.isalpha() and 2 <= len(w) <= 12)
    out = []
    for _ in range(n):
        a, b = (words[int(i)] for i in rng.integers(len(words), size=2))
        if rng.random() < 0.25:
            b = "".join(rng.permutation(list(b)))
        out.append((a, b))
    return out


def write_fields(
    pairs: list[tuple[str, str]], pool: dict[str, dict[str, list]], rng: np.random.Generator
) -> list[list[FieldImage]]:
    writers = sorted(pool)
    everyone: dict[str, list] = {}
    for w in writers:
        for ch, ss in pool[w].items():
            everyone.setdefault(ch, []).extend(ss)
    out = []
    for i, pair in enumerate(pairs):
        hand = pool[writers[int(rng.integers(len(writers)))]]
        fields = []
        for k, word in enumerate(pair):
            letters = []
            for ch in word:
                src = hand.get(ch) or everyone[ch]
                letters.append(src[int(rng.integers(len(src)))])
            n_boxes = max(8, len(word) + int(rng.integers(0, 4)))
            letters += [None] * (n_boxes - len(word))
            img, boxes, blank = render_field(letters, rng, degrade=True)
            fields.append(FieldImage(f"{i}.{k}", img, boxes, blank, 8.0))
        out.append(fields)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/work/shared/handwriting"))
    ap.add_argument("--train-json", type=Path, default=ROOT / "build" / "letters" / "train.json")
    ap.add_argument("--names", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    train = json.loads(args.train_json.read_text())
    meta = {
        "classes": train["classes"],
        "input_size": train["input_size"],
        "temperature": train["temperature"],
        "auto_threshold": 1.0,
        "field_power": 1.0,
        "training": {k: v for k, v in train.items() if k not in ("classes", "input_size", "temperature")},
    }
    _write(META, meta)
    samples = [s for s in load_stroke_file(args.data / "unipen-strokes.jsonl.gz") if s.writer.split("-")[0] in VAL_LABS]
    pool: dict[str, dict[str, list]] = {}
    for s in samples:
        pool.setdefault(s.writer, {}).setdefault(s.label, []).append(s)
    rng = np.random.default_rng(args.seed)
    pairs = sample_names(rng, args.names)
    engine = CnnRecognizer()
    confs, right = [], []
    for pair, fields in zip(pairs, write_fields(pairs, pool, rng), strict=False):
        readings = engine.read(fields)
        confs.append(name_confidence(readings))
        right.append(all(r.text == w for r, w in zip(readings, pair, strict=False)))
    raw = np.clip(np.asarray(confs), 1e-9, 1.0)
    ok = np.asarray(right)

    def nll(g: float) -> float:
        p = np.clip(raw**g, 1e-6, 1 - 1e-6)
        return float(-np.mean(np.where(ok, np.log(p), np.log(1 - p))))

    power = float(min(np.linspace(0.15, 1.5, 136), key=nll))
    meta["field_power"] = power
    c = raw**power
    order = np.argsort(-c)
    cum_ok = np.cumsum(ok[order])
    n_acc = np.arange(1, len(c) + 1)
    precision = cum_ok / n_acc
    # Lowest threshold whose accepted set (and every stricter one) keeps the precision.
    good = np.flatnonzero(precision >= PRECISION)
    threshold = 1.0
    if good.size:
        bad = np.flatnonzero(precision < PRECISION)
        last = good[good < bad[0]].max() if bad.size and (good < bad[0]).any() else good.max()
        threshold = float(c[order][last])
    accepted = c >= threshold
    bins = np.linspace(0, 1, 11)
    calib = []
    for a, b in itertools.pairwise(bins):
        m = (c > a) & (c <= b)
        if m.any():
            calib.append([round(float(a), 1), round(float(b), 1), int(m.sum()), round(float(ok[m].mean()), 3)])
    meta["auto_threshold"] = threshold
    meta["validation_names"] = {
        "names": len(c),
        "exact": round(float(ok.mean()), 4),
        "auto_share": round(float(accepted.mean()), 4),
        "auto_precision": round(float(ok[accepted].mean()), 4) if accepted.any() else None,
        "mean_confidence": round(float(c.mean()), 4),
        "reliability": calib,
    }
    _write(META, meta)
    print(json.dumps(meta["validation_names"], indent=1))
    print("auto_threshold", threshold)


def _write(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
