"""Handwriting sources: held-out writers only; shipped strokes, then a font, without the shared data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from petitionscan.simulate import handwriting as hw
from petitionscan.simulate import simulate
from petitionscan.simulate.names import person_for_row, random_person, to_capitals
from petitionscan.simulate.writers import pick_glyph, random_signer

from .conftest import Sheets


def test_only_held_out_writers_are_used() -> None:
    hands = hw.load_stroke_writers(str(hw.handwriting_dir()))
    if not hands:
        pytest.skip("the shared handwriting folder is not present")
    for hand in hands:
        if hand.source == "unipen":
            assert hand.writer_id.split("-", 1)[0] in hw.HELD_OUT_UNIPEN_LABS
        else:
            assert hand.source == "uji1" and hand.writer_id.startswith("UJI_")
    assert {h.source for h in hands} == {"unipen", "uji1"}


def test_other_labs_can_be_asked_for_without_the_uji_writers() -> None:
    hands = hw.load_stroke_writers(str(hw.handwriting_dir()), ("aga", "kai"), uji=False)
    if not hands:
        pytest.skip("the shared handwriting folder is not present")
    assert {h.writer_id.split("-", 1)[0] for h in hands} == {"aga", "kai"}
    assert {h.source for h in hands} == {"unipen"}


def test_given_hands_replace_the_default_writers(
    sheets: Sheets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import petitionscan.simulate as sim

    hands = hw.load_font_writers(hw.font_paths())[:1]
    monkeypatch.setattr(sim, "handwriting_source", lambda: pytest.fail("the default writers were used"))
    result = simulate(sheets.pdf, sheets.layout, tmp_path, seed=1, max_sheets=1, hands=hands)
    assert result.files


def test_a_font_in_several_files_is_one_writer_taking_each_letter_from_the_first_file_that_draws_it(
    tmp_path: Path,
) -> None:
    from petitionscan.alphabets import CYRILLIC
    from petitionscan.fonts import font_path

    bold, regular = str(font_path("DejaVuSans-Bold.ttf")), str(font_path("DejaVuSans.ttf"))
    (alone_bold,) = hw.load_font_writers((bold,), CYRILLIC)
    (alone_regular,) = hw.load_font_writers((regular,), CYRILLIC)
    (both,) = hw.load_font_writers(((bold, regular),), CYRILLIC)
    assert both.writer_id == "DejaVuSans-Bold" and set(both.glyphs) == set(CYRILLIC)
    assert all(_same(both.glyphs[c][0], alone_bold.glyphs[c][0]) for c in CYRILLIC)
    assert not all(_same(both.glyphs[c][0], alone_regular.glyphs[c][0]) for c in CYRILLIC)
    # A file that cannot be read gives no letters; the next one gives them all.
    (fallback,) = hw.load_font_writers(((str(tmp_path / "missing.woff"), regular),), CYRILLIC)
    assert all(_same(fallback.glyphs[c][0], alone_regular.glyphs[c][0]) for c in CYRILLIC)


def _same(a: hw.Glyph, b: hw.Glyph) -> bool:
    return a.width == b.width and a.mask is not None and b.mask is not None and np.array_equal(a.mask, b.mask)


def test_a_signer_keeps_one_hand_and_borrows_missing_letters() -> None:
    hands = hw.available_hands()
    rng = np.random.default_rng(0)
    for _ in range(20):
        signer = random_signer(hands, rng)
        for ch in hw.LETTERS:
            glyph = pick_glyph(signer, ch, rng)
            assert glyph.char == ch
            own = signer.hand.glyphs.get(ch, ())
            assert (glyph in own) == bool(own)


def test_shipped_strokes_stand_in_without_the_shared_folder(
    sheets: Sheets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(hw.HANDWRITING_ENV, str(tmp_path / "no-such-folder"))
    hands, line = hw.handwriting_source()
    assert len(hands) == 11 and all(h.source == "uji1" and h.writer_id.startswith("UJI_W") for h in hands)
    assert all(set(h.glyphs) == set(hw.LETTERS) for h in hands)
    assert all(g.strokes and g.mask is None for h in hands for gs in h.glyphs.values() for g in gs)
    assert "shipped with petitionscan" in line
    result = simulate(sheets.pdf, sheets.layout, tmp_path / "out", profile="flatbed", seed=4, fill=1.0)
    assert result.handwriting == line
    assert result.filled_rows == result.rows
    with result.truth.open(newline="", encoding="utf-8") as fh:
        assert all(r["name"] for r in csv.DictReader(fh))


def test_the_shipped_dejavu_is_the_last_resort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hw.HANDWRITING_ENV, str(tmp_path / "no-such-folder"))
    monkeypatch.setattr(hw, "PACKAGED_STROKES", "no-such-file.json.gz")
    hw.load_packaged_writers.cache_clear()
    try:
        hands, line = hw.handwriting_source()
    finally:
        hw.load_packaged_writers.cache_clear()
    assert "font" in line
    paths = hw.font_paths()
    assert len(paths) == 1 and Path(paths[0]).name == "DejaVuSans.ttf"
    assert Path(paths[0]).parent == Path(hw.__file__).parents[1] / "fontfiles"
    assert all(set(h.glyphs) == set(hw.LETTERS) for h in hands)


def test_an_installed_package_does_not_look_beside_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hw.HANDWRITING_ENV, raising=False)
    fake = tmp_path / "site-packages" / "petitionscan" / "simulate" / "handwriting.py"
    monkeypatch.setattr(hw, "__file__", str(fake))
    assert not hw.handwriting_dir().exists()
    (tmp_path / "site-packages" / "pyproject.toml").parent.mkdir(parents=True)
    (tmp_path / "site-packages" / "pyproject.toml").write_text("")
    assert hw.handwriting_dir() == tmp_path / "shared" / "handwriting"


def test_names_fit_their_boxes_and_use_only_box_characters() -> None:
    rng = np.random.default_rng(5)
    marks = {"'": 0, "-": 0}
    for _ in range(400):
        p = person_for_row(rng, 11, 13, 24)
        assert 1 <= len(p.first_name) <= 11 and 1 <= len(p.surname) <= 13
        assert set(p.name) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ'- ")
        q = person_for_row(rng, None, None, 20)
        assert len(q.name) <= 20 and q.name.count(" ") == 1
        for m in marks:
            marks[m] += m in p.name
    assert marks["'"] > 0 and marks["-"] > 0
    assert to_capitals("Äpfel-Müller") == "APFEL-MULLER"
    assert to_capitals("Нұрлан") == "NURLAN"
    locales = {random_person(rng).locale for _ in range(200)}
    assert {"kk", "ru_RU"} <= locales


def test_paper_hands_hold_only_held_out_test_letters() -> None:
    from petitionscan.recognize.render import is_doubtful, load_paper_letters, paper_split

    folder = hw.handwriting_dir()
    if not (folder / "emnist-upper.npz").exists():
        pytest.skip("real handwriting folder not present")
    hands = hw.load_paper_writers(str(folder), "test")
    assert len(hands) >= 20
    glyphs = [g for h in hands for gs in h.glyphs.values() for g in gs]
    assert all(h.source == "paper" for h in hands)
    assert all(g.mask is not None and g.mask.shape[0] == 96 for g in glyphs)
    assert {g.char for g in glyphs} == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    # exactly the test half of the held-out population, without a lower-case l in an L box
    expected = [
        s
        for s in load_paper_letters(folder / "emnist-upper.npz", ["sd19-hsf0123"])
        if paper_split(s.writer) == "test" and not is_doubtful(s)
    ]
    assert len(glyphs) == len(expected)


def test_drawings_are_brought_toward_a_pens_width() -> None:
    """A mouse's hairline is thickened and a finger's broad stroke thinned, toward a ballpoint's line."""
    import cv2

    from petitionscan.simulate.handwriting import DRAWING_STROKE, MASK_HEIGHT, _to_pen_width

    def stroke_width(mask: np.ndarray) -> float:
        ink = (mask > 0.5).astype(np.uint8)
        contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        return 2.0 * float(ink.sum()) / sum(cv2.arcLength(c, True) for c in contours)

    def letter_l(width: int) -> np.ndarray:
        mask = np.zeros((MASK_HEIGHT, 70), np.float32)
        cv2.polylines(mask, [np.array([[20, 8], [20, 86], [60, 86]], np.int32)], False, 1.0, width)
        return mask

    target = DRAWING_STROKE * MASK_HEIGHT
    hairline, broad = letter_l(2), letter_l(16)
    assert stroke_width(hairline) < stroke_width(_to_pen_width(hairline)) <= target + 1
    assert target - 1 <= stroke_width(_to_pen_width(broad)) < stroke_width(broad)
