"""Letter accuracy of the recognizer on writers it never saw in training.

Usage (needs the handwriting folder, see docs/model-card.md):

    .venv/bin/python benchmarks/bench_recognizer.py [--data ../shared/handwriting] [--per-writer 2]

Test writers: UNIPEN labs tos, imp, syn, pri and all UJI writers, held out of
training as whole writers. Each letter is written into a field between two
neighbours, once clean ("plain") and once degraded like a scan ("paper":
pen width, slant, off-centre, low resolution, blur, box-line remnants,
bitonal/fax/photocopy, JPEG), and read by the full engine, all boxes in one
batch. Prints a table: letters, accuracy (the letter the reader reports), the
network's own likeliest letter ("network": before the name decoder, which gives
a letter no listed name holds, Kazakh Һ, to its look-alike Н), top-3, mean
confidence, calibration error, read time per box, and the most frequent
confusions. ``--errors DIR`` also writes each condition's misread boxes as one
captioned picture (truth>read, writer), to look at the errors rather than only
count them.

Pen-on-paper capitals (``emnist-upper.npz``, when the folder has it): the
test half of the SD19 writers never trained on (``paper_split``), read the
same way. Some of their labels are doubtful at the source: an L box holding
a lower-case l (no foot, read I by anyone: ``is_lowercase_l``) and seven
letters whose image is another character (``MISLABELLED_PAPER``: an N box
holding a bare stroke, ...), together ``is_doubtful``; the table gives the
accuracy with every letter and without those (``--no-paper`` skips the
set). For each condition the confusion pairs V/U, N/W, D/O, L/I and G/C
are counted both ways.

``--fonts build/fonts`` (after ``training/fetch_fonts.py``) also reads the
capitals of the 28 handwriting fonts held out of training (TEST_FONTS), each
letter ``--font-reps`` times (with ``--script cyrillic``: the Cyrillic letters
of the ten fonts that draw them, none seen by a Cyrillic network): letters from another source than the tablet
recordings, many made from pen handwriting. With ``--pages``, ``--hands fonts
--fonts build/fonts`` writes the sheets in those fonts instead.

Whole pages, side by side with the Tesseract engine:

    .venv/bin/python benchmarks/bench_recognizer.py --pages 40 [--engines cnn,tesseract] [--time-pages 10]

generates ``--pages`` sheets spread evenly over every capture profile of the
simulator (seeded), scans them with 2 workers once per engine and prints, per
engine: pages per second, names exact, character error rate, the share of
names accepted automatically and how many of those are exact, and the
recognizer's own time per page (the same cut-out fields of ``--time-pages``
pages read in this process), with its ratio to Tesseract's. ``--hands
validation`` has the sheets written by the validation writers instead (those
the acceptance threshold was chosen on; harder hands): a second check that
names accepted automatically are right.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import itertools

from petitionscan.alphabets import SEPARATORS
from petitionscan.recognize import FieldImage, Reading, Recognizer, get_engine
from petitionscan.recognize.cnn import TWINS
from petitionscan.recognize.render import (
    MADE_RUSSIAN,
    TEST_LABS,
    Sample,
    is_doubtful,
    is_test_font,
    load_font_letters,
    load_paper_letters,
    load_stroke_file,
    paper_split,
    render_field,
)
from petitionscan.simulate.handwriting import handwriting_dir
from training.sheets import make_pages


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


PAIRS = ("VU", "NW", "DO", "LI", "GC")
"""Letter pairs the reader confuses most, counted both ways in every table."""
CYRILLIC_PAIRS = (*(twin + base for twin, base in TWINS.items()), "ҺН")
"""The same in Cyrillic tables: letters told apart by a mark or a stem (``cnn.TWINS``), and Һ,
which the name decoder gives to Н."""


def paper_test_samples(data: Path) -> list[Sample]:
    """The pen-on-paper capitals of the held-out writer population's test half."""
    return [
        s for s in load_paper_letters(data / "emnist-upper.npz", ["sd19-hsf0123"]) if paper_split(s.writer) == "test"
    ]


