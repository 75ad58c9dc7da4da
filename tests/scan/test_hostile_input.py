"""Hostile and odd input to ``scan``: nothing lost without a word, memory bounded, two runs at once, SIGTERM."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from petitionscan.cli import main
from petitionscan.errors import InputFileError
from petitionscan.scan import load

SCAN = [sys.executable, "-c", "from petitionscan.cli import main; main()", "scan"]


def _rejected(csv_path: Path) -> dict[str, str]:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        return {Path(r["file"]).name: r["reason"] for r in csv.DictReader(fh)}


def _count(db: Path, query: str = "SELECT count(*) FROM rows") -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(query).fetchone()[0])


def test_an_unreadable_folder_is_reported_not_skipped(
    corpus: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = tmp_path / "batch"
    (batch / "locked").mkdir(parents=True)
    good = next(corpus.scans.glob("flatbed-*.pdf"))
    shutil.copy(good, batch / good.name)
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:  # root reads any folder, so refuse this one by hand
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = CliRunner().invoke(main, ["scan", str(batch), "--db", str(batch / "campaign.db"), "--jobs", "1"])
    assert result.exit_code == 10, result.output
    assert "locked" in result.output and "cannot read this folder (Permission denied)" in result.output
    assert "cannot read this folder" in _rejected(batch / "rejected.csv")["locked"]
    assert _count(batch / "campaign.db") > 0  # the readable sheet was stored


def test_linked_folders_are_read_once_and_loops_end(corpus: Any, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    good = next(corpus.scans.glob("flatbed-*.pdf"))
    shutil.copy(good, elsewhere / good.name)
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "linked").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "back").symlink_to(batch, target_is_directory=True)  # a loop
    (batch / "gone.pdf").symlink_to(tmp_path / "nowhere.pdf")
    os.mkfifo(batch / "pipe.pdf")  # reading it would wait forever
    found = load.find_inputs([batch])
    assert [Path(f.path).name for f in found.files] == [good.name]
    assert {Path(u.path).name for u in found.unreadable} == {"gone.pdf", "pipe.pdf"}
    result = CliRunner().invoke(main, ["scan", str(batch), "--db", str(batch / "campaign.db"), "--jobs", "1"])
    assert result.exit_code == 10, result.output
    assert set(_rejected(batch / "rejected.csv")) == {"gone.pdf", "pipe.pdf"}
    assert _count(batch / "campaign.db", "SELECT count(*) FROM sheets") == 1


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares its size but holds almost no data: what a bomb looks like to a reader."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


def test_pictures_over_the_pixel_limit_are_refused_before_decoding(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    _png_header_only(big, 12500, 12500)  # 156 megapixels: under Pillow's own bomb limit, over ours
    with pytest.raises(InputFileError, match=r"12500 x 12500 pixels.*limit is 80 megapixels"):
        load.load_page(load.InputFile(str(big), "image"), 1)


def test_a_pdf_picture_over_the_pixel_limit_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image
    from reportlab.pdfgen.canvas import Canvas

    picture = tmp_path / "p.png"
    Image.new("L", (1500, 1000), 255).save(picture)
    pdf = tmp_path / "scan.pdf"
    canvas = Canvas(str(pdf), pagesize=(595, 842))
    canvas.drawImage(str(picture), 0, 0, 595, 842)
    canvas.save()
    assert load.load_page(load.InputFile(str(pdf), "pdf"), 1).image.shape[:2] == (1000, 1500)
    monkeypatch.setattr(load, "MAX_PIXELS", 1_000_000)  # a smaller limit, so the test stays small
    with pytest.raises(InputFileError, match="1500 x 1000 pixels"):
        load.load_page(load.InputFile(str(pdf), "pdf"), 1)


def test_a_huge_pdf_page_is_rendered_within_the_cap(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    pdf = tmp_path / "huge.pdf"
    canvas = Canvas(str(pdf), pagesize=(20000, 20000))
    canvas.line(0, 0, 100, 100)
    canvas.save()
    assert pdf.stat().st_size < 2000
    started = time.perf_counter()
    page = load.load_page(load.InputFile(str(pdf), "pdf"), 1)
    assert page.image.shape[0] * page.image.shape[1] <= load.MAX_RENDER_PIXELS
    assert time.perf_counter() - started < 10
    a4 = load.render_scale(595, 842)
    assert a4 == load.PDF_RENDER_DPI / 72  # a real sheet keeps its full resolution


def test_two_scans_at_once_on_a_new_database(corpus: Any, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    for profile in ("flatbed", "fax"):
        good = next(corpus.scans.glob(f"{profile}-*"))
        shutil.copy(good, batch / good.name)
    db = tmp_path / "new.db"
    runs = [
        subprocess.Popen([*SCAN, str(batch), "--db", str(db), "-j", "1", "-q", "--rejected", str(tmp_path / f"r{i}.csv")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(2)
    ]  # fmt: skip
    outcomes = [(p.wait(timeout=300), p.stderr.read().decode() if p.stderr else "") for p in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    clean = tmp_path / "clean.db"
    subprocess.run([*SCAN, str(batch), "--db", str(clean), "-j", "1", "-q"], check=True, timeout=300)
    for query in (
        "SELECT count(*) FROM sheets",
        "SELECT count(*) FROM rows",
        "SELECT count(*) FROM scans WHERE status = 'read'",
    ):
        assert _count(db, query) == _count(clean, query), query


def _wait_for(condition: Any, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_mid_scan_is_like_ctrl_c(corpus: Any, tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    shutil.copytree(corpus.scans, scans)
    db = tmp_path / "campaign.db"
    proc = subprocess.Popen([*SCAN, str(scans), "--db", str(db), "-j", "2", "-q"], stderr=subprocess.PIPE)

    def stored() -> bool:
        try:
            return db.exists() and _count(db, "SELECT count(*) FROM scans") >= 1
        except sqlite3.Error:
            return False

    try:
        assert _wait_for(stored)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code == 0:  # the last page finished before the signal landed: nothing to check
        pytest.skip("the scan finished before SIGTERM arrived")
    assert code == 130, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert err.strip().splitlines() == [err.strip().splitlines()[-1]] and "run the same command again" in err
    rerun = subprocess.run([*SCAN, str(scans), "--db", str(db), "-j", "1", "-q"], capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert _count(db, "SELECT count(*) FROM scans WHERE status = 'read'") == len(list(corpus.scans.iterdir()))


def test_a_large_picture_drawn_small_on_a_pdf_page_is_refused_before_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image
    from reportlab.pdfgen.canvas import Canvas

    picture = tmp_path / "p.png"
    Image.new("L", (1500, 1000), 255).save(picture)
    pdf = tmp_path / "letter.pdf"
    canvas = Canvas(str(pdf), pagesize=(595, 842))
    canvas.drawString(50, 800, "a letter with a small picture")
    canvas.drawImage(str(picture), 50, 50, 150, 100)  # not a full-page scan: the page is rendered
    canvas.save()
    assert load.load_page(load.InputFile(str(pdf), "pdf"), 1).image.shape[:2] == (2573, 1819)  # rendered at 220 dpi
    monkeypatch.setattr(load, "MAX_PIXELS", 1_000_000)
    with pytest.raises(InputFileError, match="the pictures on this page hold 2 megapixels"):
        load.load_page(load.InputFile(str(pdf), "pdf"), 1)
