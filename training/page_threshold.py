"""Fit the listed names' confidence and choose the acceptance threshold on whole validation sheets.

    .venv/bin/python training/page_threshold.py [--script latin] [--pages 1200] [--draws 2] [--keep DIR] [--dry-run]

``training/calibrate.py`` fits the decoder and the field confidence on
validation names composed letter by letter, half of them with a word in no
list and many spelt in made-up ways: every kind of name is seen there often
enough to fit the confidence on. Those names are harder than a sheet's (80 %
exact against 93 % on sheets of the same writers), so the threshold chosen
on them sent most names the reader got right to a person (54 % of the names
on pen-on-paper test sheets accepted, 2,051 of 2,052 of them right; 2.8 % on
Cyrillic ones), and the Cyrillic model fitted there barely told a sure name
from a doubtful one.

This step works on what the reader is used on: sheets printed from a
campaign, filled in by the validation writers (pen-on-paper letters of the
held-out SD19 population's validation half, a quarter of the sheets in the
tablet validation writers' hands; for Cyrillic the validation sessions),
degraded by every capture profile and cut by the scan stage itself, with
its blank boxes, spills and line remnants; ``--draws`` independent draws of
``--pages`` sheets (seeds 101 and 202), pooled. It

1. fits the confidence of a field whose every word is a listed name
   (``field_confidence_listed`` in the metadata, a logistic model as
   calibrate.py's): the sheets hold such names as campaigns do. Three ways
   are tried (``WAYS``): the names' model as it is, one refitted on the
   same features, and one that also weighs how unlikely each letter the
   name model overruled was (``names.LISTED_FEATURES``, with the sheets'
   ``surprise_table``). Each is fitted and thresholded on the first draw
   and measured on the second; the one that accepts most there is fitted on
   both. A field with an unlisted word keeps the names' model;
2. chooses the threshold by calibrate.py's rule (``calibrate.threshold_for``):
   the lowest name confidence at which the accepted names, and those of every
   stricter threshold of at least ``MIN_ACCEPTED`` names, are right
   ``PRECISION`` of the time with the names weighed to a campaign's mix of
   listed and unlisted names (``UNLISTED_SHARE``), and ``PROMISE`` as drawn.
   A name the scan stage sends to a person whatever its confidence (ink
   beyond its letters, crossed out) takes no part.

No test writer, test sheet or benchmark seed is used. The threshold is
written as ``auto_threshold``, the one calibrate.py chose on the names kept
as ``names_threshold``, the sheets' figures as ``validation_pages``.
calibrate.py runs this step at its end, so one command reproduces both.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing
import os
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from petitionscan import geometry  # noqa: E402
from petitionscan.recognize.cnn import CYRILLIC_META, META, goes_to_a_person  # noqa: E402
from petitionscan.recognize.names import (  # noqa: E402
    FEATURES,
    LISTED_FEATURES,
    SURPRISE_CAP,
    all_words_listed,
    confidence_of,
    field_features,
    known_name,
    load_model,
    overrule_features,
    overrule_key,
    separator_capped,
)
from petitionscan.scan import pipeline  # noqa: E402
from petitionscan.scan.fields import cut_page  # noqa: E402
from petitionscan.scan.load import InputFile, find_inputs, load_page, page_count  # noqa: E402
from petitionscan.scan.register import Registration, register  # noqa: E402
from petitionscan.scan.results import PageTask  # noqa: E402
from training.calibrate import (  # noqa: E402
    PRECISION,
    PROMISE,
    UNLISTED_SHARE,
    fit_logistic,
    mix_weights,
    threshold_for,
    write_meta,
)
from training.sheets import make_pages  # noqa: E402

CAMPAIGNS = {"latin": None, "cyrillic": ROOT / "petitionscan" / "forms" / "campaigns" / "mangystau-ru.toml"}
MIN_ACCEPTED = round(1 / (1 - PRECISION))
"""The fewest accepted names the precision is judged on (500): the validation names of
calibrate.py judge every set from the first name on, where one sure mistake among the first
500 decides the threshold alone (a Cyrillic sheet's ФЁКЛА read ФЕКЛА, 366th by confidence,
held the threshold at 0.9865 and the accepted names at 4 %)."""
MONOTONE = ("log_posterior", "margin", "log_min_letter", "margin_if_all_known")
"""Features whose rise means stronger evidence for the reading: their weights may not be negative."""
SEED = 101
"""The first draw's seed (the second's 202): none of the benchmarks' (3, 5, 7, 13, 23)."""
PAGES = 1200
DRAWS = 2
TABLET_SHARE = 0.25
"""Share of the Latin sheets written in the tablet validation writers' hands (calibrate.py's
``--paper-share`` 0.75 the other way round)."""


