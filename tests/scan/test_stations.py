"""Several scan stations at once on one PostgreSQL campaign: nothing is counted twice.

Three ``petitionscan scan`` processes read overlapping batches into one
server at the same time: the same files, the same files under another
path, the same page in another container, a re-scan of the same paper and
a photocopied sheet. The database (unique keys, transactions retried when
another station got there first) must reach the state one SQLite run over
the same files reaches, whatever the order the stations happen to store in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from petitionscan import store, tally
from petitionscan.scan import scan_paths
from petitionscan.simulate import simulate


def _state(db: store.Target) -> dict[str, Any]:
    """What counting depends on: sheets per serial, scans per status, rows per sheet, the totals."""
    conn = store.connect(db, create=False)
    try:
        sheets = Counter(r[0] for r in conn.execute("SELECT serial FROM sheets"))
        scans = Counter(r[0] for r in conn.execute("SELECT status FROM scans"))
        rows = Counter(
            (r[0], r[1])
            for r in conn.execute("SELECT s.serial, r.row_no FROM rows r JOIN sheets s ON s.id = r.sheet_id")
        )
        total = tally.count(conn, save_decisions=False)
        return {
            "sheets": sheets,
            "scans": scans,
            "rows": rows,
            "rows read": total.value("rows read"),
        }
    finally:
        conn.close()


def _station(paths: list[Path], db: str, rejected: Path) -> subprocess.Popen[bytes]:
    """One scan station: its own process, reading ``paths`` into ``db``."""
    command = [sys.executable, "-m", "petitionscan", "scan", *map(str, paths), "--db", db, "--jobs", "1", "-q"]
    return subprocess.Popen([*command, "--rejected", str(rejected)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture
def batches(corpus: Any, tmp_path: Path) -> tuple[Path, Path, Path]:
    """The corpus, the same files under another path, and the extra pages (re-scan, photocopy, re-saved page)."""
    again = tmp_path / "again"
    shutil.copytree(corpus.scans, again)
    extra = tmp_path / "extra"
    extra.mkdir()
    pdf, layout = corpus.sheets["flatbed"]
    rescan = simulate(pdf, layout, tmp_path / "b", profile="feeder", seed=corpus.seed)  # same paper, other capture
    other = simulate(pdf, layout, tmp_path / "c", profile="flatbed", seed=corpus.seed + 99)  # a photocopied sheet
    shutil.copy(tmp_path / "b" / rescan.files[0], extra / f"rescan-{rescan.files[0]}")
    shutil.copy(tmp_path / "c" / other.files[0], extra / f"copy-{other.files[0]}")
    tif = next(corpus.scans.glob("fax-*.tif"))
    with Image.open(tif) as img:
        img.convert("L").save(extra / "fax-again.png")  # the same pixels in another file
    return corpus.scans, again, extra


def test_stations_at_once_count_like_one_sqlite_run(
    batches: tuple[Path, Path, Path], pg_url: str, tmp_path: Path
) -> None:
    scans, again, extra = batches
    reference = tmp_path / "reference.db"
    scan_paths([scans, extra], db=reference, jobs=1, rejected=tmp_path / "ref-rejected.csv")

    plans = [[scans, extra], [extra, scans], [again, extra]]
    procs = [_station(plan, pg_url, tmp_path / f"rejected-{i}.csv") for i, plan in enumerate(plans)]
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out.decode()

    expected, found = _state(reference), _state(pg_url)
    assert found["sheets"] == expected["sheets"]  # one sheet per paper; the photocopy is its own copy
    assert found["rows"] == expected["rows"]
    assert found["rows read"] == expected["rows read"]
    assert found["scans"]["read"] == expected["scans"]["read"]
    conn = store.connect(pg_url)
    try:
        pages = conn.execute("SELECT count(*), count(DISTINCT page_hash) FROM scans WHERE status != 'rejected'")
        total, distinct = pages.fetchone()
        assert total == distinct, "a page was stored twice"
    finally:
        conn.close()
