"""A letter's stroke reaching far into the next, empty box adds no letter.

A grey flatbed scan of a blank sheet gets an I and a wide V drawn with
OpenCV into row 1's surname boxes; the V's right arm runs over the gap and
well into the third box, which holds nothing else. The scan stage sees ink
there, but the glyph cutter must give the stroke back to the V: the field
reads IV, not IVI or IVT.
"""

from __future__ import annotations

from typing import Any

import pytest
from pen import Strokes, write_surname

from petitionscan import geometry
from petitionscan.recognize.cnn import CnnRecognizer
from petitionscan.recognize.glyph import KIND_EMPTY, KIND_LETTER, extract_glyphs, words_of
from petitionscan.scan.fields import PX_PER_MM, FieldCut

DPI = 300


@pytest.fixture(scope="module")
def spilled(corpus: Any) -> FieldCut:
    """Row 1's surname field with I, V and the V's arm reaching into box 3."""

    def strokes(boxes: tuple[geometry.Rect, ...]) -> Strokes:
        (i0, it, i1, ib), (v0, vt, v1, vb), (n0, _, n1, _) = boxes[:3]
        return [
            [((i0 + i1) / 2, it + 1.0), ((i0 + i1) / 2, ib - 0.8)],  # I
            # V: the right arm ends in the third box, nearly halfway across it.
            [(v0 + 0.8, vt + 1.0), ((v0 + v1) / 2 + 0.3, vb - 0.8), (n0 + 0.45 * (n1 - n0), vt + 0.6)],
        ]

    fc = write_surname(corpus, strokes, DPI).rows[0].field("surname")
    assert fc is not None
    return fc


def test_the_spill_box_is_seen_written(spilled: FieldCut) -> None:
    # The premise: the scan stage counts the stroke's end as ink of box 3.
    assert spilled.blank[:3] == (False, False, False)
    assert all(spilled.blank[3:])


def test_a_spilled_stroke_adds_no_letter(spilled: FieldCut) -> None:
    glyphs = extract_glyphs(spilled.image, spilled.boxes_px, spilled.blank, PX_PER_MM)
    assert [g.kind for g in glyphs[:3]] == [KIND_LETTER, KIND_LETTER, KIND_EMPTY]
    assert words_of(glyphs, spilled.blank) == [[0, 1]]
    v = glyphs[1]
    assert v.spill > 0.15  # the whole arm stays with the V, over the gap and into box 3
    engine = CnnRecognizer()
    probs = engine.probabilities([g.image for g in glyphs[:2] if g.image is not None])
    assert "".join(engine.classes[int(i)] for i in probs.argmax(axis=1)) == "IV"