def wilson(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``right`` of ``n``."""
    if n == 0:
        return 0.0, 1.0
    p = right / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def ece(conf: np.ndarray, ok: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for a, b in itertools.pairwise(edges):
        m = (conf > a) & (conf <= b)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - ok[m].mean())
    return float(total)


def score_db(db: Path, folders: list[Path]) -> dict[str, Any]:
    """Names exact, CER, auto share and auto precision against the simulator's truth."""
    from rapidfuzz.distance import Levenshtein

    truth: dict[tuple[str, int], dict[str, str]] = {}
    for folder in folders:
        with (folder / "truth.csv").open(encoding="utf-8", newline="") as fh:
            truth.update({(r["sheet_id"], int(r["row"])): r for r in csv.DictReader(fh)})
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT s.serial, r.row_no, r.name, r.machine_status, r.confidence"
            " FROM rows r JOIN sheets s ON s.id = r.sheet_id"
        ).fetchall()
    from petitionscan.alphabets import CYRILLIC
    from petitionscan.recognize.names import known_name, load_model

    def script_of(text: str) -> str:
        return "cyrillic" if any(ch in CYRILLIC for ch in text) else "latin"

    names = exact = errors = chars = auto = auto_ok = 0
    unsigned = 0  # names on rows found unsigned: no signature to accept, whatever the reading
    scripts = [0, 0]  # names read in some script, of those in the script written
    group: dict[bool, list[int]] = {True: [0, 0, 0, 0], False: [0, 0, 0, 0]}  # names, exact, auto, auto exact
    wrong_auto: list[tuple[str, str, float]] = []  # truth, read, confidence
    wrong_script: list[tuple[str, str]] = []  # truth, read
    swaps: Counter[str] = Counter()  # letters of misread names read as another letter
    misread: list[tuple[str, str, str, float]] = []  # truth, read, status, confidence
    held: Counter[str] = Counter()  # names not accepted, by why (HELD_REASONS)
    for serial, row_no, name, status, confidence in rows:
        t = truth.get((serial, row_no))
        if t is None or not t["name"] or t["crossed_out"] != "no":
            continue
        names += 1
        unsigned += status == "unsigned"
        ok = name == t["name"]
        written = script_of(t["name"])
        if name:
            scripts[0] += 1
            scripts[1] += script_of(name) == written
            if script_of(name) != written:
                wrong_script.append((t["name"], name))
        listed = known_name(t["name"], load_model(None, written))
        if status != "auto":
            held[held_reason(t["name"], ok, status, listed)] += 1
        g = group[listed]
        g[0] += 1
        g[1] += ok
        g[2] += status == "auto"
        g[3] += ok and status == "auto"
        exact += ok
        if not ok:
            misread.append((t["name"], name or "", status, float(confidence or 0.0)))
        errors += Levenshtein.distance(name or "", t["name"])
        for op in Levenshtein.editops(t["name"], name or ""):
            if op.tag == "replace":
                swaps[f"{t['name'][op.src_pos]}>{(name or '')[op.dest_pos]}"] += 1
        chars += len(t["name"])
        if status == "auto":
            auto += 1
            auto_ok += ok
            if not ok:
                wrong_auto.append((t["name"], name, float(confidence or 0.0)))
    return {
        "names": names,
        "exact": exact / max(1, names),
        "cer": errors / max(1, chars),
        "auto": auto / max(1, names),
        "auto_signed": auto / max(1, names - unsigned),
        "unsigned": unsigned,
        "auto_ok": auto_ok / max(1, auto),
        "auto_n": auto,
        "groups": group,
        "wrong_auto": wrong_auto,
        "wrong_script": wrong_script,
        "swaps": swaps,
        "misread": misread,
        "held": held,
        "script_ok": scripts[1] / max(1, scripts[0]),
    }


