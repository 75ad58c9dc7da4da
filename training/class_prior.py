"""Write a shipped network's training class shares into its metadata, for the reader to divide out.

    .venv/bin/python training/class_prior.py --script latin
    .venv/bin/python training/class_prior.py --script cyrillic

A network's probabilities carry the class shares of the renders it was trained
on (the Latin network saw O four times as often as D, the Cyrillic one Ү
twice as often as У), and the reader divides them out (``cnn.class_prior_bias``,
strength ``prior_correction``). ``train_letters.py`` records the shares of
every run in ``train.json``; this script works them out for a network trained
before it did, by composing that run's training letters again with the same
code, seed and options (the shipped recipes of ``scripts/train.sh`` unless
others follow ``--``), and counting each letter as often as it was rendered.
Run ``training/calibrate.py`` afterwards: the letter probabilities change, so
the decoder, the confidence and the threshold are fitted again.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from calibrate import write_meta
from train_letters import PRIOR_CORRECTION, letter_sets, parser

from petitionscan.alphabets import CYRILLIC, LATIN
from petitionscan.recognize.cnn import CYRILLIC_META, META
from petitionscan.simulate.handwriting import handwriting_dir

RECIPES = {
    "latin": ["--seed", "7", "--reps", "4", "--paper-reps", "4"],
    "cyrillic": ["--script", "cyrillic", "--seed", "7", "--made-letters", "--reps", "3", "--paper-reps", "4",
                 "--per-class", "1500"],
}  # fmt: skip
"""The options of the shipped networks' runs that decide which letters trained and how often (scripts/train.sh)."""


def render_counts(train_args: list[str]) -> Counter[str]:
    """How many training renders each class had in the run with these train_letters.py options."""
    args = parser().parse_args(train_args)
    if args.data is None:
        args.data = handwriting_dir()
    _, train, paper, _, _ = letter_sets(args, np.random.default_rng(args.seed))
    counts: Counter[str] = Counter()
    for s in train:
        counts[s.label] += args.reps
    for s in paper:
        counts[s.label] += args.paper_reps
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", choices=("latin", "cyrillic"), default="latin")
    ap.add_argument(
        "--strength",
        type=float,
        help="how far the shares are divided out (1: fully; default: train_letters.PRIOR_CORRECTION of the script)",
    )
    ap.add_argument("train_args", nargs="*", help="after --: the run's train_letters.py options (default: the recipe)")
    args = ap.parse_args()
    meta_path = META if args.script == "latin" else CYRILLIC_META
    counts = render_counts(args.train_args or RECIPES[args.script])
    classes = LATIN if args.script == "latin" else CYRILLIC
    total = sum(counts[c] for c in classes)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta["classes"] != classes:
        raise SystemExit(f"{meta_path} has other classes than the {args.script} training letters")
    meta["class_prior"] = {c: round(counts[c] / total, 6) for c in classes}
    meta["prior_correction"] = PRIOR_CORRECTION[args.script] if args.strength is None else args.strength
    write_meta(meta_path, meta)
    print(f"{meta_path.name}: {total} training renders; shares " + " ".join(f"{c} {counts[c]}" for c in classes))


if __name__ == "__main__":
    main()
