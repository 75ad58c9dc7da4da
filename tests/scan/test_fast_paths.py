"""The cheap ways through a page give what the thorough ones give.

A scanner's JPEG is decoded straight from its bytes instead of through
PDFium's bitmap; the corner markers are looked for where they should be
before the whole page is searched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image

from petitionscan import geometry
from petitionscan.errors import InputFileError
from petitionscan.scan import fields, load, register
from petitionscan.scan.load import InputFile, load_page
from petitionscan.simulate import render_pages


def _picture(mode: str) -> Image.Image:
    rng = np.random.default_rng(7)
    grey = np.tile(np.linspace(60, 250, 900, dtype=np.float32), (1200, 1))
    grey += rng.normal(0, 6, grey.shape).astype(np.float32)
    arr = np.clip(grey, 0, 255).astype(np.uint8)
    cv2.putText(arr, "SMITH", (80, 600), cv2.FONT_HERSHEY_SIMPLEX, 6, 20, 14)
    if mode == "RGB":
        return Image.fromarray(np.dstack([arr, np.roll(arr, 40, axis=1), 255 - arr // 3]), "RGB")
    return Image.fromarray(arr, "L")


def _pdfium_pixels(path: Path) -> np.ndarray:
    doc = pdfium.PdfDocument(str(path))
    try:
        obj = next(iter(doc[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])))
        return np.asarray(
            obj.get_bitmap(render=False).to_pil().convert("RGB" if obj.get_metadata().colorspace == 2 else "L")
        )
    finally:
        doc.close()


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_scanners_jpeg_decodes_to_pdfiums_pixels(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"scan-{mode}.pdf"
    _picture(mode).save(path, "PDF", resolution=150.0, quality=85)  # Pillow embeds a JPEG (DCTDecode)
    doc = pdfium.PdfDocument(str(path))
    try:
        obj = next(iter(doc[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])))
        assert load._scanner_jpeg(obj, obj.get_px_size()) is not None  # the direct way was taken
    finally:
        doc.close()
    direct = load_page(InputFile(str(path), "pdf"), 1).image
    expected = _pdfium_pixels(path)
    assert direct.shape == expected.shape
    assert np.abs(direct.astype(int) - expected.astype(int)).max() <= 1


def test_a_jpeg_whose_size_disagrees_is_left_to_pdfium(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    _picture("L").save(path, "PDF", resolution=150.0)
    doc = pdfium.PdfDocument(str(path))
    try:
        obj = next(iter(doc[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])))
        width, height = obj.get_px_size()
        assert load._scanner_jpeg(obj, (width + 1, height)) is None
    finally:
        doc.close()


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_photos_jpeg_decodes_to_pillows_upright_pixels(tmp_path: Path, mode: str, orientation: int) -> None:
    from PIL import ImageOps

    path = tmp_path / f"photo-{mode}-{orientation}.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    _picture(mode).save(path, "JPEG", quality=85, exif=exif)
    with Image.open(path) as img:
        assert load._plain_jpeg(img) is not None  # the direct way was taken
        img.load()
        expected = np.asarray(ImageOps.exif_transpose(img))
    direct = load_page(InputFile(str(path), "image"), 1).image
    assert direct.shape == expected.shape
    assert np.array_equal(direct, expected)


def test_a_cmyk_jpeg_is_left_to_pillow(tmp_path: Path) -> None:
    path = tmp_path / "photo-cmyk.jpg"
    _picture("RGB").convert("CMYK").save(path, "JPEG", quality=90)
    with Image.open(path) as img:
        assert load._plain_jpeg(img) is None
    page = load_page(InputFile(str(path), "image"), 1).image
    assert page.ndim == 3 and page.shape[2] == 3


def test_a_truncated_photo_is_left_to_pillow_which_reads_what_it_can(tmp_path: Path) -> None:
    """A JPEG cut short (a copy interrupted) does not decode the quick way; Pillow then decides."""
    path = tmp_path / "cut.jpg"
    _picture("RGB").save(path, "JPEG", quality=85)
    data = path.read_bytes()
    assert load.decode_jpeg(data, "RGB") is not None
    assert load.decode_jpeg(data[: len(data) // 3], "RGB") is None
    assert load.decode_jpeg(b"not a jpeg at all", "GRAY") is None
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputFileError, match="not a readable image"):
        load_page(InputFile(str(path), "image"), 1)


def _markers_at(positions: list[tuple[int, int]], size: tuple[int, int] = (1400, 990)) -> np.ndarray:
    """A white page with markers 0-3 (one sheet's corners) drawn at ``positions`` (top-left, px)."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, geometry.ARUCO_DICT_NAME))
    page = np.full(size, 255, np.uint8)
    for marker_id, (x, y) in enumerate(positions):
        page[y : y + 48, x : x + 48] = cv2.aruco.generateImageMarker(dictionary, marker_id, 48)
    return page


def test_markers_in_the_corners_are_found_in_the_corner_tiles() -> None:
    page = _markers_at([(40, 40), (900, 40), (900, 1310), (40, 1310)])
    assert sorted(m.marker_id for m in register._corner_markers(page)) == [0, 1, 2, 3]
    assert sorted(m.marker_id for m in register.find_markers(page, 0.5)) == [0, 1, 2, 3]


def _with_marker(page: np.ndarray, marker_id: int, x: int, y: int) -> np.ndarray:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, geometry.ARUCO_DICT_NAME))
    page[y : y + 48, x : x + 48] = cv2.aruco.generateImageMarker(dictionary, marker_id, 48)
    return page


