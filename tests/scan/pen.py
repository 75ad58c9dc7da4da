"""Pen strokes drawn onto a scanned sheet, for tests of what the scan stage keeps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from petitionscan import geometry
from petitionscan.scan.fields import PageCut, cut_page
from petitionscan.scan.register import Registration, register
from petitionscan.simulate import render_pages

Strokes = list[list[tuple[float, float]]]


def write_surname(
    corpus: Any,
    strokes_for: Callable[[tuple[geometry.Rect, ...]], Strokes],
    dpi: int = 300,
    extra: Callable[[np.ndarray, np.ndarray, tuple[geometry.Rect, ...]], None] | None = None,
) -> PageCut:
    """A grey flatbed page with pen strokes (mm, from the surname boxes of row 1) drawn on it, cut by the scan stage.

    ``extra`` marks the page further in place (page, page-from-mm matrix, the surname boxes in mm).
    """
    pdf, _ = corpus.sheets["flatbed"]
    page = render_pages(pdf, [0], dpi=dpi)[0]
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY) if page.ndim == 3 else page
    reg = register(grey)
    assert isinstance(reg, Registration)
    sheet = geometry.sheet_geometry(geometry.parse_layout_code(reg.layout_code))
    field = next(f for f in sheet.rows[0].fields if f.key == "surname")
    pen = max(2, round(0.45 * dpi / 25.4))
    img = grey.copy()
    for stroke in strokes_for(field.boxes_mm):
        pts = cv2.perspectiveTransform(np.array([stroke], np.float64), reg.matrix).reshape(-1, 1, 2)
        cv2.polylines(img, [np.round(pts).astype(np.int32)], False, 40, pen, cv2.LINE_AA)
    if extra is not None:
        extra(img, reg.matrix, field.boxes_mm)
    reg = register(img)
    assert isinstance(reg, Registration)
    return cut_page(img, reg.matrix, sheet)
