"""The glyph cutter keeps a letter's marks on fields that may hold them (Ё, Й) and only there."""

from __future__ import annotations

import cv2
import numpy as np

from petitionscan.recognize.glyph import KIND_LETTER, extract_glyphs

BOX = (12, 12, 60, 72)  # x0, y0, x1, y1 of the one box, at 8 px/mm


def _field(marks: list[tuple[int, int]], mark_px: int = 2) -> np.ndarray:
    """An E in the box (pen 3 px) and square marks of ``mark_px`` at (x, y): dots under the speck limit."""
    img = np.full((84, 72), 255, np.uint8)
    cv2.line(img, (24, 30), (24, 64), 0, 3)
    for y in (30, 47, 64):
        cv2.line(img, (24, y), (46, y), 0, 3)
    for x, y in marks:
        img[y : y + mark_px, x : x + mark_px] = 0
    return img


def _ink_rows(img: np.ndarray, diacritics: bool) -> np.ndarray:
    (g,) = extract_glyphs(img, [BOX], [False], 8.0, diacritics=diacritics)
    assert g.kind == KIND_LETTER and g.image is not None
    return np.flatnonzero(g.image.max(axis=1) > 0.3)


def test_the_dots_of_yo_reach_the_network_on_a_cyrillic_field() -> None:
    dotted = _field([(29, 22), (39, 22)])
    plain = _field([])
    with_marks = _ink_rows(dotted, diacritics=True)
    # The dots are kept: the glyph has ink in two separate bands (dots, then the letter body).
    assert np.any(np.diff(with_marks) > 1), with_marks
    # Without diacritics (a Latin field) the tiny dots are specks, as before: the glyph is the bare E.
    np.testing.assert_array_equal(_ink_rows(dotted, diacritics=False), _ink_rows(plain, diacritics=False))


def test_marks_far_from_the_letter_stay_out() -> None:
    plain = _ink_rows(_field([]), diacritics=True)
    # A speck well above the body (the row above's territory) and one beside the letter.
    far = _ink_rows(_field([(34, 3), (56, 40)]), diacritics=True)
    np.testing.assert_array_equal(far, plain)
