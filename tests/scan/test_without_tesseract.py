"""Without Tesseract a sheet with a damaged QR code is rejected, and the summary says why in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from petitionscan import geometry
from petitionscan.cli import main
from petitionscan.forms import generate
from petitionscan.scan import register as reg_module
from petitionscan.scan.register import Registration, register
from petitionscan.simulate import render_pages

DPI = 150


@pytest.fixture()
def damaged_and_intact(tmp_path: Path) -> Path:
    """A folder with two sheets as PNG scans: one with its QR code blanked out, one intact."""
    generate(None, sheets=2, out=tmp_path / "s.pdf", with_appeal=False)
    folder = tmp_path / "scans"
    folder.mkdir()
    px = DPI / 25.4
    for index, page in enumerate(render_pages(tmp_path / "s.pdf", [0, 1], dpi=DPI)):
        if index == 0:
            found = register(page)
            assert isinstance(found, Registration)
            x0, y0, x1, y1 = geometry.sheet_geometry(geometry.parse_layout_code(found.layout_code)).qr_rect_mm
            page[int(y0 * px) : int(y1 * px), int(x0 * px) : int(x1 * px)] = 255
        Image.fromarray(page).save(folder / f"page-{index}.png")
    return folder


def _scan(folder: Path, monkeypatch: pytest.MonkeyPatch, path: str | None) -> tuple[int, str]:
    if path is not None:
        monkeypatch.setenv("PATH", path)
    reg_module.tesseract_available.cache_clear()
    try:
        result = CliRunner().invoke(main, ["scan", str(folder), "--jobs", "1", "--db", str(folder.parent / "c.db")])
    finally:
        reg_module.tesseract_available.cache_clear()
    return result.exit_code, result.stdout


def test_missing_tesseract_is_named_in_one_summary_line(
    damaged_and_intact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    code, out = _scan(damaged_and_intact, monkeypatch, str(empty))
    assert code == 10, out
    assert "pages read: 1 of 2" in out
    lines = [line for line in out.splitlines() if line.startswith("Tesseract is not installed")]
    assert len(lines) == 1, out
    for hint in ("1 page(s)", "printed serial", "winget", "brew install tesseract", "apt-get install tesseract-ocr"):
        assert hint in lines[0]
    assert "Tesseract" in next(line for line in out.splitlines() if line.startswith("rejected "))


def test_with_tesseract_there_is_no_such_line(damaged_and_intact: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("Tesseract is not installed here, so its presence cannot be tested")
    code, out = _scan(damaged_and_intact, monkeypatch, None)
    assert code in (0, 10), out
    assert "Tesseract is not installed" not in out
