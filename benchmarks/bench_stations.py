"""Many stations, one campaign: scan throughput and reviewers at once on PostgreSQL.

    .venv/bin/python benchmarks/bench_stations.py [--sheets 96] [--stations 4] [--rows 500] [--reviewers 5]

Starts a private PostgreSQL server (or uses PETITIONSCAN_TEST_PG), then:

1. scans the same simulated sheets with one ``scan`` process (``--jobs 1``)
   into SQLite and into PostgreSQL, and with ``--stations`` processes at
   once (each ``--jobs 1``, each a share of the files with about as many
   pages as the others, plus every file once
   more, as stations re-scanning a batch would) into one PostgreSQL
   campaign; prints pages/s, the speed-up and whether the counts equal
   the SQLite run's; and, for the machine's own ceiling, the same shares
   scanned at once into a SQLite file each (no shared store at all);
2. runs a shared review server (logins, leases) on a campaign of ``--rows``
   rows needing review, with ``--reviewers`` clients deciding at once over
   HTTP; prints the next-row latency (median, p95), rows decided twice and
   decisions missing from the audit trail.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "review"))

import pgserver
from review_data import TOKEN, CampaignBuilder

from petitionscan import reviewers, store, tally
from petitionscan.forms import generate
from petitionscan.review import ReviewServer
from petitionscan.simulate import simulate


def make_scans(root: Path, sheets: int, seed: int, profile: str) -> list[Path]:
    pdf, layout = root / "sheets.pdf", root / "layout.json"
    generate(None, sheets=sheets, out=pdf, layout_out=layout, with_appeal=False)
    result = simulate(pdf, layout, root / "scans", profile=profile, seed=seed)
    return sorted(result.out_dir / name for name in result.files)


def page_counts(files: list[Path]) -> dict[Path, int]:
    """Each file's number of pages, keyed by its resolved path."""
    from petitionscan.scan.load import find_inputs, page_count

    return {Path(item.path).resolve(): page_count(item) for item in find_inputs(files).files}


def balanced_shares(files: list[Path], pages: dict[Path, int], stations: int) -> list[list[Path]]:
    """The files dealt to the stations so that each gets about as many pages (largest file first)."""
    shares: list[list[Path]] = [[] for _ in range(stations)]
    load = [0] * stations
    for n, f in sorted(((pages[f.resolve()], f) for f in files), key=lambda t: t[0], reverse=True):
        i = load.index(min(load))
        shares[i].append(f)
        load[i] += n
    return shares


def scan(files: list[Path], db: str, rejected: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "petitionscan", "scan", *map(str, files), "--db", db, "--jobs", "1", "-q"]
    return subprocess.Popen([*command, "--rejected", str(rejected)], stderr=subprocess.PIPE)


def timed(procs: list[subprocess.Popen[bytes]], started: float) -> float:
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode not in (0, 10):
            raise SystemExit(f"scan failed: {err.decode()}")
    return time.perf_counter() - started


def counts(db: store.Target) -> tuple[object, ...]:
    with closing(store.connect(db, create=False)) as conn:
        total = tally.count(conn, save_decisions=False)
        pages = conn.execute("SELECT count(*) FROM scans WHERE status = 'read'").fetchone()[0]
        sheets = sorted((str(r[0]), int(r[1])) for r in conn.execute("SELECT serial, copy_no FROM sheets"))
    return total.total, int(pages), sheets


def bench_scan(server: pgserver.Server, root: Path, sheets: int, stations: int, profile: str) -> None:
    files = make_scans(root, sheets, seed=11, profile=profile)
    pages = page_counts(files)
    n = sum(pages.values())
    print(f"scan: {n} pages in {len(files)} files, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    lite = str(root / "one.db")
    t = timed([scan(files, lite, root / "r0.csv")], time.perf_counter())
    print(f"  1 process  -> SQLite:      {n / t:5.2f} pages/s")
    one_pg = server.new_database()
    t1 = timed([scan(files, one_pg, root / "r1.csv")], time.perf_counter())
    print(f"  1 process  -> PostgreSQL:  {n / t1:5.2f} pages/s")
    many = server.new_database()
    shares = balanced_shares(files, pages, stations)
    started = time.perf_counter()
    procs = [scan(share, many, root / f"r{i + 2}.csv") for i, share in enumerate(shares)]
    tn = timed(procs, started)
    print(
        f"  {stations} processes -> PostgreSQL: {n / tn:5.2f} pages/s "
        f"({t1 / tn:.2f}x one process; load {os.getloadavg()[0]:.1f})"
    )
    # The ceiling: the same shares scanned at once with no shared store at all (a SQLite file each).
    # What separate processes gain on this machine whatever the store, since they share its cores,
    # caches and memory bus.
    started = time.perf_counter()
    alone = [scan(share, str(root / f"alone{i}.db"), root / f"alone{i}.csv") for i, share in enumerate(shares)]
    ta = timed(alone, started)
    print(
        f"  {stations} processes -> {stations} SQLite files (no shared store): {n / ta:5.2f} pages/s "
        f"({t / ta:.2f}x one process into SQLite: this machine's ceiling)"
    )
    # Every station scans the whole batch once more: all of it must be recognised as already stored.
    again = [scan(files, many, root / f"again{i}.csv") for i in range(stations)]
    timed(again, time.perf_counter())
    same = counts(many) == counts(lite) == counts(one_pg)
    with closing(store.connect(many)) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT page_hash) FROM scans WHERE status != 'rejected'"
        ).fetchone()
    print(f"  counts equal to SQLite: {'yes' if same else 'NO'}; pages stored twice: {total - distinct}")


