"""Pieces of printed lines and scanner streaks do not make a box written.

A box that holds nothing but what is left of its outline (a fax's dotted
line), a row's rule or a feeder's streak is blank: read as written, the
glyph cutter found a speck or a stroke in it and the name got a letter more
(SEYITOV read "SEYITOV E", IVANNA read IVANNAI).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from pen import Strokes, write_surname

from petitionscan import geometry
from petitionscan.recognize.glyph import components
from petitionscan.scan.fields import _edge_remnants

BOXES = [(10 + 56 * i, 10, 58 + 56 * i, 70) for i in range(4)]  # 6 x 7.5 mm at 8 px/mm, 1 mm apart


def verdicts(draw: list[tuple[str, tuple[int, int, int, int]]]) -> dict[str, bool]:
    """Each named rectangle of ink (x, y, w, h) drawn into an empty band, judged on its own."""
    band = np.zeros((80, 250), np.uint8)
    for _, (x, y, w, h) in draw:
        band[y : y + h, x : x + w] = 1
    _, labels, stats = components(band)
    out = _edge_remnants(labels, stats, BOXES)
    return {name: bool(out[labels[y, x]]) for name, (x, y, _w, _h) in draw}


LINE_PIECES = [
    ("upright on an edge", (57, 20, 2, 24)),
    ("lying on an edge", (70, 69, 30, 2)),
    ("corner", (121, 56, 2, 14)),
    ("the corner's foot", (121, 68, 12, 2)),
    ("rule", (130, 40, 100, 3)),
    ("streak", (245, 2, 1, 75)),
]
LETTER_INK = [
    ("an L drawn on the left and bottom edges", (10, 14, 4, 50)),
    ("its foot", (10, 62, 30, 4)),
    ("a tall thick I", (40, 2, 4, 72)),
    ("a dash", (75, 38, 20, 4)),
    ("a letter's blob", (140, 25, 25, 30)),
    ("a small mark mid-box", (200, 35, 6, 6)),
]


@pytest.mark.parametrize(
    ("draw", "remnant"), [(LINE_PIECES, True), (LETTER_INK, False)], ids=["line pieces", "letter ink"]
)
def test_thin_pieces_along_an_edge_corners_rules_and_streaks_are_remnants_letters_are_not(
    draw: list[tuple[str, tuple[int, int, int, int]]], remnant: bool
) -> None:
    v = verdicts(draw)
    assert v == dict.fromkeys(v, remnant)


def test_a_feeder_streak_through_an_empty_box_leaves_it_blank(corpus: Any) -> None:
    """A grey hairline down the whole page, through the fifth box, next to three letters."""

    def letters(boxes: tuple[geometry.Rect, ...]) -> Strokes:
        strokes: Strokes = []
        for x0, y0, x1, y1 in boxes[:3]:  # three I-like strokes with a bar: Ts
            mid = (x0 + x1) / 2
            strokes += [[(x0 + 1.0, y0 + 1.2), (x1 - 1.0, y0 + 1.2)], [(mid, y0 + 1.2), (mid, y1 - 1.0)]]
        return strokes

    def streak(img: np.ndarray, matrix: np.ndarray, boxes: tuple[geometry.Rect, ...]) -> None:
        x0, y0, x1, y1 = boxes[4]
        pt = cv2.perspectiveTransform(np.array([[((x0 + x1) / 2, (y0 + y1) / 2)]], np.float64), matrix)
        x = round(float(pt[0, 0, 0]))
        img[:, x : x + 2] = 120

    cut = write_surname(corpus, letters, extra=streak)
    fc = cut.rows[0].field("surname")
    assert fc is not None
    assert fc.blank[:3] == (False, False, False)
    assert all(fc.blank[3:])
