"""Choose the automatic-acceptance threshold on whole sheets written by validation writers.

    .venv/bin/python training/page_threshold.py [--script latin] [--pages 1200] [--seed 101] [--keep DIR] [--dry-run]

``training/calibrate.py`` fits the decoder and the field confidence on
validation names composed letter by letter, half of them with a word in no
list and many spelt in made-up ways: every kind of name is seen there often
enough to fit the confidence on. Those names are harder than a sheet's (80 %
exact against 94 % on sheets of the same population), so the threshold chosen
on them, the confidence at which their accepted names stay right, sits far
above where the sheets' names stay right: on pen-on-paper sheets it accepted
54 % of the names, and 2,051 of 2,052 of those were right.

This step keeps that confidence model and chooses only the threshold, on
what the threshold is applied to: sheets printed from a campaign, filled in
the validation writers' hands (pen-on-paper letters of the held-out SD19
population's validation half, a quarter of the sheets in the tablet
validation writers' hands; for Cyrillic the validation sessions), degraded
by every capture profile and read by the scan stage itself, with its blank
boxes, spills and line remnants. The rule is calibrate.py's
(``calibrate.threshold_for``): the lowest confidence at which the accepted
names, and those of every stricter threshold of at least ``MIN_ACCEPTED``
names, are right ``PRECISION`` of the time with the names weighed to a campaign's mix of listed and unlisted names
(``UNLISTED_SHARE``), and ``PROMISE`` as drawn. A name the scan stage sends to
a person whatever its confidence (ink beyond its letters, crossed out) takes
no part. No test writer, test sheet or benchmark seed is used.

The chosen threshold is written to the network's metadata as
``auto_threshold``, the one calibrate.py chose on the names kept beside it as
``names_threshold``, with the sheets' figures under ``validation_pages``.
calibrate.py runs this step at its end, so one command reproduces both.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from petitionscan import geometry  # noqa: E402
from petitionscan.recognize.cnn import CYRILLIC_META, META  # noqa: E402
from petitionscan.recognize.names import known_name, load_model  # noqa: E402
from petitionscan.scan import pipeline  # noqa: E402
from petitionscan.scan.load import find_inputs, page_count  # noqa: E402
from petitionscan.scan.register import Registration  # noqa: E402
from petitionscan.scan.results import PageTask  # noqa: E402
from training.calibrate import PRECISION, PROMISE, UNLISTED_SHARE, mix_weights, threshold_for, write_meta  # noqa: E402

CAMPAIGNS = {"latin": None, "cyrillic": ROOT / "petitionscan" / "forms" / "campaigns" / "mangystau-ru.toml"}
MIN_ACCEPTED = round(1 / (1 - PRECISION))
"""The fewest accepted names the precision is judged on (500): the validation names of
calibrate.py judge every set from the first name on, where one sure mistake among the first
500 decides the threshold alone (a Cyrillic sheet's ФЁКЛА read ФЕКЛА, 366th by confidence,
held the threshold at 0.9865 and the accepted names at 4 %)."""
SEED = 101
"""The validation sheets' seed: none of the benchmarks' (3, 5, 7, 13, 23)."""
TABLET_SHARE = 0.25
"""Share of the Latin sheets written in the tablet validation writers' hands (calibrate.py's
``--paper-share`` 0.75 the other way round)."""


def make_sheets(root: Path, script: str, pages: int, seed: int) -> list[Path]:
    """The validation sheets' scan folders (every capture profile), made once per ``root``."""
    from benchmarks.bench_recognizer import make_pages

    stamp = json.dumps([script, pages, seed])
    done = root / "sheets.json"
    if done.is_file() and done.read_text() == stamp:
        return sorted(p.parent for p in root.glob("*/*/truth.csv"))
    done.unlink(missing_ok=True)
    sets = [("paper-validation", pages)]
    if script == "latin":
        tablet = round(pages * TABLET_SHARE)
        sets = [("paper-validation", pages - tablet), ("validation", tablet)]
    folders: list[Path] = []
    for i, (hands, n) in enumerate(sets):
        (root / hands).mkdir(exist_ok=True)
        folders += make_pages(root / hands, n, seed + 10 * i, hands, CAMPAIGNS[script])
    done.write_text(stamp)
    return folders


_engine: Any = None


def _start(engine: str) -> None:
    """Once per worker process: the recognizer, one thread (the processes are the parallelism)."""
    global _engine
    import cv2

    cv2.setNumThreads(1)
    _engine = pipeline.load_engine(engine)


def _read(task: PageTask) -> list[tuple[str, int, str, float, bool]]:
    """(serial, row, name read, confidence, may be accepted) for each row of the page with a name."""
    result = pipeline.read_page(task, _engine)
    if not isinstance(result.registration, Registration):
        return []
    out = []
    for row in result.rows:
        reads = [f for f in row.fields if f.key in geometry.NAME_FIELDS and f.text]
        if not row.name or row.confidence is None:
            continue
        eligible = not row.crossed_out and not any(pipeline.ink_beyond_letters(f.blank, f.letters) for f in reads)
        out.append((result.registration.serial, row.row, row.name, float(row.confidence), eligible))
    return out