def test_a_stray_marker_beside_a_full_set_needs_no_whole_page_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """A false detection in the corners (a marker of another id) leaves the sheet's set whole:
    the registration keeps the sheet's block, so the whole page is not searched again."""
    page = _with_marker(_markers_at([(40, 40), (900, 40), (900, 1310), (40, 1310)]), 9, 150, 150)

    def whole_page(small: np.ndarray) -> list[Any]:
        raise AssertionError("the whole page was searched")

    monkeypatch.setattr(register, "_all_markers", whole_page)
    assert sorted(m.marker_id for m in register.find_markers(page, 0.5)) == [0, 1, 2, 3, 9]


def test_a_marker_found_twice_in_the_corners_sends_the_search_to_the_whole_page() -> None:
    page = _with_marker(_markers_at([(40, 40), (900, 40), (900, 1310), (40, 1310)]), 1, 150, 150)
    assert sorted(m.marker_id for m in register._corner_markers(page)) == [0, 1, 1, 2, 3]
    assert not register._holds_full_set(register._corner_markers(page))
    assert register._holds_full_set(
        register._corner_markers(_markers_at([(40, 40), (900, 40), (900, 1310), (40, 1310)]))
    )


def test_markers_away_from_the_corners_are_found_on_the_whole_page() -> None:
    """A phone photo with the sheet small in the middle: the corner tiles miss, the whole page does not."""
    page = _markers_at([(450, 520), (560, 520), (560, 830), (450, 830)])
    assert register._corner_markers(page) == []
    found = register.find_markers(page, 0.5)
    assert sorted(m.marker_id for m in found) == [0, 1, 2, 3]
    first = next(m for m in found if m.marker_id == 0)
    assert np.allclose(first.corners[0], (900, 1040), atol=2)  # in full-resolution pixels


