"""Strokes written on or across the printed box lines survive line removal.

A grey flatbed scan of a blank sheet gets pen letters drawn onto it with
OpenCV: an L with its foot on the bottom line, an E with its top bar on the
top line and its stem on the left edge, and a T whose bar runs over into the
next (empty) box. After the scan stage and the glyph cutter, every part is
still there, the boxes are judged right and the network reads the letters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pen import Strokes, write_surname

from petitionscan import geometry
from petitionscan.recognize.cnn import CnnRecognizer
from petitionscan.recognize.glyph import KIND_EMPTY, KIND_LETTER, extract_glyphs
from petitionscan.scan.fields import PX_PER_MM

DPI = 300


@pytest.fixture(scope="module")
def written(corpus: Any) -> tuple[Any, Strokes]:
    """A grey 300 dpi page with three letters drawn into row 1's surname boxes."""
    drawn: Strokes = []

    def letters(boxes: tuple[geometry.Rect, ...]) -> Strokes:
        (l0, t0, l1, b0), (e0, t1, e1, _), (s0, t2, s1, b2) = boxes[:3]
        drawn.extend(
            [
                [(l0 + 1.6, t0 + 1.2), (l0 + 1.6, b0), (l1 - 0.6, b0)],  # L: foot on the bottom line
                [(e1 - 0.8, t1), (e0, t1), (e0, t1 + 7.5), (e1 - 0.8, t1 + 7.5)],  # E: bar and stem on the lines
                [(s0 + 0.8, t2 + 1.0), (s1 + 2.2, t2 + 1.0)],  # T: bar runs into the empty box
                [((s0 + s1) / 2, t2 + 1.0), ((s0 + s1) / 2, b2 - 0.8)],
                [(e0, t1 + 3.75), (e1 - 1.5, t1 + 3.75)],  # E's middle bar
            ]
        )
        return drawn

    return write_surname(corpus, letters, DPI), drawn


def test_strokes_on_the_lines_survive_and_read(written: tuple[Any, Any]) -> None:
    cut, _ = written
    fc = cut.rows[0].field("surname")
    assert fc is not None
    assert fc.blank[:3] == (False, False, False)
    assert all(fc.blank[3:])
    glyphs = extract_glyphs(fc.image, fc.boxes_px, fc.blank, PX_PER_MM)
    assert [g.kind for g in glyphs[:3]] == [KIND_LETTER] * 3
    # The L keeps its foot: the glyph is wide at the bottom, not a bare stem.
    l_img = glyphs[0].image
    assert l_img is not None
    ink_cols = np.flatnonzero(l_img[-10:].max(axis=0) > 0.5)
    assert ink_cols.size and ink_cols[-1] - ink_cols[0] >= 12
    engine = CnnRecognizer()
    probs = engine.probabilities([g.image for g in glyphs[:3] if g.image is not None])
    assert "".join(engine.classes[int(i)] for i in probs.argmax(axis=1)) == "LET"


def test_a_spilled_stroke_stays_with_its_letter(written: tuple[Any, Any]) -> None:
    cut, _ = written
    fc = cut.rows[0].field("surname")
    assert fc is not None
    glyphs = extract_glyphs(fc.image, fc.boxes_px, fc.blank, PX_PER_MM)
    t = glyphs[2]
    assert t.spill > 0.1  # the bar's end over the gap and the next box belongs to the T
    assert fc.blank[3] and glyphs[3].kind == KIND_EMPTY
