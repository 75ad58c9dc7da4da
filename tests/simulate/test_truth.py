"""The truth file must say exactly what was drawn: the benchmarks score against it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from petitionscan import geometry
from petitionscan.simulate import TRUTH_HEADER, render_pages, simulate
from petitionscan.simulate import fill as fill_mod
from petitionscan.simulate.fill import RowTruth, fill_page
from petitionscan.simulate.handwriting import available_hands
from petitionscan.simulate.layout import PageLayout, Rect, load_layout, parse_layout

from .conftest import Sheets

INK = 0.25  # ink density that counts as a mark


def _inner(rect: Rect, scale: float, fx: float = 0.25, fy: float = 0.1) -> tuple[slice, slice]:
    """The centre of a box in pixels: what a neighbour's overflow must never reach."""
    x0, y0, x1, y1 = (v * scale for v in rect)
    w, h = x1 - x0, y1 - y0
    return slice(int(y0 + fy * h), int(y1 - fy * h)), slice(int(x0 + fx * w), int(x1 - fx * w))


def _has_ink(ink: np.ndarray, rect: Rect, scale: float, **kw: float) -> bool:
    ys, xs = _inner(rect, scale, **kw)
    return bool((ink[ys, xs] > INK).any())


def _marked(ink: np.ndarray, boxes: tuple[Rect, ...], scale: float) -> set[int]:
    """Boxes with ink in their middle (full height and a little more, the outer 22 % each side left out):
    a letter always reaches it, a neighbour's overflow never does."""
    return {i for i, b in enumerate(boxes) if _has_ink(ink, b, scale, fx=0.22, fy=-0.16)}


def _expected_boxes(layout_row_fields: dict[str, int], truth: RowTruth) -> set[int]:
    """Indices into the name boxes that must hold a letter, from the truth text alone."""
    if "first_name" in layout_row_fields:
        off = layout_row_fields["first_name"]
        return set(range(len(truth.first_name))) | {off + i for i in range(len(truth.surname))}
    return {i for i, ch in enumerate(truth.name) if ch != " "}


def _check_page(page: PageLayout, ink: np.ndarray, rows: tuple[RowTruth, ...], scale: float) -> dict[str, int]:
    seen = {"blank": 0, "written": 0, "unsigned": 0, "crossed": 0}
    for row, truth in zip(page.rows, rows, strict=True):
        name = row.field("name")
        sig = row.field("signature")
        assert name is not None and sig is not None and sig.rect is not None
        inked = _marked(ink, name.boxes, scale)
        if truth.crossed_out:
            seen["crossed"] += 1
            assert truth.name, "a struck-out row has a name under the line"
            assert len(inked) > len(truth.first_name) + len(truth.surname), "the strike-out must cross blank boxes"
            continue
        counts = {f.key: len(f.boxes) for f in row.fields if f.boxes}
        expected = _expected_boxes(counts, truth) if truth.name else set()
        assert inked == expected, f"row {truth.row} {truth.name!r}: ink in {sorted(inked)}"
        assert set(truth.inked_boxes) == expected
        signed_ink = _has_ink(ink, sig.rect, scale, fx=0.0, fy=0.0)
        assert signed_ink == truth.signed, f"row {truth.row}: signature ink {signed_ink}, truth {truth.signed}"
        for key in fill_mod.EXTRA_FIELDS:
            field = row.field(key)
            if field is None:
                continue
            text = truth.extra(key)
            got = _marked(ink, field.boxes, scale)
            assert got == {i for i, ch in enumerate(text) if ch != " "}, f"row {truth.row} {key} {text!r}"
        if not truth.name:
            seen["blank"] += 1
        else:
            seen["written"] += 1
            seen["unsigned"] += not truth.signed
    return seen


def test_ink_matches_truth_on_generated_sheets(sheets: Sheets, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fill_mod, "P_CROSSED", 0.15)
    monkeypatch.setattr(fill_mod, "P_SIGNED", 0.7)
    pages = load_layout(sheets.layout)
    index = sheets.appeal_pages
    rgb = render_pages(sheets.pdf, [index])[0]
    scale = rgb.shape[1] / pages[index].page_size[0]
    seen = {"blank": 0, "written": 0, "unsigned": 0, "crossed": 0}
    for seed in range(6):
        page = rgb.copy()
        ink, truth = fill_page(page, pages[index], available_hands(), np.random.default_rng(seed), fill=0.6)
        assert truth.sheet_id == pages[index].sheet_id
        for key, n in _check_page(pages[index], ink, truth.rows, scale).items():
            seen[key] += n
        assert not np.array_equal(page, rgb), "the ink must reach the page image"
    assert all(n > 0 for n in seen.values()), seen


def test_single_name_field_has_one_blank_box_between_names() -> None:
    spec = geometry.LayoutSpec(
        "A4", 8, (geometry.FieldSpec("name", 24),), (geometry.FieldSpec("town", 9), geometry.FieldSpec("signature"))
    )
    page = parse_layout({"pages": [geometry.layout_page_json(geometry.sheet_geometry(spec), "X")]})[0]
    scale = 200 / 72
    rgb = np.full((round(page.page_size[1] * scale), round(page.page_size[0] * scale), 3), 255, np.uint8)
    written = 0
    for seed in range(4):
        ink, truth = fill_page(rgb.copy(), page, available_hands(), np.random.default_rng(seed), fill=0.9)
        _check_page(page, ink, truth.rows, scale)
        for r in truth.rows:
            if r.name:
                written += 1
                assert r.name == f"{r.first_name} {r.surname}" and len(r.name) <= 24
    assert written > 10


def test_truth_csv_lists_every_row_of_every_sheet(sheets: Sheets, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = simulate(sheets.pdf, sheets.layout, out, profile="fax", seed=3, fill=0.5)
    with result.truth.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    assert tuple(header[:7]) == ("file", "page", "sheet_id", "row", "name", "signed", "crossed_out")
    assert tuple(header) == TRUTH_HEADER
    pages = [p for p in load_layout(sheets.layout) if p.sheet_id]
    assert len(rows) == sum(len(p.rows) for p in pages) == result.rows
    assert {r[2] for r in rows} == {p.sheet_id for p in pages}
    for r in rows:
        assert (out / r[0]).is_file() and int(r[1]) >= 1
        assert r[5] in ("yes", "no") and r[6] in ("yes", "no")
        if not r[4]:
            assert r[5] == "no" and r[6] == "no"
        else:
            assert r[4] == f"{r[7]} {r[8]}"
            assert set(r[4]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ '-")


def test_fill_share_controls_blank_rows(sheets: Sheets, tmp_path: Path) -> None:
    empty = simulate(sheets.pdf, sheets.layout, tmp_path / "a", profile="fax", seed=1, fill=0.0)
    full = simulate(sheets.pdf, sheets.layout, tmp_path / "b", profile="fax", seed=1, fill=1.0)
    assert empty.filled_rows == 0
    assert full.filled_rows == full.rows