HELD_REASONS = {
    "unsigned": "found unsigned",
    "marks": "a hyphen or apostrophe (always to a person)",
    "misread": "read wrong",
    "unlisted": "read right, a word in no list",
    "listed": "read right, every word listed, under the threshold",
}
"""Why a name was not accepted automatically, as the page benchmark counts them (first that applies)."""


def held_reason(truth: str, right: bool, status: str, listed: bool) -> str:
    """The :data:`HELD_REASONS` key of a name not accepted automatically: where acceptance is lost."""
    if status == "unsigned":
        return "unsigned"
    if any(ch in SEPARATORS for ch in truth):
        return "marks"
    if not right:
        return "misread"
    return "listed" if listed else "unlisted"


def page_fields(folders: list[Path], limit: int) -> list[list[FieldImage]]:
    """The written fields of the first ``limit`` pages, cut out by the scan library."""
    from petitionscan import geometry
    from petitionscan.scan.fields import cut_page
    from petitionscan.scan.load import find_inputs, load_page, page_count
    from petitionscan.scan.pipeline import field_images
    from petitionscan.scan.register import Registration, register

    out: list[list[FieldImage]] = []
    files = find_inputs(folders).files
    for item in files:
        for page in range(1, page_count(item) + 1):
            if len(out) >= limit:
                return out
            image = load_page(item, page).image
            reg = register(image)
            if not isinstance(reg, Registration):
                continue
            sheet = geometry.sheet_geometry(geometry.parse_layout_code(reg.layout_code))
            out.append(field_images(cut_page(image, reg.matrix, sheet).rows, sheet.spec.alphabet))
    return out