def make_sheets(root: Path, script: str, pages: int, seed: int) -> list[Path]:
    """The validation sheets' scan folders (every capture profile), made once per ``root``."""
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


@dataclass(frozen=True)
class NameField:
    """A name field of a validation sheet as the reader decided it, with what its confidence rests on."""

    draw: int
    serial: str
    row: int
    key: str
    text: str
    confidence: float
    """By the model fitted on the validation names (``field_confidence``), whatever listed names'
    model the metadata held when the sheets were read."""
    features: tuple[float, ...] | None
    """``names.field_features``; None where no piece has two letters (initials: the posterior counts)."""
    to_a_person: bool
    """``names.needs_a_person``: the confidence is capped under every threshold."""
    held: bool
    """The scan stage sends the row to a person anyway (ink beyond the letters, crossed out)."""
    overrules: tuple[tuple[str, str], ...] = ()
    """``names.Decoded.overrules``: the letters the name model overruled, and what it chose."""
    seen: str = ""
    """The network's own letter in each box, in order ("?" for a box without one): beside the
    truth, what :func:`surprise_table` counts."""


_engine: Any = None


def _start(engine: str) -> None:
    """Once per worker process: the recognizer, one thread (the processes are the parallelism)."""
    global _engine
    import cv2

    cv2.setNumThreads(1)
    _engine = pipeline.load_engine(engine)


def _read(job: tuple[int, PageTask]) -> list[NameField]:
    """The name fields of one page, cut as the scan stage cuts them and read as the reader reads them."""
    draw, task = job
    image = load_page(InputFile(task.source_file, task.kind), task.page).image
    reg = register(image, ())
    if not isinstance(reg, Registration):
        return []
    sheet = geometry.sheet_geometry(geometry.parse_layout_code(reg.layout_code))
    rows = {rc.row: rc for rc in cut_page(image, reg.matrix, sheet).rows}
    requests = [
        f
        for f in pipeline.field_images(list(rows.values()), sheet.spec.alphabet)
        if f.key.split(":")[1] in geometry.NAME_FIELDS
    ]
    out = []
    for req, ev in zip(requests, _engine.evidence(requests) if requests else [], strict=True):
        rc = rows[req.row]
        reading, d = _engine.decoded(ev)
        if d is None or not reading.text.strip():
            continue
        long = any(len(p.text) >= 2 for p in d.pieces)
        features = tuple(field_features(d, ev.continuation)) if long else None
        person = goes_to_a_person(ev, d)
        model = _engine.script_model(reading.script)
        confidence = reading.confidence  # initials: the posterior, as the reader takes it
        if features is not None and model.coef:
            confidence = separator_capped(confidence_of(features, model.coef, model.intercept), person)
        out.append(
            NameField(
                draw,
                reg.serial,
                rc.row,
                req.key.split(":")[1],
                reading.text.strip(),
                float(confidence),
                features,
                person,
                rc.crossed_out or pipeline.ink_beyond_letters(req.blank, reading.letters),
                d.overrules,
                "".join(ev.dists[b][0][0] if ev.dists.get(b) else "?" for word in ev.words for b in word),
            )
        )
    return out


