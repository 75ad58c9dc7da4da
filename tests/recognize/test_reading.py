"""The real model on real handwriting of writers it never saw (UJI), and on
deliberately ambiguous or awkward boxes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from petitionscan.recognize import FieldImage, Reading, get_engine
from petitionscan.recognize.cnn import FieldEvidence
from petitionscan.recognize.names import GIVEN, SEPARATOR_CAP, SURNAME
from petitionscan.recognize.render import field_layout, render_field

from .conftest import hershey_field, write_name


def letter_share(fields: list[FieldImage], readings: list[Reading]) -> float:
    """Share of written letters read right, position by position (each field's key is its truth)."""
    letters = sum(len(f.key) for f in fields)
    right = sum(a == b for f, r in zip(fields, readings, strict=False) for a, b in zip(f.key, r.text, strict=False))
    return right / letters


NAMES = ("MARIA", "IVANOV", "JOHN", "KOWALSKI", "DUPONT", "AYGERIM", "PETERS", "SMITH")


def test_reads_real_handwritten_names(uji_hands) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    engine = get_engine("cnn")
    writers = sorted(uji_hands)
    fields = [write_name(uji_hands[writers[i % len(writers)]], name, rng) for i, name in enumerate(NAMES * 2)]
    readings = engine.read(fields)
    exact = sum(f.key == r.text for f, r in zip(fields, readings, strict=False))
    assert letter_share(fields, readings) >= 0.93
    assert exact >= 0.75 * len(fields)
    # Confident readings are right: the calibrated confidence means something.
    confident = [f.key == r.text for f, r in zip(fields, readings, strict=False) if r.confidence >= 0.9]
    assert all(confident)


def test_reads_real_handwriting_on_degraded_paper(uji_hands) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(8)
    engine = get_engine("cnn")
    writers = sorted(uji_hands)
    fields = [
        write_name(uji_hands[writers[(i + 3) % len(writers)]], name, rng, degrade=True)
        for i, name in enumerate(NAMES * 2)
    ]
    readings = engine.read(fields)
    assert letter_share(fields, readings) >= 0.9


def test_blank_boxes_make_one_space_and_edges_are_dropped() -> None:
    engine = get_engine("cnn")
    _w, _h, _boxes = field_layout(10)
    base = hershey_field("  ANNA  LI", boxes=10)
    reading = engine.read([base])[0]
    assert reading.text == "ANNA LI"
    assert [lr.box for lr in reading.letters] == [2, 3, 4, 5, 8, 9]


def _letter_field(uji_hands, ch: str, writer: str) -> FieldImage:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    img, boxes, blank = render_field([uji_hands[writer][ch][0]], rng, degrade=False)
    return FieldImage(ch, img, boxes, blank, 8.0)


def test_ambiguous_letters_get_lower_confidence(uji_hands) -> None:  # type: ignore[no-untyped-def]
    engine = get_engine("cnn")
    clean_p, blend_p, half_p = [], [], []
    for writer in sorted(uji_hands)[:6]:
        o = _letter_field(uji_hands, "O", writer)
        q = _letter_field(uji_hands, "Q", writer)
        hh = _letter_field(uji_hands, "H", writer)
        blend = np.minimum(o.image, q.image)  # an O with half a tail: O or Q?
        blend = ((o.image.astype(np.float32) + blend) / 2).astype(np.uint8)
        x0, _y0, x1, _y1 = hh.boxes_px[0]
        half = hh.image.copy()
        half[:, (x0 + x1) // 2 :] = 255  # half an H
        fields = [
            o,
            hh,
            FieldImage("blend", blend, o.boxes_px, o.blank, 8.0),
            FieldImage("half", half, hh.boxes_px, hh.blank, 8.0),
        ]
        r = engine.read(fields)
        clean_p += [r[0].confidence, r[1].confidence]
        blend_p.append(r[2].confidence)
        half_p.append(r[3].confidence)
    # A single letter's confidence is its calibrated probability: the blend
    # stays mostly an O to the network, half an H is plainly in doubt.
    assert np.mean(blend_p) < np.mean(clean_p) - 0.03
    assert np.mean(half_p) < np.mean(clean_p) - 0.1
    assert max(blend_p + half_p) < 1.0


def test_hyphen_and_apostrophe_by_shape() -> None:
    engine = get_engine("cnn")
    field = hershey_field("ANNA", boxes=8)
    img = field.image.copy()
    x0, y0, x1, y1 = field.boxes_px[4]
    img[(y0 + y1) // 2 - 2 : (y0 + y1) // 2 + 2, x0 + 12 : x1 - 12] = 0  # a dash
    x0, y0, x1, y1 = field.boxes_px[1]
    field = hershey_field("O BRIEN", boxes=8)
    img2 = field.image.copy()
    img2[y0 + 6 : y0 + 20, (x0 + x1) // 2 - 2 : (x0 + x1) // 2 + 2] = 0  # a tick
    blank2 = tuple(False if i == 1 else b for i, b in enumerate(field.blank))
    readings = engine.read(
        [
            FieldImage("a", img, field.boxes_px, tuple(i > 4 for i in range(8)), 8.0),
            FieldImage("b", img2, field.boxes_px, blank2, 8.0),
        ]
    )
    assert readings[0].text == "ANNA-"
    assert readings[1].text == "O'BRIEN"


def test_two_letters_in_one_box_lower_the_confidence() -> None:
    engine = get_engine("cnn")
    single = hershey_field("AN", boxes=4)
    squeezed = single.image.copy()
    x0, _y0, x1, y1 = single.boxes_px[1]
    squeezed[:, x0 - 2 : x1 + 6] = 255
    # Two narrow letters drawn inside box 1.
    import cv2

    cv2.putText(squeezed, "O", (x0 + 1, y1 - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 0, 3)
    cv2.putText(squeezed, "C", (x0 + 24, y1 - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 0, 3)
    r = engine.read([single, FieldImage("sq", squeezed, single.boxes_px, single.blank, 8.0)])
    # What matters is that it goes to a person; the gap (0.14-0.2 with the calibrations so far) shows why.
    assert r[1].confidence < r[0].confidence - 0.1
    assert r[1].confidence < engine.auto_threshold  # type: ignore[attr-defined]


def test_letter_spilling_into_the_next_box_stays_one_letter() -> None:
    engine = get_engine("cnn")
    field = hershey_field("LEA", boxes=5)
    img = field.image.copy()
    x0, y0, x1, y1 = field.boxes_px[2]
    # The A's crossbar runs on into box 3, which the scan saw ink in.
    img[(y0 + y1) // 2 + 4 : (y0 + y1) // 2 + 7, (x0 + x1) // 2 : x1 + 14] = 0
    blank = (False, False, False, False, True)
    r = engine.read([FieldImage("spill", img, field.boxes_px, blank, 8.0)])[0]
    assert r.text == "LEA"


def test_reads_through_scan_marks(uji_hands) -> None:  # type: ignore[no-untyped-def]
    """Broken strokes, patchy ink and dotted outlines (as left by the scan stage) are survivable."""
    rng = np.random.default_rng(21)
    engine = get_engine("cnn")
    writers = sorted(uji_hands)
    fields = []
    for i, name in enumerate(NAMES * 2):
        hand = uji_hands[writers[(i + 5) % len(writers)]]
        letters = [hand[ch][-1] for ch in name] + [None] * (10 - len(name))
        img, bx, blank = render_field(letters, rng, degrade=True, scan_marks=True)
        assert img.shape == render_field(letters, rng, degrade=False)[0].shape
        fields.append(FieldImage(name, img, bx, blank, 8.0))
    readings = engine.read(fields)
    assert letter_share(fields, readings) >= 0.85


def test_faint_photocopied_strokes_are_read_whole() -> None:
    """Pen strokes a photocopier turned light grey (about 190 on white) stay whole letters."""
    engine = get_engine("cnn")
    field = hershey_field("DANILOV", boxes=10)
    faint = (255.0 - (255.0 - field.image.astype(np.float32)) * (65.0 / 255.0)).astype(np.uint8)
    assert faint.min() >= 189
    reading = engine.read([FieldImage("faint", faint, field.boxes_px, field.blank, field.px_per_mm)])[0]
    assert reading.text == "DANILOV"


def test_a_name_field_read_as_two_words_goes_to_a_person() -> None:
    """A blank box inside a first-name or surname field: maybe a lost apostrophe, never auto."""
    engine = get_engine("cnn")

    def sure(text: str, kind: str | None) -> FieldEvidence:
        words = [[i for i, _ in w] for w in _words_with_boxes(text)]
        dists = {i: [(ch, 0.995), ("X", 0.005)] for w in _words_with_boxes(text) for i, ch in w}
        return FieldEvidence(tuple(tuple(w) for w in words), dists, False, kind)

    threshold = engine.auto_threshold  # type: ignore[attr-defined]
    reading_of = engine.reading_of  # type: ignore[attr-defined]
    one_field = reading_of(sure("ANNA PETROVA", None))
    assert one_field.text == "ANNA PETROVA" and one_field.confidence >= threshold
    for kind, word, two_words in ((GIVEN, "MARIANNA", "ANNA MARIA"), (SURNAME, "IVANOVA", "IVANOVA PETROVA")):
        assert reading_of(sure(word, kind)).confidence >= threshold
        split = reading_of(sure(two_words, kind))
        assert split.text == two_words and split.confidence <= SEPARATOR_CAP < threshold


def test_a_name_begun_after_an_empty_first_box_goes_to_a_person() -> None:
    """ASEL with its A too faint to see reads SEL, a listed name, with sure letters: an empty first
    box before written ones sends the field to a person. The same letters from the first box do not."""
    engine = get_engine("cnn")
    threshold = engine.auto_threshold  # type: ignore[attr-defined]
    reading_of = engine.reading_of  # type: ignore[attr-defined]

    def sure(text: str, first_box: int) -> FieldEvidence:
        boxes = tuple(range(first_box, first_box + len(text)))
        dists = {b: [(ch, 0.995), ("X", 0.005)] for b, ch in zip(boxes, text, strict=True)}
        return FieldEvidence((boxes,), dists, False, GIVEN)

    assert reading_of(sure("SEL", 0)).confidence >= threshold
    late = reading_of(sure("SEL", 1))
    assert late.text == "SEL" and late.confidence <= SEPARATOR_CAP < threshold
    assert [lr.box for lr in late.letters] == [1, 2, 3]


def _words_with_boxes(text: str) -> list[list[tuple[int, str]]]:
    """Words of ``text`` as (box, letter) lists, a blank box at each space."""
    words: list[list[tuple[int, str]]] = [[]]
    for i, ch in enumerate(text):
        if ch == " ":
            words.append([])
        else:
            words[-1].append((i, ch))
    return words


def _apostrophe_field() -> tuple[FieldImage, int]:
    """OL'EV with clean boxes: returns the field and the apostrophe's box."""
    import cv2

    field = hershey_field("OL EV", boxes=8)
    img = field.image.copy()
    x0, y0, x1, _y1 = field.boxes_px[2]
    cv2.line(img, ((x0 + x1) // 2 + 2, y0 + 4), ((x0 + x1) // 2 - 1, y0 + 17), 0, 4)  # the tick
    blank = tuple(False if i == 2 else b for i, b in enumerate(field.blank))
    return FieldImage("OL'EV", img, field.boxes_px, blank, 8.0), 2


def _with_tick(field: FieldImage, k: int) -> FieldImage:
    """The field with an apostrophe-like tick drawn in box ``k``, which the scan stage saw written."""
    import cv2

    img = field.image.copy()
    x0, y0, x1, _y1 = field.boxes_px[k]
    cv2.line(img, ((x0 + x1) // 2 + 2, y0 + 4), ((x0 + x1) // 2 - 1, y0 + 17), 0, 4)
    blank = tuple(False if i == k else b for i, b in enumerate(field.blank))
    return dataclasses.replace(field, image=img, blank=blank)


def test_a_mark_alone_after_the_name_is_left_out_and_the_field_goes_to_a_person() -> None:
    """GULNAR ISATAEVA read "ISATAEVA '": a tick alone between blank boxes after the name (a
    speck, a stroke spilled from the row above) is no part of it. A field of nothing else keeps it."""
    engine = get_engine("cnn")
    threshold = engine.auto_threshold  # type: ignore[attr-defined]
    name = hershey_field("KAREN", boxes=10)
    plain, marked, alone = engine.read([name, _with_tick(name, 7), _with_tick(hershey_field("", boxes=10), 3)])
    assert plain.text == "KAREN" and plain.confidence >= threshold
    assert marked.text == "KAREN" and marked.confidence <= SEPARATOR_CAP < threshold
    assert [lr.box for lr in marked.letters] == [0, 1, 2, 3, 4]
    assert alone.text == "'"


def test_an_apostrophe_with_a_speck_below_is_still_an_apostrophe() -> None:
    field, k = _apostrophe_field()
    img = field.image.copy()
    _x0, _y0, x1, y1 = field.boxes_px[k]
    img[y1 - 5 : y1 - 2, x1 - 6 : x1 - 3] = 0  # a 3 x 3 speck in the box's lower corner
    clean, specked = get_engine("cnn").read([field, dataclasses.replace(field, image=img)])
    assert clean.text == "OL'EV"
    assert specked.text == "OL'EV"


def test_an_apostrophe_next_to_a_letter_written_close_is_still_an_apostrophe() -> None:
    import cv2

    field, k = _apostrophe_field()
    img = field.image.copy()
    x0, y0, x1, y1 = field.boxes_px[k + 1]
    img[y0 + 2 : y1 - 2, x0 - 2 : x1 + 2] = 255  # the E redrawn further left: its stem in the gap
    stem = field.boxes_px[k][2] + 1
    cv2.line(img, (stem, y0 + 10), (stem, y1 - 10), 0, 4)
    for y in (y0 + 10, (y0 + y1) // 2, y1 - 10):
        cv2.line(img, (stem, y), (x0 + 20, y), 0, 4)
    (reading,) = get_engine("cnn").read([dataclasses.replace(field, image=img)])
    assert reading.text == "OL'EV"


def test_an_apostrophe_written_low_is_never_a_sure_letter() -> None:
    """NATAL'YA with the tick at mid-height: too low for the apostrophe rule, so the
    network reads it (an I, as often as not), but a mark that short among tall letters
    may be an apostrophe: the name goes to a person, however sure the network is."""
    import cv2

    from petitionscan.recognize.glyph import extract_glyphs

    field = hershey_field("NATAL YA", boxes=10)
    img = field.image.copy()
    x0, y0, x1, y1 = field.boxes_px[5]
    bh = y1 - y0
    top, bottom = y0 + round(0.5 * bh), y0 + round(0.64 * bh)  # half the letters' height, its foot below 0.55
    cv2.line(img, ((x0 + x1) // 2 + 1, top), ((x0 + x1) // 2 - 1, bottom), 0, 4)
    blank = tuple(False if i == 5 else b for i, b in enumerate(field.blank))
    low = FieldImage("NATAL'YA", img, field.boxes_px, blank, 8.0)
    glyphs = extract_glyphs(low.image, low.boxes_px, low.blank, low.px_per_mm)
    assert glyphs[5].kind == "letter" and glyphs[5].tick_like
    assert not any(g.tick_like for i, g in enumerate(glyphs) if i != 5)
    engine = get_engine("cnn")
    (reading,) = engine.read([low])
    assert reading.text in ("NATAL'YA", "NATALIYA", "NATAL YA")
    assert reading.confidence <= SEPARATOR_CAP < engine.auto_threshold  # type: ignore[attr-defined]
    assert "'" in {c for lr in reading.letters for c, _ in lr.alternatives}
    # An I as tall as the letters beside it is no apostrophe: nothing flagged, the name as sure as before.
    plain = hershey_field("IVAN", boxes=6)
    assert not any(g.tick_like for g in extract_glyphs(plain.image, plain.boxes_px, plain.blank, 8.0))
    (ev,) = engine.evidence([plain])  # type: ignore[attr-defined]
    assert not ev.maybe_apostrophe


def test_a_two_script_row_goes_to_the_script_whose_lists_know_its_words() -> None:
    """ВИКТОР МАРКОВ written in shapes the Latin network takes as BUKTOP MAPKOB, each
    letter a little surer there: the known names decide for Cyrillic."""
    engine = get_engine("cnn")

    def seen(text: str, p: float, script: str, kind: str, rest: str) -> FieldEvidence:
        dists = {i: [(ch, p), (rest, 1 - p)] for i, ch in enumerate(text)}
        return FieldEvidence((tuple(range(len(text))),), dists, False, kind, script)

    evs = [
        dataclasses.replace(seen(latin, 0.99, "latin", kind, "X"), other=seen(cyrillic, 0.9, "cyrillic", kind, "Ж"))
        for latin, cyrillic, kind in (("BUKTOP", "ВИКТОР", GIVEN), ("MAPKOB", "МАРКОВ", SURNAME))
    ]
    readings = engine.readings_of(evs, [1, 1])  # type: ignore[attr-defined]
    assert [r.text for r in readings] == ["ВИКТОР", "МАРКОВ"]
    assert {r.script for r in readings} == {"cyrillic"}


def _two_scripts(latin: str, p_latin: float, cyrillic: str, p_cyrillic: float, kind: str | None) -> FieldEvidence:
    """One field read by both networks: each letter at its probability, the rest on one other letter."""

    def seen(text: str, p: float, script: str, rest: str) -> FieldEvidence:
        dists = {i: [(ch, p), (rest, 1 - p)] for i, ch in enumerate(text)}
        return FieldEvidence((tuple(range(len(text))),), dists, False, kind, script)

    return dataclasses.replace(seen(latin, p_latin, "latin", "X"), other=seen(cyrillic, p_cyrillic, "cyrillic", "Ж"))


def test_the_name_fields_choose_a_rows_script_and_the_workplace_follows() -> None:
    """The workplace field (ШКОЛА, in shapes the Latin network reads well as WKOLA and
    the Cyrillic one poorly) does not vote: no name list or name statistics speak for
    it. The row goes to the script of its name, the workplace with it."""
    engine = get_engine("cnn")
    name = [
        _two_scripts(latin, 0.99, cyrillic, 0.9, kind)
        for latin, cyrillic, kind in (("BUKTOP", "ВИКТОР", GIVEN), ("MAPKOB", "МАРКОВ", SURNAME))
    ]
    workplace = dataclasses.replace(_two_scripts("WKOLA", 0.999, "ШКОЛА", 0.6, None), name=False)
    readings = engine.readings_of([*name, workplace], [1, 1, 1])  # type: ignore[attr-defined]
    assert [r.text for r in readings] == ["ВИКТОР", "МАРКОВ", "ШКОЛА"]
    assert {r.script for r in readings} == {"cyrillic"}


def test_a_name_no_list_knows_goes_to_the_script_it_looks_like_a_name_in() -> None:
    """ТУРСУНХЕНОВ, in no list of either script, in shapes the Latin network reads as
    TYPCYHXEHOB, each letter surer there: no Latin name looks like that string, and the
    Cyrillic letter statistics find it a likely name."""
    engine = get_engine("cnn")
    ev = _two_scripts("TYPCYHXEHOB", 0.999, "ТУРСУНХЕНОВ", 0.8, SURNAME)
    (reading,) = engine.readings_of([ev], [1])  # type: ignore[attr-defined]
    assert (reading.text, reading.script) == ("ТУРСУНХЕНОВ", "cyrillic")


def test_a_kazakh_letter_split_between_its_twins_is_still_a_surely_seen_cyrillic_letter() -> None:
    """Ұ or У, Ө or О: a box the Cyrillic network cannot tell between twins still holds a
    Cyrillic letter, seen surely, when a row's script is chosen; a Latin box split between
    two letters (U or V) is as unsure as before."""
    from petitionscan.recognize import LetterReading
    from petitionscan.recognize.cnn import _seen

    split = LetterReading(0, "Ұ", (("Ұ", 0.5), ("У", 0.45), ("Ж", 0.05)))
    assert _seen(split) == pytest.approx(0.95)
    assert _seen(LetterReading(0, "У", (("У", 0.5), ("Ж", 0.45), ("Ф", 0.05)))) == pytest.approx(0.5)
    assert _seen(LetterReading(0, "U", (("U", 0.5), ("V", 0.45), ("Y", 0.05)))) == pytest.approx(0.5)
    # A Kazakh surname whose Ө and Ү the network split with their twins, against a Latin
    # reading of the same shapes at 0.85 a letter: the row stays Cyrillic.
    engine = get_engine("cnn")
    latin, cyrillic = "TONEYBAEB", "ТӨЛЕҮБАЕВ"
    twin = {"Ө": "О", "Ү": "У"}
    cyr = {
        i: [(ch, 0.5), (twin[ch], 0.48), ("Ж", 0.02)] if ch in twin else [(ch, 0.95), ("Ж", 0.05)]
        for i, ch in enumerate(cyrillic)
    }
    lat = {i: [(ch, 0.85), ("X", 0.15)] for i, ch in enumerate(latin)}
    boxes = (tuple(range(len(latin))),)
    ev = dataclasses.replace(
        FieldEvidence(boxes, lat, False, SURNAME, "latin"), other=FieldEvidence(boxes, cyr, False, SURNAME, "cyrillic")
    )
    (reading,) = engine.readings_of([ev], [1])  # type: ignore[attr-defined]
    assert reading.script == "cyrillic"


def test_a_boxs_classes_are_ranked_likeliest_first_and_weighed_down_where_the_box_is_doubtful() -> None:
    from petitionscan.recognize.cnn import SPILL_FACTOR, SPLIT_FACTOR, TICK_LIKE_P, _distribution
    from petitionscan.recognize.glyph import KIND_LETTER, Glyph

    values, classes = [0.1, 0.6, 0.3], "ABC"
    order = np.argsort(-np.array(values)).tolist()
    plain = _distribution(Glyph(0, KIND_LETTER, None), values, order, classes)
    assert plain == [("B", 0.6), ("C", 0.3), ("A", 0.1)]
    doubtful = _distribution(Glyph(0, KIND_LETTER, None, split=True, spill=0.5), values, order, classes)
    assert [c for c, _ in doubtful] == [c for c, _ in plain]
    assert [p for _, p in doubtful] == pytest.approx([p * SPLIT_FACTOR * SPILL_FACTOR for _, p in plain])
    tick = _distribution(Glyph(0, KIND_LETTER, None, tick_like=True), values, order, classes)
    assert ("'", TICK_LIKE_P) in tick and [p for _, p in tick] == sorted((p for _, p in tick), reverse=True)
    assert _distribution(Glyph(0, KIND_LETTER, None), [1.0], [0], "A") == [("A", 1.0)]  # one class
