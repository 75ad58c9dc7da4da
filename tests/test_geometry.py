from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from petitionscan import geometry
from petitionscan.alphabets import ALPHABETS
from petitionscan.errors import CampaignError
from petitionscan.geometry import FieldSpec, LayoutSpec


def _spec(rows: int = 5, paper: str = "A4") -> LayoutSpec:
    return LayoutSpec(
        paper,
        rows,
        (FieldSpec("first_name", 11), FieldSpec("surname", 13)),
        (FieldSpec("workplace", 10), FieldSpec("town", 9), FieldSpec("signature")),
    )


@given(
    paper=st.sampled_from(sorted(geometry.PAPER_SIZES_MM)),
    rows=st.integers(1, 7),
    first=st.integers(6, 11),
    surname=st.integers(6, 13),
    signature=st.booleans(),
)
def test_layout_code_round_trips(paper: str, rows: int, first: int, surname: int, signature: bool) -> None:
    others = (FieldSpec("town", 9),) + ((FieldSpec("signature"),) if signature else ())
    spec = LayoutSpec(paper, rows, (FieldSpec("first_name", first), FieldSpec("surname", surname)), others)
    assert geometry.parse_layout_code(spec.code) == spec


@given(alphabet=st.sampled_from(ALPHABETS), rows=st.integers(1, 7))
def test_layout_code_carries_the_alphabet(alphabet: str, rows: int) -> None:
    spec = LayoutSpec("A4", rows, (FieldSpec("name", 20),), (FieldSpec("signature"),), alphabet=alphabet)
    back = geometry.parse_layout_code(spec.code)
    assert back == spec and back.alphabet == alphabet


def test_codes_without_an_alphabet_read_as_latin() -> None:
    """Sheets printed before campaigns named an alphabet keep their code and read as Latin."""
    old = "L1/A4/9/f11,s13/t9,g"
    assert geometry.parse_layout_code(old).alphabet == "latin"
    spec = geometry.parse_layout_code(old)
    assert spec.code == old
    cyrillic = LayoutSpec(spec.paper, spec.rows, spec.name_fields, spec.other_fields, alphabet="cyrillic")
    assert cyrillic.code == old + "/c"


def test_malformed_codes_are_refused() -> None:
    bad_codes = ("", "L1/A4", "X1/A4/3/n10/", "L1/A5/3/n10/", "L1/A4/x/n10/", "L1/A4/3/q10/", "L1/A4/3/n10//x")
    for bad in (*bad_codes, "L1/A4/3/n10///c", "L1/A4/3/n10//"):
        with pytest.raises(ValueError):
            geometry.parse_layout_code(bad)


def test_boxes_do_not_overlap_and_stay_on_the_page() -> None:
    sheet = geometry.sheet_geometry(_spec(rows=geometry.max_rows("A4", True)))
    width, height = sheet.page_size_mm
    rects = [b for row in sheet.rows for f in row.fields for b in (f.boxes_mm or (f.rect_mm,))]
    for x0, y0, x1, y1 in rects:
        assert 0 < x0 < x1 < width and 0 < y0 < y1 < height
        assert x1 - x0 >= 5.0 and y1 - y0 >= 6.5  # sized for real handwriting
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    markers = [m.rect_mm for m in sheet.markers]
    for m in markers:
        for r in rects:
            assert m[2] <= r[0] or r[2] <= m[0] or m[3] <= r[1] or r[3] <= m[1]


def test_name_boxes_are_in_writing_order() -> None:
    row = geometry.sheet_geometry(_spec()).rows[0]
    boxes = row.name_boxes_mm
    assert len(boxes) == 24
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)


def test_marker_ids_distinct_per_corner() -> None:
    ids = _spec().marker_ids
    assert len(set(ids)) == 4 and ids[0] % 4 == 0 and max(ids) < 1000


def test_too_many_boxes_shrink_then_fail() -> None:
    names, _ = geometry.fit_box_counts("A4", (FieldSpec("first_name", 20), FieldSpec("surname", 20)), ())
    assert geometry._band_width_mm(names) <= 200
    with pytest.raises(CampaignError):
        geometry.fit_box_counts("A4", tuple(FieldSpec(f"f{i}", 10) for i in range(6)), ())


def test_too_many_rows_is_a_campaign_error() -> None:
    with pytest.raises(CampaignError, match="rows do not fit"):
        geometry.sheet_geometry(_spec(rows=40))