def bench_pages(
    pages: int,
    seed: int,
    engines: list[str],
    time_pages: int,
    hands: str = "test",
    campaign: Path | None = None,
    fonts: Path | None = None,
    misread: Path | None = None,
    keep: Path | None = None,
) -> None:
    from petitionscan.scan import scan_paths
    from petitionscan.simulate import PROFILES

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        stamp = json.dumps([pages, seed, hands, str(campaign or ""), str(fonts or "")])
        if keep is not None and (keep / "corpus.json").is_file() and (keep / "corpus.json").read_text() == stamp:
            folders = [keep / profile for profile in PROFILES]
            os.environ["PETITIONSCAN_HOME"] = str(root / "home")
            made = f"kept in {keep}"
        else:
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / "corpus.json").unlink(missing_ok=True)
            folders = make_pages(keep or root, pages, seed, hands, campaign, fonts)
            if keep is not None:
                (keep / "corpus.json").write_text(stamp)
            made = f"simulated in {time.perf_counter() - t0:.0f} s"
        print(
            f"corpus: {pages} sheets over {len(folders)} capture profiles, {hands} writers, seed {seed}, "
            f"campaign {campaign or 'default'}, {made}"
        )
        fields = page_fields(folders, time_pages)
        boxes = sum(len([b for f in fs for b in f.blank if not b]) for fs in fields)
        print(f"recognizer timing: {len(fields)} pages, {boxes / max(1, len(fields)):.0f} written boxes per page")
        header = (
            f"{'engine':<10} {'pages':>5} {'pages/s':>8} {'names':>6} {'exact':>7} {'CER':>6} "
            f"{'auto':>6} {'auto exact':>10} {'read ms/page':>12} {'vs tess.':>8}"
        )
        print(header)
        print("-" * len(header))
        read_ms: dict[str, float] = {}
        results = []
        for name in engines:
            engine = get_engine(name)
            engine.read(fields[0])  # load the model outside the timing
            t = time.perf_counter()
            for fs in fields:
                engine.read(fs)
            read_ms[name] = 1000 * (time.perf_counter() - t) / max(1, len(fields))
            db = root / f"{name}.db"
            t = time.perf_counter()
            summary = scan_paths(folders, db=db, jobs=2, engine=name, rejected=root / f"{name}-rejected.csv")
            elapsed = time.perf_counter() - t
            results.append((name, summary.pages_read, summary.pages_read / elapsed, score_db(db, folders)))
        for name, n_pages, rate, m in results:
            ratio = read_ms.get("tesseract", float("nan")) / read_ms[name]
            print(
                f"{name:<10} {n_pages:>5} {rate:>8.2f} {m['names']:>6.0f} {m['exact']:>7.1%} {m['cer']:>6.3f} "
                f"{m['auto']:>6.1%} {m['auto_ok']:>10.1%} {read_ms[name]:>12.0f} {ratio:>7.1f}x"
            )
        for name, _n, _r, m in results:
            lo, hi = wilson(round(m["auto_ok"] * m["auto_n"]), m["auto_n"])
            print(
                f"  {name}: {m['auto_n']} accepted automatically, {m['auto_ok']:.2%} exact "
                f"(95 % interval {lo:.2%}-{hi:.2%}); script of the names read as written: {m['script_ok']:.2%}"
            )
            print(
                f"  {name}: of the {m['names'] - m['unsigned']} names on rows found signed "
                f"({m['unsigned']} found unsigned, no signature to accept), {m['auto_signed']:.1%} accepted automatically"
            )
            for known, (n, ex, au, au_ok) in sorted(m["groups"].items(), reverse=True):
                label = "every word in the lexicon" if known else "a word not in the lexicon"
                of_auto = f"{au_ok / au:.1%} ({au - au_ok} wrong)" if au else "-"
                print(
                    f"  {name}: {n} names ({n / max(1, m['names']):.0%}) with {label}: exact {ex / max(1, n):.1%}, "
                    f"auto {au / max(1, n):.1%} ({au}), auto exact {of_auto}, "
                    f"of those read right accepted {au_ok / max(1, ex):.1%}"
                )
            names = max(1, m["names"])
            print(
                f"  {name}: not accepted, of all names: "
                + "; ".join(f"{label} {m['held'][k] / names:.1%}" for k, label in HELD_REASONS.items())
            )
            for truth, read, confidence in m["wrong_auto"]:
                print(f"  {name}: accepted automatically but wrong: {truth} read as {read} ({confidence:.3f})")
            for truth, read in m["wrong_script"]:
                print(f"  {name}: read in the other script: {truth} as {read}")
            print(
                f"  {name}: letters of names read as another: "
                + ", ".join(f"{k} {v}" for k, v in m["swaps"].most_common(16))
            )
            if misread is not None:
                out = misread.with_name(f"{misread.stem}-{name}{misread.suffix}")
                with out.open("w", encoding="utf-8", newline="") as fh:
                    w = csv.writer(fh)
                    w.writerow(["truth", "read", "status", "confidence"])
                    w.writerows(m["misread"])
                print(f"  {name}: {len(m['misread'])} misread names written to {out}")


