"""Scan benchmark: speed and accuracy of ``petitionscan scan`` on a simulated corpus.

    .venv/bin/python benchmarks/bench_scan.py [--sheets 40] [--engine cnn] [--seed 1] [--jobs 1,2]

Generates sheets, simulates every capture profile (mixed, seeded), scans the
corpus once per worker count into a fresh database and prints a table: pages
per second (start-up included; the name models a first run builds and keeps
are built before, and their time printed), sheets identified, blank-row accuracy, name
exact-match rate, character error rate, the share of names accepted
automatically and how many of those are wrong, against truth.csv. Then, per
worker count: CPU milliseconds per page of all processes together (start-up
included), per stage (summed over the workers), and database bytes per page;
and once: the decode-only CPU time of the same pages and the ratio of the
per-page stages to it.

The wall-clock rates depend on what else the machine runs; the CPU times much
less so.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from petitionscan.scan import scan_paths
from petitionscan.scan.load import find_inputs, load_page, page_count

# The generator, the simulator and rapidfuzz are imported where they are used:
# each spawned scan worker imports this script again (as ``__mp_main__``), and
# with them at the top each worker paid 0.23 s of CPU the command line's
# workers never pay (7.7 ms a page over 60 pages with two workers).


def make_corpus(root: Path, sheets: int, seed: int) -> Path:
    from petitionscan.forms import generate
    from petitionscan.simulate import simulate

    os.environ["PETITIONSCAN_HOME"] = str(root / "home")
    pdf, layout = root / "sheets.pdf", root / "sheets.json"
    generate(None, sheets=sheets, out=pdf, layout_out=layout, with_appeal=False, serial_seed=seed)
    simulate(pdf, layout, root / "scans", profile="mixed", seed=seed, fill=0.8)
    return root / "scans"


def keep_name_models() -> float:
    """Build the name models once, as a first run on a laptop keeps them in the user's data folder.

    The timed runs then start as every later run does; the one-time cost is
    printed on its own.
    """
    from petitionscan.recognize.names import KINDS, load_model

    started = time.perf_counter()
    for script in ("latin", "cyrillic"):
        for kind in (*KINDS, None):
            load_model(kind, script)
    return time.perf_counter() - started


def evaluate(db: Path, truth_csv: Path) -> dict[str, float]:
    from rapidfuzz.distance import Levenshtein

    with truth_csv.open(encoding="utf-8", newline="") as fh:
        truth = {(r["sheet_id"], int(r["row"])): r for r in csv.DictReader(fh)}
    serials = {k[0] for k in truth}
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT s.serial, r.row_no, r.name, r.status FROM rows r JOIN sheets s ON s.id = r.sheet_id"
        ).fetchall()
        found = {r[0] for r in conn.execute("SELECT serial FROM sheets")}
    blank_ok = names = exact = auto = auto_wrong = 0
    errors = chars = 0
    for serial, row_no, name, status in rows:
        t = truth.get((serial, row_no))
        if t is None:
            continue
        blank_ok += (status == "blank") == (t["name"] == "")
        if t["name"] and t["crossed_out"] == "no":
            names += 1
            exact += name == t["name"]
            errors += Levenshtein.distance(name, t["name"])
            chars += len(t["name"])
            auto += status == "auto"
            auto_wrong += status == "auto" and name != t["name"]
    return {
        "sheets": len(serials),
        "identified": len(found & serials),
        "blank_acc": blank_ok / max(1, len(truth)),
        "exact": exact / max(1, names),
        "cer": errors / max(1, chars),
        "auto": auto / max(1, names),
        "auto_wrong": auto_wrong,
    }


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def decode_only(scans: Path) -> tuple[int, float]:
    """Pages and CPU seconds to decode every page of the corpus, nothing else."""
    pages = 0
    seconds = 0.0
    for item in find_inputs([scans]).files:
        for page in range(1, page_count(item) + 1):
            started = time.process_time()
            load_page(item, page)
            seconds += time.process_time() - started
            pages += 1
    return pages, seconds


def db_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=40)
    parser.add_argument("--engine", default="cnn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--corpus", type=Path, help="reuse a simulated scans folder (with truth.csv)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        root = Path(tmp)
        if args.corpus:  # a kept folder: what it holds, not what --sheets and --seed would make
            scans = args.corpus
            print(f"corpus: {scans} ({len(find_inputs([scans]).files)} files, kept), engine {args.engine}")
        else:
            scans = make_corpus(root, args.sheets, args.seed)
            print(f"corpus: {scans} ({args.sheets} sheets, seed {args.seed}), engine {args.engine}")
        print(f"name models built and kept once (a first run only): {keep_name_models():.2f} s")
        header = (
            f"{'jobs':>4} {'pages':>5} {'pages/s':>8} {'steady':>7} "
            f"{'identified':>10} {'blank rows':>10} {'exact names':>11} {'CER':>6} {'auto':>6} {'auto wrong':>10}"
        )
        print(header)
        print("-" * len(header))
        costs: list[str] = []
        stage_ms: list[float] = []
        for jobs in (int(j) for j in args.jobs.split(",")):
            db = root / f"bench-{jobs}.db"
            cpu_started = cpu_seconds()
            started = time.perf_counter()
            stamps: list[float] = []

            def progress(done: int, total: int, stamps: list[float] = stamps) -> None:
                stamps.append(time.perf_counter())

            summary = scan_paths(
                [scans], db=db, jobs=jobs, engine=args.engine, rejected=root / f"rejected-{jobs}.csv", progress=progress
            )
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_started
            # Steady rate: once every worker has started and read its first page,
            # as on a long stack (a 500-sheet batch pays the start-up once).
            first = stamps[min(jobs, len(stamps) - 1)]
            steady = (len(stamps) - 1 - min(jobs, len(stamps) - 1)) / max(1e-9, stamps[-1] - first)
            m = evaluate(db, scans / "truth.csv")
            print(
                f"{jobs:>4} {summary.pages_read:>5} {summary.pages_read / elapsed:>8.2f} {steady:>7.2f} "
                f"{m['identified']:>4.0f}/{m['sheets']:<5.0f} {m['blank_acc']:>10.1%} {m['exact']:>11.1%} {m['cer']:>6.3f}"
                f" {m['auto']:>6.1%} {m['auto_wrong']:>10.0f}"
            )
            for r in summary.rejected:
                print(f"     rejected {r.file} page {r.page}: {r.reason}")
            pages = max(1, summary.pages_read)
            stages = "  ".join(f"{k} {1000 * v / pages:.1f}" for k, v in summary.stage_seconds.items())
            per_page = 1000 * sum(summary.stage_seconds.values()) / pages
            stage_ms.append(per_page)
            costs.append(
                f"{jobs:>4}  {1000 * cpu / pages:>6.0f} cpu-ms/page with start-up;  "
                f"stages {per_page:.0f} ms ({stages});  {db_bytes(db) / pages / 1000:.1f} kB/page in the database"
            )
        print()
        print("jobs   CPU cost and database size")
        print("\n".join(costs))
        decoded, decode_seconds = decode_only(scans)
        decode_ms = 1000 * decode_seconds / max(1, decoded)
        ratios = ", ".join(f"{ms / max(decode_ms, 1e-9):.1f}x" for ms in stage_ms)
        print(f"decode only: {decode_ms:.1f} cpu-ms/page over {decoded} pages; stages / decode: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
