"""Generate, simulate every capture profile, scan, and compare with the truth."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from petitionscan.scan import scan_paths
from petitionscan.simulate import PROFILES, simulate


def _rows(db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT s.serial, s.copy_no, r.row_no, r.name, r.status, r.signed, r.crossed_out, r.crop_png, "
            "r.confidence FROM rows r JOIN sheets s ON s.id = r.sheet_id"
        ).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def scanned(corpus: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    db = tmp_path_factory.mktemp("scan-db") / "campaign.db"
    summary = scan_paths([corpus.scans], db=db, jobs=1)
    return db, summary


def test_every_profile_is_read_and_rows_match_the_truth(corpus: Any, scanned: tuple[Path, object]) -> None:
    db, summary = scanned
    assert summary.rejected == []  # type: ignore[attr-defined]
    assert summary.pages_read == len(PROFILES)  # type: ignore[attr-defined]
    rows = _rows(db)
    assert len(rows) == len(corpus.truth)
    names = exact = 0
    for r in rows:
        truth = corpus.truth[(r["serial"], r["row_no"])]
        label = f"{truth['profile']} row {r['row_no']} ({truth['name']!r} read {r['name']!r})"
        assert (r["status"] == "blank") == (truth["name"] == ""), label
        assert bool(r["crossed_out"]) == (truth["crossed_out"] == "yes"), label
        if truth["name"] and truth["crossed_out"] == "no":
            assert bool(r["signed"]) == (truth["signed"] == "yes"), label
            expected = "auto" if truth["signed"] == "yes" else "unsigned"
            assert r["status"] in (expected, "needs_review"), label
            assert r["crop_png"][:3] == b"\xff\xd8\xff"  # a JPEG
            names += 1
            exact += r["name"] == truth["name"]
    assert names >= 10
    assert exact / names >= 0.5, f"only {exact} of {names} names read exactly"


def test_scanning_again_adds_nothing(corpus: Any, scanned: tuple[Path, object]) -> None:
    db, _ = scanned
    before = len(_rows(db))
    again = scan_paths([corpus.scans], db=db, jobs=1)
    assert again.pages_read == 0
    assert again.already_stored == len(PROFILES)
    assert len(_rows(db)) == before


def test_same_page_in_another_file_is_a_duplicate(corpus: Any, scanned: tuple[Path, object], tmp_path: Path) -> None:
    db, _ = scanned
    before = len(_rows(db))
    # The same pixels in a new container: the fax TIFF re-saved as PNG.
    from PIL import Image

    tif = next(corpus.scans.glob("fax-*.tif"))
    with Image.open(tif) as img:
        img.convert("L").save(tmp_path / "copy.png")
    result = scan_paths([tmp_path / "copy.png"], db=db, jobs=1, rejected=tmp_path / "rejected.csv")
    assert result.duplicates == 1 and result.pages_read == 0
    assert len(_rows(db)) == before


def test_rescan_of_the_same_paper_and_a_photocopied_sheet(corpus: Any, tmp_path: Path) -> None:
    """Same serial: rows that read the same are a re-scan; different rows are another physical sheet."""
    pdf, layout = corpus.sheets["flatbed"]
    first = simulate(pdf, layout, tmp_path / "a", profile="flatbed", seed=corpus.seed)
    rescan = simulate(pdf, layout, tmp_path / "b", profile="feeder", seed=corpus.seed)  # same names, other capture
    other = simulate(pdf, layout, tmp_path / "c", profile="flatbed", seed=corpus.seed + 99)  # other signers
    db = tmp_path / "campaign.db"
    scan_paths([tmp_path / "a" / first.files[0]], db=db, jobs=1)
    dup = scan_paths([tmp_path / "b" / rescan.files[0]], db=db, jobs=1)
    assert dup.duplicates == 1 and dup.pages_read == 0
    copy = scan_paths([tmp_path / "c" / other.files[0]], db=db, jobs=1)
    assert copy.pages_read == 1 and len(copy.copies) == 1
    copies = sorted({(r["serial"], r["copy_no"]) for r in _rows(db)})
    assert len(copies) == 2 and copies[0][0] == copies[1][0]


def test_interrupted_scan_resumes_cleanly(corpus: Any, tmp_path: Path) -> None:
    """Kill a scan after its first stored page, run it again: same result as one clean run."""
    import subprocess
    import sys
    import time

    scans = tmp_path / "scans"
    shutil.copytree(corpus.scans, scans)
    db = tmp_path / "campaign.db"
    cmd = [
        sys.executable,
        "-c",
        "from petitionscan.cli import main; main()",
        "scan",
        str(scans),
        "--db",
        str(db),
        "--jobs",
        "1",
        "-q",
    ]
    log = (tmp_path / "first.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    stored = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    with sqlite3.connect(db, timeout=1) as conn:
                        stored = conn.execute("SELECT count(*) FROM scans").fetchone()[0]
                except sqlite3.Error:
                    stored = 0
                if stored >= 1:
                    break
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    log.close()
    assert 1 <= stored < len(PROFILES), (tmp_path / "first.log").read_text()
    rerun = subprocess.run(cmd, capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()
    clean_db = tmp_path / "clean.db"
    scan_paths([corpus.scans], db=clean_db, jobs=1, rejected=tmp_path / "r.csv")
    with sqlite3.connect(db) as a, sqlite3.connect(clean_db) as b:
        for query in (
            "SELECT count(*) FROM scans",
            "SELECT count(*) FROM sheets",
            "SELECT count(*) FROM rows",
            # auto / needs_review may flip on a confidence at the threshold; the rest may not.
            "SELECT group_concat(s) FROM (SELECT CASE WHEN status IN ('auto', 'needs_review') THEN 'name' "
            "ELSE status END AS s FROM rows ORDER BY sheet_id, row_no)",
        ):
            got, want = a.execute(query).fetchone()[0], b.execute(query).fetchone()[0]
            assert got == want, f"{query}: {got!r} != {want!r}"


def test_full_disk_stops_cleanly_and_the_rerun_completes(
    corpus: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up in the middle of a page: that page leaves no trace, the run says what to do."""
    from click.testing import CliRunner

    from petitionscan.cli import main
    from petitionscan.scan import persist

    db = tmp_path / "campaign.db"
    real_insert_row = persist._insert_row
    calls = {"n": 0}

    def insert_row(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 12:  # the third row of the second page
            raise sqlite3.OperationalError("database or disk is full")
        real_insert_row(*args, **kwargs)

    monkeypatch.setattr(persist, "_insert_row", insert_row)
    result = CliRunner().invoke(main, ["scan", str(corpus.scans), "--db", str(db), "--jobs", "1", "--quiet"])
    assert result.exit_code == 6, result.output
    assert "disk is full" in result.output and "run again" in result.output
    conn = sqlite3.connect(db)
    pages = conn.execute("SELECT COUNT(*) FROM scans WHERE status = 'read'").fetchone()[0]
    rows = conn.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    per_page = conn.execute("SELECT COUNT(*) FROM rows GROUP BY scan_id").fetchall()
    conn.close()
    assert pages == 1 and rows == 9 and per_page == [(9,)]  # the first page whole, the second not at all

    monkeypatch.setattr(persist, "_insert_row", real_insert_row)
    again = CliRunner().invoke(main, ["scan", str(corpus.scans), "--db", str(db), "--jobs", "1", "--quiet"])
    assert again.exit_code == 0, again.output
    assert len(_rows(db)) == len(corpus.truth)


def test_pictures_are_compact(scanned: tuple[Path, object]) -> None:
    """The page picture and name crops are most of a campaign's database: kept as JPEG at
    the qualities that halved the bytes a page, they must not creep back up."""
    db, _ = scanned
    conn = sqlite3.connect(db)
    try:
        pages, page_bytes = conn.execute("SELECT count(*), sum(length(page_jpeg)) FROM scans").fetchone()
        (crop_bytes,) = conn.execute("SELECT sum(length(crop_png)) FROM rows").fetchone()
    finally:
        conn.close()
    # 542 kB a page with PNG crops, 313 with crops at JPEG quality 85; 244 kB now.
    assert (page_bytes + crop_bytes) / pages < 271_000


def test_one_worker_reads_on_one_core(corpus: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--jobs 1`` is one core, as each pool worker is: OpenCV's threads are off while
    this process reads pages, and back as they were afterwards."""
    import cv2

    from petitionscan.scan import pipeline

    seen: list[int] = []
    read = pipeline.read_page

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(cv2.getNumThreads())
        return read(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_page", counting)
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        scan_paths([next(corpus.scans.iterdir())], db=tmp_path / "c.db", jobs=1)
        assert seen and set(seen) == {1}
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)