def contact_sheet(path: Path, wrong: list[tuple[FieldImage, Sample, Reading]]) -> None:
    """Misread fields in a grid, each captioned truth>read and its writer: to look at the errors."""
    import cv2

    if not wrong:
        return
    tiles = []
    for f, s, r in wrong:
        img = f.image if f.image.ndim == 2 else cv2.cvtColor(f.image, cv2.COLOR_BGR2GRAY)
        x0, y0, x1, y1 = (int(v) for v in f.boxes_px[1])
        crop = cv2.resize(img[max(0, y0 - 4) : y1 + 4, max(0, x0 - 4) : x1 + 4], (72, 88))
        tile = np.full((112, 96), 255, np.uint8)
        tile[2:90, 12:84] = crop
        read = r.letters[0].char if r.letters else "-"
        cv2.putText(tile, f"{s.label}>{read}", (4, 102), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
        cv2.putText(tile, s.writer[:14], (2, 111), cv2.FONT_HERSHEY_PLAIN, 0.6, 0, 1)
        tiles.append(tile)
    cols = 16
    while len(tiles) % cols:
        tiles.append(np.full((112, 96), 255, np.uint8))
    grid = np.vstack([np.hstack(tiles[i : i + cols]) for i in range(0, len(tiles), cols)])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), grid)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=handwriting_dir(), help="the handwriting data folder")
    ap.add_argument("--per-writer", type=int, default=2, help="samples per writer and letter")
    ap.add_argument("--per-class", type=int, default=120, help="cyrillic: test letters per class")
    ap.add_argument(
        "--made-letters",
        default=MADE_RUSSIAN,
        help="cyrillic: the Russian capitals made from held-out writers' Latin pen letters to read too",
    )
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--engine", default="cnn")
    ap.add_argument("--pages", type=int, default=0, help="whole-page mode: this many simulated sheets")
    ap.add_argument("--engines", default="cnn,tesseract", help="engines compared in page mode")
    ap.add_argument("--time-pages", type=int, default=10, help="pages read in-process to time the recognizer")
    ap.add_argument(
        "--hands",
        choices=("test", "validation", "paper", "paper-validation", "fonts"),
        default="test",
        help="page mode: who writes the names (validation: the tablet writers the threshold was fitted on; "
        "paper: held-out pen-on-paper letters; paper-validation: their validation half; fonts: the held-out handwriting fonts in --fonts)",
    )
    ap.add_argument("--fonts", type=Path, help="also read the held-out handwriting fonts in this folder")
    ap.add_argument("--font-reps", type=int, default=4, help="renders per held-out font letter")
    ap.add_argument("--errors", type=Path, help="write a contact sheet of the misread fields per condition here")
    ap.add_argument("--no-paper", action="store_true", help="leave out the pen-on-paper letters")
    ap.add_argument("--campaign", type=Path, help="page mode: the campaign file the sheets are printed from")
    ap.add_argument(
        "--misread", type=Path, help="page mode: write the misread names (truth, read, status) to this CSV, per engine"
    )
    ap.add_argument(
        "--script", choices=("latin", "cyrillic"), default="latin", help="cyrillic: the Cyrillic letters instead"
    )
    ap.add_argument(
        "--keep",
        type=Path,
        help="page mode: keep the simulated sheets in this folder and read them from there when it holds "
        "sheets made with the same --pages, --seed, --hands, --campaign and --fonts (to compare readers)",
    )
    args = ap.parse_args()
    if args.script == "cyrillic" and not args.pages:
        bench_cyrillic_letters(args)
        return
    if args.pages:
        bench_pages(
            args.pages,
            args.seed,
            args.engines.split(","),
            args.time_pages,
            args.hands,
            args.campaign,
            args.fonts,
            args.misread,
            args.keep,
        )
        return
    rng = np.random.default_rng(args.seed)
    engine = get_engine(args.engine)
    print(f"engine {engine.version}")
    samples = test_samples(args.data, args.per_writer, rng)
    writers = len({s.writer for s in samples})
    bench_letters(f"{len(samples)} letters from {writers} held-out writers", samples, engine, rng, args.errors)
    if not args.no_paper and (args.data / "emnist-upper.npz").is_file():
        paper = paper_test_samples(args.data)
        errors = args.errors / "paper" if args.errors else None
        bench_letters(
            f"{len(paper)} pen-on-paper letters of held-out writers (SD19 hsf_0-3, test half)",
            paper,
            engine,
            rng,
            errors,
            doubtful=[is_doubtful(s) for s in paper],
        )
    if args.fonts:
        fonts = [s for s in load_font_letters(args.fonts) if is_test_font(s.writer)]
        if not fonts:
            raise SystemExit(f"no held-out font in {args.fonts}: run training/fetch_fonts.py first")
        n = len({s.writer for s in fonts})
        fonts = [s for s in fonts for _ in range(args.font_reps)]
        errors = args.errors / "fonts" if args.errors else None
        bench_letters(f"{len(fonts)} letters from {n} held-out handwriting fonts", fonts, engine, rng, errors)