def _request(conn: http.client.HTTPConnection, method: str, path: str, **kw: object) -> tuple[int, dict, bytes]:
    conn.request(method, path, **kw)  # type: ignore[arg-type]
    answer = conn.getresponse()
    return answer.status, dict(answer.getheaders()), answer.read()


def bench_review(server: pgserver.Server, rows: int, clients: int) -> None:
    db = server.new_database()
    b = CampaignBuilder(db, seed=3)
    for s in range(0, rows, 20):
        sheet = b.sheet(f"PS-{s // 20:06d}")
        for _ in range(min(20, rows - s)):
            b.row(sheet, b.random_name(), "needs_review", round(b.rng.uniform(0.1, 0.89), 4), misread=True)
    b.finish()
    names = [f"Reviewer {i}" for i in range(clients)]
    passwords = {n: reviewers.add_reviewer(db, n) for n in names}
    web = ReviewServer(db, port=0, login=True)
    web.start_in_thread()
    latencies: list[float] = []
    conflicts: list[int] = []
    lock = threading.Lock()

    def reviewer(name: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
        form = f"name={name.replace(' ', '+')}&password={passwords[name]}"
        form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, headers, _ = _request(conn, "POST", "/login", body=form, headers=form_headers)
        assert status == 303, status
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        _, _, page = _request(conn, "GET", "/", headers={"Cookie": cookie})
        key = re.search(rb'name="ps-token" content="([^"]+)"', page)
        assert key is not None
        write = {"Cookie": cookie, "X-Petitionscan-Token": key.group(1).decode(), "Content-Type": "application/json"}
        while True:
            t = time.perf_counter()
            status, _, body = _request(conn, "GET", "/api/queue?limit=1&client=tab", headers={"Cookie": cookie})
            elapsed = time.perf_counter() - t
            found = json.loads(body)["rows"]
            if not found:
                break
            with lock:
                latencies.append(elapsed)
            row = found[0]
            decision = json.dumps({"version": row["version"], "decision": "unreadable", "values": {}})
            status, _, _ = _request(conn, "POST", f"/api/rows/{row['id']}/decision", body=decision, headers=write)
            if status == 409:
                with lock:
                    conflicts.append(row["id"])
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=reviewer, args=(n,)) for n in names]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - started
    web.shutdown()
    with closing(store.connect(db)) as conn:
        log = Counter(int(r[0]) for r in conn.execute("SELECT row_id FROM review_log"))
        decided = conn.execute("SELECT count(*) FROM rows WHERE updated_by IS NOT NULL").fetchone()[0]
        left = conn.execute("SELECT count(*) FROM rows WHERE status = 'needs_review'").fetchone()[0]
    twice = sum(1 for n in log.values() if n > 1)
    p95 = sorted(latencies)[int(len(latencies) * 0.95)]
    print(f"review: {rows} rows, {clients} reviewers at once, {elapsed:.1f} s, load {os.getloadavg()[0]:.1f}")
    print(f"  next row: median {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    print(f"  rows decided: {decided}, left: {left}, decided twice: {twice}, conflicts (409): {len(conflicts)}")
    print(f"  decisions missing from the audit trail: {decided - len(log)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheets", type=int, default=96)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument("--profile", default="flatbed", help="Capture profile of the simulated scans.")
    parser.add_argument("--skip-scan", action="store_true", help="Only the reviewers' part.")
    args = parser.parse_args()
    assert TOKEN
    with pgserver.server() as server, tempfile.TemporaryDirectory(prefix="bench-stations-") as tmp:
        if not args.skip_scan:
            bench_scan(server, Path(tmp), args.sheets, args.stations, args.profile)
        bench_review(server, args.rows, args.reviewers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