def read_sheets(draws: list[list[Path]], jobs: int) -> list[NameField]:
    """Every name field the reader reads on the sheets of each draw."""
    tasks = [
        (i, PageTask(item.path, item.kind, page, ""))
        for i, folders in enumerate(draws)
        for item in find_inputs(folders).files
        for page in range(1, page_count(item) + 1)
    ]
    # Spawned, as the scan command's workers: a forked copy of a process that has run the
    # simulator's threads may hang.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=spawn, initializer=_start, initargs=("cnn",)) as pool:
        return [f for page in pool.map(_read, tasks, chunksize=4) for f in page]


Listed = tuple[np.ndarray, float, dict[str, float] | None]
"""The listed names' model: coefficients, intercept and the overrules' surprise table (None: the
model weighs ``names.FEATURES``; a table: ``names.LISTED_FEATURES``)."""


def _listed_x(f: NameField, surprise: dict[str, float] | None) -> list[float]:
    """The features the listed names' model weighs for ``f``, as ``names.listed_features`` computes them."""
    assert f.features is not None
    if surprise is None:
        return list(f.features)
    return [*f.features, *overrule_features(f.overrules, surprise)]


def _field_confidence(f: NameField, listed: Listed | None) -> float:
    """A field's confidence as the reader gives it with the listed names' model ``listed`` (None: as read)."""
    if listed is None or f.features is None or not all_words_listed(f.features):
        return f.confidence
    return separator_capped(confidence_of(_listed_x(f, listed[2]), listed[0], listed[1]), f.to_a_person)


Row = tuple[list[NameField], dict[str, str]]
"""A name on a validation sheet: its fields as read (first name first) and the simulator's truth."""


def name_rows(draws: list[list[Path]], fields: list[NameField]) -> list[Row]:
    """The names written on the sheets (rows crossed out on the sheet left out), with their fields read."""
    truth: dict[tuple[int, str, int], dict[str, str]] = {}
    for i, folders in enumerate(draws):
        for folder in folders:
            with (folder / "truth.csv").open(encoding="utf-8", newline="") as fh:
                truth.update({(i, r["sheet_id"], int(r["row"])): r for r in csv.DictReader(fh)})
    by_row: dict[tuple[int, str, int], list[NameField]] = defaultdict(list)
    for f in fields:
        if (t := truth.get((f.draw, f.serial, f.row))) is not None and t["name"] and t["crossed_out"] == "no":
            by_row[(f.draw, f.serial, f.row)].append(f)
    return [(sorted(fs, key=lambda f: geometry.NAME_FIELDS.index(f.key)), truth[k]) for k, fs in by_row.items()]


SURPRISE_SMOOTHING = (0.5, 20.0)
"""Added to an overrule's count and to its letter's, so that one seen once in a few boxes is not
taken for a common confusion."""


def surprise_table(rows: list[Row]) -> dict[str, float]:
    """Per overrule (``names.overrule_key``: the network's letter, the letter meant), -log of how
    often the network read that letter in a box where the writer meant the other one.

    Counted on the fields whose boxes are as many as the name's letters; kept where under
    ``names.SURPRISE_CAP`` nats (the reader counts any other overrule at the cap).
    """
    seen_as: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for fs, t in rows:
        for f in fs:
            meant = t[f.key].replace(" ", "")
            if f.seen and len(f.seen) == len(meant):
                for a, b in zip(f.seen, meant, strict=True):
                    seen_as[b][a] += 1
    add, add_total = SURPRISE_SMOOTHING
    table = {}
    for b, counts in seen_as.items():
        total = sum(counts.values())
        for a, n in counts.items():
            cost = -math.log((n + add) / (total + add_total))
            if a != b and a != "?" and cost < SURPRISE_CAP:
                table[overrule_key(a, b)] = round(cost, 4)
    return dict(sorted(table.items()))


