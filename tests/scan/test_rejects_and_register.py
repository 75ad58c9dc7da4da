"""Bad input among good pages, and registration of turned and photographed pages."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from petitionscan import geometry
from petitionscan.cli import main
from petitionscan.errors import PagesRejected
from petitionscan.forms import generate
from petitionscan.scan import scan_paths
from petitionscan.scan.register import KnownLayout, Registration, Unregistered, register
from petitionscan.simulate import render_pages


def test_bad_files_are_reported_and_good_pages_read(corpus: Any, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    good = next(corpus.scans.glob("flatbed-*.pdf"))
    shutil.copy(good, folder / good.name)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    (folder / "empty.jpg").write_bytes(b"")
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 255, (900, 1200, 3), dtype=np.uint8)).save(folder / "photo.jpg")
    letter = Image.new("L", (1240, 1754), 255)  # a typed letter: some other document
    draw = ImageDraw.Draw(letter)
    for i in range(30):
        draw.text((100, 100 + 45 * i), "Dear colleagues, the meeting is on Thursday at five." * 2, fill=0)
    letter.save(folder / "letter.png")
    (folder / "notes.txt").write_text("not a scan")

    result = CliRunner().invoke(main, ["scan", str(folder), "--jobs", "1", "--db", str(folder / "campaign.db")])
    assert result.exit_code == PagesRejected.exit_code, result.output
    assert "notes.txt" in result.output  # skipped, with its reason
    with (folder / "rejected.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rejected = {Path(r["file"]).name: r["reason"] for r in rows}
    assert set(rejected) == {"corrupt.pdf", "empty.jpg", "photo.jpg", "letter.png"}
    assert "foreign" in rejected["photo.jpg"] and "foreign" in rejected["letter.png"]
    assert "empty" in rejected["empty.jpg"]
    import sqlite3

    with sqlite3.connect(folder / "campaign.db") as conn:
        statuses = dict(conn.execute("SELECT status, count(*) FROM scans GROUP BY status").fetchall())
        rows_stored = conn.execute("SELECT count(*) FROM rows").fetchone()[0]
        jpeg = conn.execute("SELECT page_jpeg FROM scans WHERE status = 'foreign' LIMIT 1").fetchone()[0]
    assert statuses.get("read") == 1 and statuses.get("foreign") == 2
    assert rows_stored > 0
    assert jpeg[:2] == b"\xff\xd8"


def test_nothing_readable_is_exit_11(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--quiet", "--db", str(tmp_path / "campaign.db")])
    assert result.exit_code == 11, result.output


@pytest.fixture(scope="module")
def upright(corpus: Any) -> tuple[np.ndarray, geometry.SheetGeometry]:
    pdf, _ = corpus.sheets["flatbed"]
    page = render_pages(pdf, [0], dpi=150)[0]
    reg = register(page)
    assert isinstance(reg, Registration)
    return page, geometry.sheet_geometry(geometry.parse_layout_code(reg.layout_code))


def _where(reg: Registration, point_mm: tuple[float, float]) -> np.ndarray:
    return cv2.perspectiveTransform(np.array([[point_mm]], np.float64), reg.matrix).reshape(2)


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
def test_turned_pages_register(upright: tuple[np.ndarray, geometry.SheetGeometry], turn: int) -> None:
    page, sheet = upright
    turned = np.ascontiguousarray(np.rot90(page, turn))
    reg = register(turned)
    assert isinstance(reg, Registration), reg
    assert reg.rotation == (360 - 90 * turn) % 360
    assert reg.residual_mm < 0.3
    # The QR code's centre lands where it is in the turned image.
    h, w = page.shape[:2]
    x0, y0, x1, y1 = sheet.qr_rect_mm
    px = 150 / 25.4
    cx, cy = (x0 + x1) / 2 * px, (y0 + y1) / 2 * px
    for _ in range(turn):  # np.rot90 turns counter-clockwise
        cx, cy, h, w = cy, w - cx, w, h
    assert np.allclose(_where(reg, ((x0 + x1) / 2, (y0 + y1) / 2)), (cx, cy), atol=2.0)


def test_photographed_in_perspective_and_one_marker_lost(upright: tuple[np.ndarray, geometry.SheetGeometry]) -> None:
    page, sheet = upright
    h, w = page.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    squeeze = 0.08 * w
    dst = np.float32([[squeeze, 40], [w - squeeze, 0], [w + 60, h], [-40, h - 30]]) + 100
    matrix = cv2.getPerspectiveTransform(src, dst)
    photo = cv2.warpPerspective(page, matrix, (w + 260, h + 260), borderValue=(90, 80, 70))
    reg = register(photo)
    assert isinstance(reg, Registration), reg
    point = (105.0, 150.0)
    expected = cv2.perspectiveTransform(np.array([[[point[0] * 150 / 25.4, point[1] * 150 / 25.4]]]), matrix)
    assert np.allclose(_where(reg, point), expected.reshape(2), atol=2.5)
    # A photocopier clipped the bottom-left corner: three markers remain.
    clipped = page.copy()
    _, y0, x1, _ = next(m.rect_mm for m in sheet.markers if m.corner == "bl")
    px = 150 / 25.4
    clipped[int(y0 * px) - 5 :, : int(x1 * px) + 5] = 255
    reg3 = register(clipped)
    assert isinstance(reg3, Registration), reg3
    assert reg3.corners == ("tl", "tr", "br")


def test_damaged_qr_falls_back_to_the_printed_serial(tmp_path: Path) -> None:
    """Without its QR code a sheet is known by its printed serial: mostly read, never misread."""
    result = generate(None, sheets=8, out=tmp_path / "s.pdf", with_appeal=False)
    pages = render_pages(tmp_path / "s.pdf", list(range(8)), dpi=150)
    px = 150 / 25.4
    recovered = 0
    for serial, page in zip(result.serials, pages, strict=True):
        reference = register(page)
        assert isinstance(reference, Registration) and reference.id_source == "qr"
        x0, y0, x1, y1 = geometry.sheet_geometry(geometry.parse_layout_code(reference.layout_code)).qr_rect_mm
        damaged = page.copy()
        damaged[int(y0 * px) : int(y1 * px), int(x0 * px) : int(x1 * px)] = 255  # coffee, a hole, a staple
        assert isinstance(register(damaged), Unregistered)  # nothing tells the layout without the QR
        reg = register(damaged, (KnownLayout("mangystau", reference.layout_code),))
        if isinstance(reg, Registration):
            assert reg.id_source == "printed serial"
            assert (reg.serial, reg.layout_code) == (serial, reference.layout_code)  # never a wrong serial
            recovered += 1
    assert recovered >= 5, recovered  # about 95 % of serials are read at 150 dpi


def test_iphone_heic_photo_is_read(corpus: Any, tmp_path: Path) -> None:
    """A phone photo saved as HEIC (what iPhones write) reads like its JPEG."""
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    photo = next(p for p in corpus.scans.iterdir() if p.name.startswith("phone"))
    folder = tmp_path / "heic"
    folder.mkdir()
    with Image.open(photo) as image:
        from PIL import ImageOps

        ImageOps.exif_transpose(image).save(folder / "photo.heic", quality=85)
    db = tmp_path / "c.db"
    summary = scan_paths([folder], db=db, jobs=1)
    assert summary.pages_read == 1 and not summary.rejected
    conn = sqlite3.connect(db)
    serial, blank = conn.execute(
        "SELECT s.serial, SUM(r.status = 'blank') FROM rows r JOIN sheets s ON s.id = r.sheet_id"
    ).fetchone()
    conn.close()
    truth = [t for (s, _), t in corpus.truth.items() if s == serial]
    assert truth and blank == sum(1 for t in truth if not t["name"])


def test_serial_candidates_keep_every_repair_so_doubt_shows() -> None:
    """A repaired reading lists every valid serial it could stand for; readings must agree on one."""
    from petitionscan.forms.serials import ALPHABET, format_serial, is_valid_serial
    from petitionscan.scan.register import agreed_serial, serial_candidates

    serial = format_serial("WCXESGT4R0")
    a, b, check = serial.split("-")
    assert serial_candidates(f"SHEET {serial}\n") >= {serial}  # the label run into the serial
    assert serial_candidates(f"{a}-{b}O-{check}") >= {serial}  # a doubled stroke: 0 read 0O
    assert serial_candidates(f"{a}-{b}-{check}") == {serial}  # read as printed: nothing else tried
    assert agreed_serial([f"{a}-{b}-{check}", f"SHEET {a}-{b}O-{check}"]) == serial
    # A garbled reading that passes the check character by chance (about 1 in 37)
    # stands for another serial: readings that disagree give no serial at all.
    # one wrong character never passes the check character...
    assert not any(ch != b[4] and is_valid_serial(f"{a}-{b[:4]}{ch}-{check}") for ch in ALPHABET)
    other = next(
        f"{a[:4]}{x}-{b[:4]}{y}-{check}"
        for x in ALPHABET
        for y in ALPHABET
        if (x, y) != (a[4], b[4]) and is_valid_serial(f"{a[:4]}{x}-{b[:4]}{y}-{check}")
    )
    assert serial_candidates(other) == {other}  # ...two can
    assert agreed_serial([other, f"{a}-{b}-{check}"]) is None
    assert agreed_serial([]) is None


def test_a_reading_repaired_the_same_way_twice_is_one_vote() -> None:
    """Tesseract misreading a serial the same way at two scales is one piece of evidence:
    repairing it gives a chance candidate (valid one time in 37 per candidate tried), so a
    repaired serial needs two different readings; one read as printed counts at every scale."""
    from petitionscan.forms.serials import format_serial
    from petitionscan.scan.register import agreed_serial

    serial = format_serial("WCXESGT4R0")
    a, b, check = serial.split("-")
    doubled = f"{a}-{b}O-{check}"  # a doubled stroke: repaired, not read as printed
    assert agreed_serial([doubled, doubled]) is None
    assert agreed_serial([doubled, serial]) == serial  # two different readings
    assert agreed_serial([serial, serial]) == serial  # read as printed at two scales
    # The flaw this guards against, as a scan met it: 6NWRD read TGNWRD at two scales,
    # with the repair TGNRD valid by chance.
    true, misread = "6NWRD-E556Z-R", "SHEET TGNWRD-E556Z-R"
    assert agreed_serial([misread, misread]) != "TGNRD-E556Z-R"
    assert agreed_serial([misread, misread, true]) in (None, true)