def test_the_small_copy_registers_the_page_as_area_averaging_by_the_fraction_does(corpus: Any) -> None:
    """A 300 dpi page is registered on a copy 0.4 its size, made by averaging whole
    2 x 2 blocks and then bilinear: the sheet lands where the copy made by area
    averaging in one step (five times the work) puts it, to a fraction of a scan pixel."""
    pdf, _ = corpus.sheets["flatbed"]
    page = render_pages(pdf, [0], dpi=300)[0]
    small, scale = register.downscaled(page)
    assert scale < 0.5
    thorough = cv2.resize(register.to_gray(page), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert small.shape == thorough.shape
    assert np.abs(small.astype(np.int16) - thorough.astype(np.int16)).mean() < 3.0
    ours = {m.marker_id: m.corners for m in register.find_markers(small, scale)}
    theirs = {m.marker_id: m.corners for m in register.find_markers(thorough, scale)}
    assert sorted(ours) == sorted(theirs) and len(ours) == 4
    assert max(float(np.abs(ours[k] - theirs[k]).max()) for k in ours) < 0.5


def test_reading_a_page_leaves_the_printing_and_table_libraries_out() -> None:
    """Each scan process imports what reading needs: ReportLab (a fifth of a second)
    and pandas are for printing sheets and tallies."""
    import subprocess
    import sys

    code = (
        "import sys, petitionscan.cli, petitionscan.scan.pipeline, petitionscan.forms.campaign, "
        "petitionscan.recognize.cnn; print(sorted(m for m in ('reportlab', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _sheet(paper: str) -> geometry.SheetGeometry:
    fields = (geometry.FieldSpec("first_name", 12), geometry.FieldSpec("surname", 14))
    return geometry.sheet_geometry(geometry.LayoutSpec(paper, 8, fields, ()))


@pytest.mark.parametrize("paper", ["A4", "LETTER"])
def test_the_page_picture_is_the_registered_table_halved_and_the_scan_around_it(paper: str) -> None:
    """The review's page picture takes the table from the registered page (2 x 2 averages)
    and warps only the rest from the scan: whole, at its scale, seamless. Letter paper is
    an odd number of pixels wide at the reader's scale."""
    sheet = _sheet(paper)
    width_mm, height_mm = sheet.page_size_mm
    scan_px_per_mm = 11.8  # 300 dpi
    rng = np.random.default_rng(3)
    # A scan whose grey changes smoothly down the page, with noise and dark printed bars.
    rows = round(height_mm * scan_px_per_mm)
    cols = round(width_mm * scan_px_per_mm)
    scan = np.tile(np.linspace(250, 150, rows, dtype=np.float32)[:, None], (1, cols))
    scan += rng.normal(0, 3, scan.shape).astype(np.float32)
    for y_mm in range(20, int(height_mm) - 10, 23):  # bars across the page, in and out of the table
        y = round(y_mm * scan_px_per_mm)
        scan[y : y + 20, 100:-100] = 30
    image = np.clip(scan, 0, 255).astype(np.uint8)
    matrix = np.diag([scan_px_per_mm, scan_px_per_mm, 1.0])  # sheet millimetres to scan pixels
    gray, _, _ = fields.registered_page(image, matrix, sheet)
    picture = fields._page_preview(image, matrix, sheet, gray)
    assert picture.shape == (round(height_mm * fields.JPEG_PX_PER_MM), round(width_mm * fields.JPEG_PX_PER_MM))
    y0, y1 = fields._table_rows_px(sheet)
    t0, t1 = -(-y0 // 2), y1 // 2
    band = gray[2 * t0 : 2 * t1]
    assert np.array_equal(
        picture[t0:t1, : band.shape[1] // 2],
        cv2.resize(band, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)[:, : band.shape[1] // 2],
    )
    direct = register.warp(image, matrix, fields.JPEG_PX_PER_MM, (0.0, 0.0, width_mm, height_mm))
    diff = np.abs(picture.astype(np.int16) - direct.astype(np.int16))
    assert diff.mean() < 2.0  # the same page as a direct warp shows it
    rows_diff = diff.mean(axis=1)
    assert rows_diff[t0 - 2 : t0 + 2].max() < 6.0 and rows_diff[t1 - 2 : t1 + 2].max() < 6.0  # no seam


def test_darkness_profiles_are_the_exact_sums() -> None:
    rng = np.random.default_rng(5)
    for shape in [(40, 300), (1, 9), (9, 1), (0, 5), (5, 0)]:
        grey = rng.integers(0, 256, shape, dtype=np.uint8)
        for axis in (0, 1):
            expected = (255 * grey.shape[axis] - grey.sum(axis=axis, dtype=np.int64)).astype(np.float32)
            got = fields._darkness(grey, axis)
            assert got.dtype == np.float32 and np.array_equal(got, expected)


def _shift_by_looping(profile: np.ndarray, positions: list[int], search: int) -> int:
    """The line search spelt out: darkness (smoothed over 3) summed under each shifted position."""
    n = len(profile)
    smooth = [sum(float(profile[j]) for j in (i - 1, i, i + 1) if 0 <= j < n) for i in range(n)]
    scores = [sum(smooth[p + s] for p in positions if 0 <= p + s < n) for s in range(-search, search + 1)]
    best = max(range(len(scores)), key=lambda k: (scores[k], -k))
    median, zero = sorted(scores)[search], scores[search]
    if scores[best] <= 0 or scores[best] < 1.25 * median or scores[best] < zero * 1.02:
        return 0
    return best - search


def test_the_line_search_finds_the_shift_near_the_edges_and_inside() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        n = int(rng.integers(12, 80))
        profile = rng.integers(0, 40, n).astype(np.float32)
        lines = sorted({int(v) for v in rng.integers(0, n, int(rng.integers(1, 5)))})
        shift = int(rng.integers(-3, 4))
        for p in lines:
            if 0 <= p + shift < n:
                profile[p + shift] += 4000.0
        got = fields._profile_shift(profile, lines, 4)
        assert got == _shift_by_looping(profile, lines, 4)


def test_edge_samples_lie_on_the_box_edges_they_name() -> None:
    """The pixels the drop-out check and the line levels sample are on the printed box edges:
    the first row's tops every pixel, the first three rows' tops and bottoms every other one."""
    sheet = _sheet("A4")
    for rows, bottoms, step in ((1, False, 1), (3, True, 2)):
        ys, xs = fields._edge_samples(sheet, rows, bottoms, step)
        assert not ys.flags.writeable and not xs.flags.writeable
        expected: set[tuple[int, int]] = set()
        count = 0
        for row in sheet.rows[:rows]:
            for f in row.fields:
                for b in f.boxes_mm:
                    x0, y0, x1, y1 = fields._rect_px(b)
                    span = range(x0 + 4, x1 - 4, step)
                    for y in (y0, y1) if bottoms else (y0,):
                        expected |= {(y, x) for x in span}
                        count += len(span)
        assert len(ys) == len(xs) == count > 0
        assert set(zip(ys.tolist(), xs.tolist(), strict=True)) == expected


@pytest.mark.parametrize("preset", [None, "3"])
def test_workers_start_one_blas_thread_unless_the_user_chose(
    monkeypatch: pytest.MonkeyPatch, preset: str | None
) -> None:
    from petitionscan.scan import pipeline

    if preset is None:
        monkeypatch.delenv(pipeline.BLAS_THREADS, raising=False)
    else:
        monkeypatch.setenv(pipeline.BLAS_THREADS, preset)
    pool = pipeline.worker_pool(1, None, ())
    try:
        seen = pool.apply(os.getenv, (pipeline.BLAS_THREADS,))
    finally:
        pool.terminate()
        pool.join()
    assert seen == (preset or "1")
    assert os.environ.get(pipeline.BLAS_THREADS) == preset
