"""Every capture profile writes files that ordinary tools open, reproducibly."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageOps

from petitionscan.errors import InputFileError, UsageError
from petitionscan.simulate import PROFILES, simulate
from petitionscan.simulate.degrade import capture

from .conftest import Sheets

A4_PT = (595.28, 841.89)


def _pages_per_file(truth: Path) -> dict[str, int]:
    with truth.open(newline="", encoding="utf-8") as fh:
        out: dict[str, int] = {}
        for row in csv.DictReader(fh):
            out[row["file"]] = max(out.get(row["file"], 0), int(row["page"]))
    return out


def _image_dpi(pdf: Path) -> list[float]:
    """Resolution of each page's embedded image, from its pixels and the page size."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        out = []
        for page in doc:
            images = [o for o in page.get_objects() if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
            assert len(images) == 1
            w_px, h_px = images[0].get_px_size()
            w_pt, h_pt = page.get_size()
            out.append(min(w_px / w_pt, h_px / h_pt) * 72)
        return out
    finally:
        doc.close()


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_files_open_at_their_resolution(sheets: Sheets, tmp_path: Path, profile: str) -> None:
    result = simulate(sheets.pdf, sheets.layout, tmp_path, profile=profile, seed=2)
    per_file = _pages_per_file(result.truth)
    assert set(per_file) == set(result.files)
    assert sum(per_file.values()) == sheets.sheets == result.sheets
    for name in result.files:
        path = tmp_path / name
        if profile in ("flatbed", "feeder", "photocopy"):
            assert path.suffix == ".pdf"
            doc = pdfium.PdfDocument(str(path))
            assert len(doc) == per_file[name]
            rendered = doc[0].render(scale=0.2).to_numpy()
            doc.close()
            assert rendered.size > 0
            for dpi in _image_dpi(path):
                assert dpi == pytest.approx(300, rel=0.01)
        elif profile == "fax":
            with Image.open(path) as im:
                assert im.info["compression"] == "group4"
                assert im.n_frames == per_file[name]
                assert im.mode == "1" and im.info["dpi"] == pytest.approx((200, 200))
                assert im.size == pytest.approx((A4_PT[0] * 200 / 72, A4_PT[1] * 200 / 72), abs=2)
            ok, frames = cv2.imreadmulti(str(path))
            assert ok and len(frames) == per_file[name]
        else:
            assert path.suffix == ".jpg" and per_file[name] == 1
            with Image.open(path) as im:
                upright = ImageOps.exif_transpose(im)
                assert 2000 <= upright.width <= 3000
                assert upright.height > upright.width, "a portrait page photographed upright"
                assert im.getexif().get(0x0112) in (1, 3, 6, 8)
            assert cv2.imread(str(path)) is not None


def test_phone_photos_need_their_exif_orientation() -> None:
    """Some phone JPEGs store the pixels turned: a reader ignoring the tag sees them sideways."""
    page = np.full((700, 500, 3), 255, np.uint8)
    tags = set()
    for seed in range(10):
        cap = capture("phone", page, np.random.default_rng(seed))
        tags.add(cap.orientation)
        h, w = cap.image.shape[:2]
        assert (h > w) == (cap.orientation in (1, 3))
    assert 1 in tags and tags & {3, 6, 8}


def test_feeder_turns_some_pages_upside_down() -> None:
    page = np.full((350, 250, 3), 255, np.uint8)
    turns = {capture("feeder", page, np.random.default_rng(s)).rotation for s in range(40)}
    assert {0, 180} <= turns and turns & {90, 270}


def test_photocopy_loses_the_dropout_colour() -> None:
    """Light red-orange boxes come out grey on a copy, not near-white as on a grey scan."""
    page = np.full((400, 300, 3), 255, np.uint8)
    page[100:300, 100:200] = (245, 150, 120)
    rng = np.random.default_rng(0)
    flat = capture("flatbed", page, rng).image
    copy = capture("photocopy", page, np.random.default_rng(0)).image
    assert copy[180:220, 130:170].mean() < flat[180:220, 130:170].mean() - 15


@pytest.mark.parametrize("profile", [*PROFILES, "mixed"])
def test_same_seed_same_bytes(sheets: Sheets, tmp_path: Path, profile: str) -> None:
    n = 2 if profile == "mixed" else 1
    a = simulate(sheets.pdf, sheets.layout, tmp_path / "a", profile=profile, seed=11, max_sheets=n)
    b = simulate(sheets.pdf, sheets.layout, tmp_path / "b", profile=profile, seed=11, max_sheets=n)
    c = simulate(sheets.pdf, sheets.layout, tmp_path / "c", profile=profile, seed=12, max_sheets=n)
    assert a.files == b.files
    for name in (*a.files, "truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    differ = [
        n for n in c.files if n in a.files and (tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes()
    ]
    assert differ or set(c.files) != set(a.files)


def test_user_errors_are_reported(sheets: Sheets, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        simulate(sheets.pdf, sheets.layout, tmp_path, profile="scanner")
    with pytest.raises(UsageError):
        simulate(sheets.pdf, sheets.layout, tmp_path, fill=1.5)
    with pytest.raises(InputFileError):
        simulate(tmp_path / "missing.pdf", sheets.layout, tmp_path)
    bad = tmp_path / "layout.json"
    bad.write_text('{"pages": []}', encoding="utf-8")
    with pytest.raises(InputFileError):
        simulate(sheets.pdf, bad, tmp_path)