def read_sheets(folders: list[Path], jobs: int) -> list[tuple[str, int, str, float, bool]]:
    """Every name the scan stage reads on the sheets, with its confidence."""
    tasks = [
        PageTask(item.path, item.kind, page, "")
        for item in find_inputs(folders).files
        for page in range(1, page_count(item) + 1)
    ]
    # Spawned, as the scan command's workers: a forked copy of a process that has run the
    # simulator's threads may hang.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=spawn, initializer=_start, initargs=("cnn",)) as pool:
        return [r for page in pool.map(_read, tasks, chunksize=4) for r in page]


def choose(
    folders: list[Path], rows: list[tuple[str, int, str, float, bool]], script: str
) -> tuple[float, dict[str, Any]]:
    """The threshold by calibrate.py's rule on the sheets' names, and the figures behind it."""
    truth: dict[tuple[str, int], dict[str, str]] = {}
    for folder in folders:
        with (folder / "truth.csv").open(encoding="utf-8", newline="") as fh:
            truth.update({(r["sheet_id"], int(r["row"])): r for r in csv.DictReader(fh)})
    model = load_model(None, script)
    conf, ok, unlisted = [], [], []
    names = exact = 0
    for serial, row, name, confidence, eligible in rows:
        t = truth.get((serial, row))
        if t is None or not t["name"] or t["crossed_out"] != "no":
            continue
        names += 1
        exact += name == t["name"]
        if eligible:
            conf.append(confidence)
            ok.append(name == t["name"])
            unlisted.append(not known_name(t["name"], model))
    c, right, unl = np.asarray(conf), np.asarray(ok, bool), np.asarray(unlisted, bool)
    weights = mix_weights(unl, UNLISTED_SHARE)
    threshold = threshold_for(c, right, PRECISION, weights, MIN_ACCEPTED)
    accepted = c >= threshold
    figures = {
        "pages_seed": None,
        "names": names,
        "exact": round(exact / max(1, names), 4),
        "with_unlisted_word": round(float(unl.mean()), 4) if len(unl) else None,
        "auto_share": round(float(accepted.sum()) / max(1, names), 4),
        "auto_names": int(accepted.sum()),
        "auto_wrong": int((accepted & ~right).sum()),
        "auto_share_unlisted": round(float((accepted & unl).sum()) / max(1, int(unl.sum())), 4),
        "auto_precision_weighted": round(float(np.average(right[accepted], weights=weights[accepted])), 4)
        if accepted.any()
        else None,
        "weighed_unlisted_share": UNLISTED_SHARE,
        "precision": PRECISION,
        "promise": PROMISE,
    }
    return threshold, figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", choices=("latin", "cyrillic"), default="latin", help="whose threshold to choose")
    ap.add_argument(
        "--pages",
        type=int,
        default=1200,
        help="validation sheets (about 7 names each: the threshold rests on the few sure errors at the top)",
    )
    ap.add_argument("--seed", type=int, default=SEED, help="the sheets' seed (the benchmarks use others)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="pages read at once")
    ap.add_argument("--keep", type=Path, help="keep the sheets here and reuse them when made with the same settings")
    ap.add_argument("--dry-run", action="store_true", help="print the threshold, write nothing")
    args = ap.parse_args()
    run(args.script, args.pages, args.seed, args.jobs, args.keep, args.dry_run)


def run(script: str, pages: int, seed: int, jobs: int, keep: Path | None = None, dry_run: bool = False) -> float:
    """Make (or reuse) the sheets, read them, choose the threshold and, unless ``dry_run``, write it."""
    meta_path = META if script == "latin" else CYRILLIC_META
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    names_threshold = float(meta.get("names_threshold", meta["auto_threshold"]))
    home = os.environ.get("PETITIONSCAN_HOME")
    with tempfile.TemporaryDirectory(prefix="page-threshold-") as tmp:
        root = keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        try:
            folders = make_sheets(root, script, pages, seed)
        finally:  # make_pages points the data folder at the sheets' own
            if home is None:
                os.environ.pop("PETITIONSCAN_HOME", None)
            else:
                os.environ["PETITIONSCAN_HOME"] = home
        rows = read_sheets(folders, jobs)
    threshold, figures = choose(folders, rows, script)
    if keep is not None:  # every name read, to look at the sure mistakes
        with (keep / "names.csv").open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([("serial", "row", "read", "confidence", "may_be_accepted"), *rows])
    figures["pages_seed"] = [pages, seed]
    print(json.dumps(figures, indent=1))
    print(f"{script}: threshold on validation sheets {threshold:.4f} (on validation names {names_threshold:.4f})")
    if not dry_run:
        meta["names_threshold"] = names_threshold
        meta["auto_threshold"] = threshold
        meta["validation_pages"] = figures
        write_meta(meta_path, meta)
    return threshold


if __name__ == "__main__":
    main()