def fit_listed(rows: list[Row], surprise: dict[str, float] | None = None) -> tuple[np.ndarray, float]:
    """The logistic model of "this field is right" on the fields whose every word is listed
    (with ``surprise``, on ``names.LISTED_FEATURES``: how unlikely each overrule was, too).

    Stronger evidence never lowers the confidence: a feature of :data:`MONOTONE`
    whose weight comes out negative (the posterior, say, beside the margin it
    moves with) is left out and the rest fitted again, so that evidence unlike
    the sheets' (a Latin name read by the Cyrillic network) cannot make a
    weaker reading surer.
    """
    pairs = [
        (_listed_x(f, surprise), f.text == t[f.key])
        for fs, t in rows
        for f in fs
        if f.features and all_words_listed(f.features)
    ]
    names = LISTED_FEATURES if surprise is not None else FEATURES
    x, y = np.asarray([x for x, _ in pairs]), np.asarray([y for _, y in pairs], float)
    keep = np.array([not (n == "unknown_words" or n.endswith("_if_unknown")) for n in names])  # all 0 here
    while True:
        fitted, intercept = fit_logistic(x[:, keep], y)
        coef = np.zeros(x.shape[1])
        coef[keep] = fitted
        wrong = [names.index(n) for n in MONOTONE if coef[names.index(n)] < 0]
        if not wrong:
            return np.round(coef, 6), round(intercept, 6)  # as the metadata keeps them: the reader's exactly
        keep[wrong] = False