def bench_cyrillic_letters(args: argparse.Namespace) -> None:
    """Cyrillic capitals of the test session groups (and of Latin test writers where the shapes are shared)."""
    sys.path.insert(0, str(ROOT / "training"))
    from train_letters import load_cyrillic_set, split_of

    rng = np.random.default_rng(args.seed)
    engine = get_engine(args.engine)
    print(f"engine {engine.version}")
    samples = [s for s in load_cyrillic_set(args.data, 1500, rng) if split_of(s.writer, "cyrillic") == "test"]
    # As many of each letter as the drawings give, at most per_class: a balanced test.
    by_letter: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_letter[s.label].append(s)
    chosen = []
    for letter in sorted(by_letter):
        group = by_letter[letter]
        chosen += [group[int(i)] for i in rng.permutation(len(group))[: args.per_class]]
    right = bench_letters(
        f"{len(chosen)} Cyrillic letters of held-out session groups and writers",
        chosen,
        engine,
        rng,
        args.errors,
        alphabet="cyrillic",
    )
    print_by_language(right, chosen)
    # The made Russian capitals (--made-letters) as a pen draws them: from held-out Latin writers' letters.
    made_rng = np.random.default_rng(args.seed + 1)
    made_by_letter: dict[str, list[Sample]] = defaultdict(list)
    for s in load_cyrillic_set(args.data, 1500, made_rng, made=args.made_letters):
        made_here = s.label in args.made_letters and not s.writer.startswith(("cyr-", "kaz-"))
        if made_here and split_of(s.writer, "cyrillic") == "test":
            made_by_letter[s.label].append(s)
    made = []
    for letter in sorted(made_by_letter):
        group = made_by_letter[letter]
        made += [group[int(i)] for i in made_rng.permutation(len(group))[: args.per_class]]
    bench_letters(
        f"{len(made)} of {' '.join(args.made_letters)} made from held-out writers' pen letters (a mirrored N, ...)",
        made,
        engine,
        made_rng,
        None,
        alphabet="cyrillic",
    )
    if args.fonts:
        # Another source: the fonts that draw Russian (and some Kazakh) letters; no Cyrillic network saw a font.
        from petitionscan.alphabets import CYRILLIC

        fonts = load_font_letters(args.fonts / "cyrillic", CYRILLIC)
        if not fonts:
            raise SystemExit(f"no Cyrillic font in {args.fonts / 'cyrillic'}: run training/fetch_fonts.py again")
        n = len({s.writer.removesuffix("-ext") for s in fonts})
        fonts = [s for s in fonts for _ in range(args.font_reps)]
        font_rng = np.random.default_rng(args.seed + 2)
        right = bench_letters(
            f"{len(fonts)} Cyrillic letters of {n} handwriting fonts",
            fonts,
            engine,
            font_rng,
            None,
            alphabet="cyrillic",
        )
        print_by_language(right, fonts)


def print_by_language(right: dict[str, np.ndarray], samples: list[Sample]) -> None:
    """Each condition's accuracy on the Russian letters and on the nine Kazakh ones apart."""
    from petitionscan.alphabets import KAZAKH

    kazakh = np.array([s.label in KAZAKH for s in samples])
    for condition, ok in right.items():
        print(
            f"  {condition}: Russian letters {ok[~kazakh].mean():.4f} ({int((~kazakh).sum())}), "
            f"Kazakh letters {ok[kazakh].mean():.4f} ({int(kazakh.sum())})"
        )


