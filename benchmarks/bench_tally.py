"""Benchmark: deduplicate and tally a million signature rows.

Builds a synthetic campaign database (names from Faker's English, German and
Russian name lists, 200 workplaces, 50 towns, a few rows without workplace or
town), with 10 % of rows being people signing again and 2 % signing again
with a recognizer-style misreading (O/Q, I/L, U/V, M/N, R/B, E/F). Then, in a
fresh process so that peak memory is only the counting, loads the rows,
finds the signers and tallies by branch. Prints time, peak memory, and the
precision and recall of duplicate detection against the truth (over pairs of
rows: "these two rows are one person").

    .venv/bin/python benchmarks/bench_tally.py [--rows 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROWS_PER_SHEET = 10
CONFUSE = {"O": "Q", "Q": "O", "D": "O", "I": "L", "L": "I", "J": "I", "U": "V", "V": "U", "M": "N", "N": "M",
           "B": "R", "R": "B", "P": "R", "E": "F", "F": "E"}  # fmt: skip


def _name_lists() -> list[tuple[list[str], list[str], float]]:
    from faker.providers.person.de_DE import Provider as German
    from faker.providers.person.en_GB import Provider as English
    from faker.providers.person.ru_RU import Provider as Russian

    return [
        (list(English.first_names), list(English.last_names), 0.5),
        (list(German.first_names), list(German.last_names), 0.3),
        (list(Russian.first_names_male) + list(Russian.first_names_female), list(Russian.last_names_male), 0.2),
    ]


def _misread(name: str, rng: np.random.Generator) -> str:
    spots = [i for i, ch in enumerate(name) if ch in CONFUSE]
    if not spots:
        return name
    i = spots[int(rng.integers(len(spots)))]
    return name[:i] + CONFUSE[name[i]] + name[i + 1 :]


def build(path: Path, rows: int, seed: int) -> np.ndarray:
    """Write the database; return the true person of every row (by row id order)."""
    rng = np.random.default_rng(seed)
    n_dup, n_near = rows // 10, rows // 50
    n_people = rows - n_dup - n_near
    names = np.empty(n_people, dtype=object)
    lists = _name_lists()
    choice = rng.choice(len(lists), size=n_people, p=[w for _, _, w in lists])
    for k, (firsts, lasts, _) in enumerate(lists):
        idx = np.nonzero(choice == k)[0]
        f = np.asarray([s.upper() for s in firsts], dtype=object)[rng.integers(len(firsts), size=len(idx))]
        s = np.asarray([s.upper() for s in lasts], dtype=object)[rng.integers(len(lasts), size=len(idx))]
        names[idx] = f + " " + s
    workplaces = np.asarray([f"WORKPLACE {i:03d}" for i in range(200)], dtype=object)
    towns = np.asarray([f"TOWN {i:02d}" for i in range(50)], dtype=object)
    wp = workplaces[rng.integers(200, size=n_people)]
    town = towns[rng.integers(50, size=n_people)]
    wp[rng.random(n_people) < 0.03] = ""
    town[rng.random(n_people) < 0.03] = ""
    people = pd.DataFrame({"name": names, "workplace": wp, "town": town})
    # People with the same name, workplace and town cannot be told apart: one person.
    person = people.groupby(["name", "workplace", "town"], sort=False).ngroup().to_numpy()

    again = rng.integers(n_people, size=n_dup)
    latin = np.nonzero(choice != 2)[0]
    near = latin[rng.integers(len(latin), size=n_near)]
    row_src = np.concatenate([np.arange(n_people), again, near])
    row_name = np.concatenate([names, names[again], np.asarray([_misread(n, rng) for n in names[near]], dtype=object)])
    # Lower-case a few repeat signatures: normalisation must catch them.
    lower = np.nonzero(rng.random(len(row_name)) < 0.02)[0]
    row_name[lower] = [n.title() for n in row_name[lower]]
    order = rng.permutation(len(row_src))
    row_src, row_name = row_src[order], row_name[order]

    raw = sqlite3.connect(path)
    raw.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
    raw.close()
    from petitionscan import store

    conn = store.connect(path)
    n_sheets = (len(row_src) + ROWS_PER_SHEET - 1) // ROWS_PER_SHEET
    branches = [f"BRANCH {i:02d}" for i in range(40)]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sheets (id, serial, copy_no, campaign_id, layout_code, branch, first_seen_at) "
        "VALUES (?, ?, 1, 'bench', 'A4', ?, '2024-05-01T00:00:00+00:00')",
        ((i + 1, f"S{i + 1:07d}", branches[i % 40]) for i in range(n_sheets)),
    )
    conn.executemany(
        "INSERT INTO scans (id, source_file, page, file_hash, page_hash, status, sheet_id, scanned_at) "
        "VALUES (?, 'bench.pdf', ?, 'f', ?, 'read', ?, ?)",
        ((i + 1, i + 1, f"h{i}", i + 1, f"2024-05-{1 + i * 28 // n_sheets:02d}T10:00:00+00:00")
         for i in range(n_sheets)),
    )  # fmt: skip
    now = "2024-05-01T00:00:00+00:00"

    def lines():  # type: ignore[no-untyped-def]
        for i in range(len(row_src)):
            src = row_src[i]
            name = row_name[i]
            first, _, last = name.partition(" ")
            sheet = i // ROWS_PER_SHEET + 1
            yield (i + 1, sheet, sheet, i % ROWS_PER_SHEET + 1, name, first, last, wp[src], town[src], name, now)

    conn.executemany(
        "INSERT INTO rows (id, sheet_id, scan_id, row_no, name, first_name, surname, workplace, town, status, "
        "confidence, signed, crossed_out, machine_name, machine_status, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'auto', 0.95, 1, 0, ?, 'auto', ?)",
        lines(),
    )
    conn.execute("COMMIT")
    conn.close()
    return person[row_src]


def measure(db: Path, out: Path) -> None:
    """Child process: load, dedupe, tally; write timings and the signer of each row."""
    from petitionscan import tally

    conn = sqlite3.connect(db)
    c0, t0 = time.process_time(), time.perf_counter()
    rows = tally.load_rows(conn)
    t1 = time.perf_counter()
    result = tally.dedupe_rows(rows)
    t2 = time.perf_counter()
    table = tally.tally(rows, result, "branch")
    t3, c3 = time.perf_counter(), time.process_time()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    signer = result.rows.sort_values("row_id")["signer"].to_numpy()
    np.save(out / "signer.npy", signer)
    report = {
        "load_s": t1 - t0,
        "dedupe_s": t2 - t1,
        "tally_s": t3 - t2,
        "cpu_s": c3 - c0,
        "peak_mib": peak_kib / 1024,
        "unique": table.value("unique signatures"),
        "probable": table.value("of which probable"),
    }
    (out / "report.json").write_text(json.dumps(report))


def _pairs(sizes: np.ndarray) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure[0]), Path(args.measure[1]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-tally-") as tmp:
        folder = Path(tmp)
        db = folder / "bench.db"
        t0 = time.perf_counter()
        truth = build(db, args.rows, args.seed)
        build_s = time.perf_counter() - t0
        subprocess.run([sys.executable, __file__, "--measure", str(db), str(folder)], check=True)
        report = json.loads((folder / "report.json").read_text())
        signer = np.load(folder / "signer.npy", allow_pickle=False)
    both = pd.DataFrame({"p": signer, "t": truth})
    true_pairs = _pairs(both.groupby("t").size().to_numpy())
    found_pairs = _pairs(both.groupby("p").size().to_numpy())
    right_pairs = _pairs(both.groupby(["p", "t"]).size().to_numpy())
    total_s = report["load_s"] + report["dedupe_s"] + report["tally_s"]
    lines = [
        ("rows", f"{args.rows:,}"),
        ("build database (not timed)", f"{build_s:.1f} s"),
        ("load rows", f"{report['load_s']:.1f} s"),
        ("find duplicates", f"{report['dedupe_s']:.1f} s"),
        ("tally by branch", f"{report['tally_s']:.1f} s"),
        ("total (wall clock)", f"{total_s:.1f} s"),
        ("total (CPU time)", f"{report['cpu_s']:.1f} s"),
        ("machine load average", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"),
        ("peak memory", f"{report['peak_mib']:.0f} MiB"),
        ("true unique signers", f"{both['t'].nunique():,}"),
        ("counted unique signers", f"{report['unique']:,}"),
        ("of the merged rows, probable", f"{report['probable']:,}"),
        ("duplicate pairs precision", f"{right_pairs / found_pairs if found_pairs else 1.0:.4f}"),
        ("duplicate pairs recall", f"{right_pairs / true_pairs if true_pairs else 1.0:.4f}"),
    ]
    width = max(len(k) for k, _ in lines)
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  -----------")
    for key, value in lines:
        print(f"{key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