def scores(rows: list[Row], listed: Listed | None, script: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Name confidence, rightness and unlisted flag of the names the threshold decides; and how many are exact."""
    model = load_model(None, script)
    conf, ok, unlisted = [], [], []
    exact = 0
    for fs, t in rows:
        right = " ".join(f.text for f in fs) == t["name"]
        exact += right
        if not any(f.held for f in fs):
            conf.append(float(np.prod([_field_confidence(f, listed) for f in fs])))
            ok.append(right)
            unlisted.append(not known_name(t["name"], model))
    return np.asarray(conf), np.asarray(ok, bool), np.asarray(unlisted, bool), exact


WAYS = ("names_model", "listed_refit", "listed_overrules")
"""How a listed name's field may be judged: by the names' model it was read with, by a model fitted
on the sheets (``names.FEATURES``), or by one that also weighs how unlikely its overrules were
(``names.LISTED_FEATURES``, with the sheets' :func:`surprise_table`)."""


def choose(rows: list[Row], script: str, way: str = "listed_overrules") -> tuple[float, dict[str, Any], Listed | None]:
    """Fit the listed names' field confidence the ``way`` of :data:`WAYS` and choose the threshold, on
    the sheets' names (:func:`name_rows`).

    Returns the threshold, the figures behind it and the listed names' model (None: ``names_model``).
    """
    listed: Listed | None = None
    if way != "names_model":
        surprise = surprise_table(rows) if way == "listed_overrules" else None
        listed = (*fit_listed(rows, surprise), surprise)
    c, right, unl, exact = scores(rows, listed, script)
    if len(c) < MIN_ACCEPTED:  # the rule judges no set under MIN_ACCEPTED: it would accept every name
        raise SystemExit(
            f"only {len(c)} names on the validation sheets: the precision cannot be judged on fewer than"
            f" {MIN_ACCEPTED}; give more --pages"
        )
    names = len(rows)
    weights = mix_weights(unl, UNLISTED_SHARE)
    threshold = threshold_for(c, right, PRECISION, weights, MIN_ACCEPTED)
    accepted = c >= threshold
    figures = {
        "draws": len({fs[0].draw for fs, _ in rows}),
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
    return threshold, figures, listed


def cross_check(rows: list[Row], script: str) -> dict[str, list[float]]:
    """Each way of :data:`WAYS` fitted and thresholded on the first draw, measured on the second.

    [accepted share, wrong among the accepted] of the second draw's names: a
    fitted model is kept only where it accepts more of the sheets it was not
    fitted on (:func:`best_way`).
    """
    first = [r for r in rows if r[0][0].draw == 0]
    second = [r for r in rows if r[0][0].draw == 1]
    out = {}
    for label in WAYS:
        threshold, _, listed = choose(first, script, label)
        c, right, _, _ = scores(second, listed, script)
        accepted = c >= threshold
        out[label] = [round(float(accepted.sum()) / max(1, len(second)), 4), int((accepted & ~right).sum())]
    return out


def best_way(check: dict[str, list[float]] | None) -> str:
    """The way of :data:`WAYS` that accepted most of the second draw's names (``cross_check``), the
    simpler one on a tie; without a second draw, the fullest."""
    if check is None:
        return WAYS[-1]
    return max(WAYS, key=lambda w: (check[w][0], -WAYS.index(w)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", choices=("latin", "cyrillic"), default="latin", help="whose threshold to choose")
    ap.add_argument("--pages", type=int, default=PAGES, help="validation sheets a draw (about 7 names each)")
    ap.add_argument(
        "--draws",
        type=int,
        default=DRAWS,
        help="independent draws of sheets (seeds --seed, 2 x --seed, ...): on one draw of 1,200 the threshold"
        " moved between 0.9786 and 0.9865",
    )
    ap.add_argument("--seed", type=int, default=SEED, help="the first draw's seed (the benchmarks use others)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="pages read at once")
    ap.add_argument("--keep", type=Path, help="keep the sheets here and reuse them when made with the same settings")
    ap.add_argument("--dry-run", action="store_true", help="print what would be chosen, write nothing")
    args = ap.parse_args()
    run(args.script, args.pages, args.draws, args.seed, args.jobs, args.keep, args.dry_run)


def run(
    script: str,
    pages: int = PAGES,
    draws: int = DRAWS,
    seed: int = SEED,
    jobs: int = 1,
    keep: Path | None = None,
    dry_run: bool = False,
) -> float:
    """Make (or reuse) the sheets, read them, fit and choose; unless ``dry_run``, write the metadata."""
    meta_path = META if script == "latin" else CYRILLIC_META
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    names_threshold = float(meta.get("names_threshold", meta["auto_threshold"]))
    seeds = [seed * (i + 1) for i in range(draws)]
    with tempfile.TemporaryDirectory(prefix="page-threshold-") as tmp:
        root = keep or Path(tmp)
        for s in seeds:
            (root / f"seed-{s}").mkdir(parents=True, exist_ok=True)
        # One process a draw: the simulator works on one core, and each process keeps its
        # own data folder (make_pages points PETITIONSCAN_HOME at the sheets').
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max(1, min(jobs, draws)), mp_context=spawn) as pool:
            made = [pool.submit(make_sheets, root / f"seed-{s}", script, pages, s) for s in seeds]
            folders = [m.result() for m in made]
        fields = read_sheets(folders, jobs)
        # Inside: the truth files are read from the sheets' folders, gone with the temporary one.
        rows = name_rows(folders, fields)
    check = cross_check(rows, script) if len(folders) > 1 else None
    way = best_way(check)
    threshold, figures, listed = choose(rows, script, way)
    figures["way"] = way
    figures["pages_seeds"] = [pages, *seeds]
    if check is not None:
        figures["second_draw_from_first"] = check
    print(json.dumps(figures, indent=1))
    print(f"{script}: threshold on validation sheets {threshold:.4f} (on validation names {names_threshold:.4f})")
    if not dry_run:
        meta["names_threshold"] = names_threshold
        meta["auto_threshold"] = threshold
        # Written in one order whatever the file held before (a rerun or calibrate.py's fresh
        # file): the same sheets give the same file, byte for byte.
        meta.pop("field_confidence_listed", None)
        meta.pop("validation_pages", None)
        if listed is not None:
            meta["field_confidence_listed"] = {
                "features": list(FEATURES if listed[2] is None else LISTED_FEATURES),
                "coef": [round(float(v), 6) for v in listed[0]],
                "intercept": round(listed[1], 6),
            }
            if listed[2] is not None:
                meta["field_confidence_listed"]["surprise"] = listed[2]
        meta["validation_pages"] = figures
        write_meta(meta_path, meta)
    return threshold


if __name__ == "__main__":
    main()
