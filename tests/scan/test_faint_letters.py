"""A letter in a fainter, finer pen than the rest of its row is kept, and a name whose
written box yielded no letter goes to a person.

VIKTORIYA, its A written in a far lighter pen, was read VIKTORIY at 0.999 and
accepted: the A's ink (124 pixels, 30 wide and 50 high) was dropped as if it
were a scanner streak, so its box was judged blank.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from petitionscan.recognize import FieldImage, LetterReading, Reading
from petitionscan.scan.fields import FieldCut, RowCut, _ink_mask
from petitionscan.scan.pipeline import _recognise, ink_beyond_letters


def test_a_faint_fine_letter_is_kept_and_a_faint_streak_is_not() -> None:
    region = np.full((80, 200), 255, np.uint8)
    cv2.line(region, (10, 10), (10, 60), 60, 4)  # a dark letter's stem
    cv2.line(region, (40, 10), (40, 60), 60, 4)
    cv2.line(region, (80, 60), (95, 12), 190, 1)  # a faint fine A
    cv2.line(region, (95, 12), (110, 60), 190, 1)
    cv2.line(region, (87, 40), (103, 40), 190, 1)
    region[5:75, 160] = 190  # a faint streak, as tall
    mask, _ = _ink_mask(region)
    assert mask[12:60, 80:111].sum() >= 80  # the A is ink
    assert mask[:, 158:163].sum() == 0  # the streak is not
    assert mask[10:60, 8:13].sum() > 0


def test_ink_after_the_last_letter_read_is_doubt() -> None:
    letters = tuple(LetterReading(i, "A", (("A", 0.99),)) for i in range(2))
    assert ink_beyond_letters((False, False, False, True), letters)
    assert ink_beyond_letters((False, False, True), letters[1:])  # and before the first
    assert not ink_beyond_letters((False, False, True, True), letters)
    assert not ink_beyond_letters((True, True), ())


class SureEngine:
    """Reads the first two boxes of every field as A, sure of it: plumbing only."""

    name = "sure"
    version = "1"
    auto_threshold = 0.5

    def read(self, fields: Sequence[FieldImage]) -> list[Reading]:
        letters = tuple(LetterReading(i, "A", (("A", 0.999),)) for i in range(2))
        return [Reading("AA", letters, 0.999, self.name) for _ in fields]


def test_a_name_with_a_written_box_left_unread_goes_to_a_person() -> None:
    image = np.full((60, 200), 255, np.uint8)
    boxes = tuple((10 + 40 * i, 5, 45 + 40 * i, 55) for i in range(4))

    def row(n: int, blank: tuple[bool, ...]) -> RowCut:
        fields = (FieldCut("first_name", image, boxes, blank), FieldCut("surname", image, boxes, blank))
        return RowCut(n, fields, True, True, False, b"")

    done = _recognise([row(1, (False, False, True, True)), row(2, (False, False, False, True))], SureEngine())
    assert [r.status for r in done] == ["auto", "needs_review"]
    assert done[1].confidence is not None and done[1].confidence > 0.99  # the reading's own confidence is kept