def bench_letters(
    title: str,
    samples: list[Sample],
    engine: Recognizer,
    rng: np.random.Generator,
    errors: Path | None,
    doubtful: list[bool] | None = None,
    alphabet: str = "latin",
) -> dict[str, np.ndarray]:
    """Each letter between random neighbours, read plain and degraded: accuracy, calibration, confusions.

    ``doubtful`` marks letters whose label is in doubt at the source: the
    accuracy is then also given without them. Returns each condition's
    per-letter rightness (for figures on a subset).
    """
    results: dict[str, np.ndarray] = {}
    print(title)
    extra = f" {'w/o doubtful':>12}" if doubtful else ""
    print(
        f"{'condition':<10} {'letters':>8} {'accuracy':>9}{extra} {'network':>8} {'top3':>7} {'mean p':>7} "
        f"{'ECE':>6} {'ms/box':>7}"
    )
    for condition in ("plain", "paper"):
        fields = []
        for i, s in enumerate(samples):
            left = samples[int(rng.integers(len(samples)))] if rng.random() < 0.5 else None
            right = samples[int(rng.integers(len(samples)))] if rng.random() < 0.5 else None
            img, boxes, _ = render_field([left, s, right], rng, degrade=condition == "paper")
            blank = (True, False, True)  # only the middle box is read
            fields.append(FieldImage(str(i), img, boxes, blank, 8.0, alphabet))
        t0 = time.perf_counter()
        readings = []
        for k in range(0, len(fields), 100):  # about a page of fields per call
            readings += engine.read(fields[k : k + 100])
        dt = time.perf_counter() - t0
        conf, ok, top3, own = [], [], [], []
        confusions: Counter[str] = Counter()
        for s, r in zip(samples, readings, strict=False):
            if not r.letters:
                conf.append(0.0)
                ok.append(False)
                top3.append(False)
                own.append(False)
                confusions[f"{s.label}->(none)"] += 1
                continue
            lr = r.letters[0]
            conf.append(lr.probability)
            ok.append(lr.char == s.label)
            # The network's own likeliest letter, before the name decoder's priors (a letter no
            # listed name holds, such as Һ, is given to its look-alike there).
            own.append(max(lr.alternatives, key=lambda a: a[1])[0] == s.label)
            top3.append(any(c == s.label for c, _ in lr.alternatives))
            if lr.char != s.label:
                confusions[f"{s.label}->{lr.char}"] += 1
        c, o = np.asarray(conf), np.asarray(ok)
        results[condition] = o
        if errors:
            wrong = [(f, s, r) for f, s, r, k in zip(fields, samples, readings, ok, strict=False) if not k]
            contact_sheet(errors / f"errors-{condition}.png", wrong)
        clean = ""
        if doubtful:
            keep = ~np.asarray(doubtful)
            clean = f" {o[keep].mean():>12.4f}"
        print(
            f"{condition:<10} {len(samples):>8} {o.mean():>9.4f}{clean} {np.mean(own):>8.4f} {np.mean(top3):>7.4f} "
            f"{c.mean():>7.3f} {ece(c, o):>6.3f} {1000 * dt / len(samples):>7.2f}"
        )
        print("  confusions: " + ", ".join(f"{k} {v}" for k, v in confusions.most_common(10)))
        if doubtful:
            print(f"  doubtful labels (a lower-case l in an L box, or another character): {sum(doubtful)}")
        counts = Counter(s.label for s in samples)
        pairs = []
        for a, b in (tuple(pair) for pair in (CYRILLIC_PAIRS if alphabet == "cyrillic" else PAIRS)):
            ab, ba = confusions[f"{a}->{b}"], confusions[f"{b}->{a}"]
            pairs.append(f"{a}/{b} {(ab + ba) / max(1, counts[a] + counts[b]):.2%} ({a}>{b} {ab}, {b}>{a} {ba})")
        print("  pairs: " + ", ".join(pairs))
        by_writer = Counter(s.writer for s, k in zip(samples, ok, strict=False) if not k)
        print("  most errors: " + ", ".join(f"{w} {n}" for w, n in by_writer.most_common(6)))
    return results


if __name__ == "__main__":
    main()
