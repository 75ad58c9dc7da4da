"""Cyrillic sheets: written in held-out Cyrillic hands, with Russian and Kazakh names, truth in Cyrillic."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from petitionscan.alphabets import CYRILLIC, KAZAKH, LATIN
from petitionscan.forms import generate
from petitionscan.recognize.render import cyrillic_split
from petitionscan.simulate import TRUTH_HEADER, simulate
from petitionscan.simulate import handwriting as hw
from petitionscan.simulate.layout import load_layout
from petitionscan.simulate.names import person_for_row, random_cyrillic_person, to_cyrillic_capitals

CAMPAIGNS = Path(__file__).resolve().parents[2] / "petitionscan" / "forms" / "campaigns"


def _truth(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _written_in(text: str, letters: str) -> bool:
    return all(c in letters or c in "-' " for c in text)


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Sheets of the Kazakh campaign and of a Latin-or-Cyrillic copy of it."""
    folder = tmp_path_factory.mktemp("cyr-sheets")
    both = folder / "both.toml"
    text = (CAMPAIGNS / "mangystau-kk.toml").read_text(encoding="utf-8")
    both.write_text(text.replace('alphabet = "cyrillic"', 'alphabet = "latin+cyrillic"'), encoding="utf-8")
    out: dict[str, tuple[Path, Path]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PETITIONSCAN_HOME", str(folder / "home"))
        for name, path, sheets in (("kk", CAMPAIGNS / "mangystau-kk.toml", 1), ("both", both, 3)):
            pdf, layout = folder / f"{name}.pdf", folder / f"{name}.json"
            generate(path, sheets=sheets, out=pdf, layout_out=layout, with_appeal=False)
            out[name] = (pdf, layout)
    return out


def test_layout_file_tells_the_simulator_the_alphabet(campaigns: dict[str, tuple[Path, Path]]) -> None:
    assert {p.alphabet for p in load_layout(campaigns["kk"][1])} == {"cyrillic"}
    assert {p.alphabet for p in load_layout(campaigns["both"][1])} == {"latin+cyrillic"}


def test_cyrillic_hands_come_from_held_out_sessions_only() -> None:
    folder = hw.handwriting_dir()
    if not (folder / "cyrillic.npz").is_file():
        pytest.skip("the shared handwriting folder is not present")
    hands = hw.load_cyrillic_writers(str(folder))
    assert hands and all(h.source == hw.CYRILLIC_SOURCE for h in hands)
    groups = {h.writer_id.removeprefix("cyr-") for h in hands}
    assert all(cyrillic_split(g) == "test" for g in groups)
    # Every Russian glyph is one drawing of those sessions: count them from the file itself.
    with np.load(folder / "cyrillic.npz") as data:
        labels, writers = data["labels"], data["writers"]
    expected = Counter(str(lab) for lab, w in zip(labels, writers, strict=True) if str(w) in groups)
    got = Counter(c for h in hands for c, gs in h.glyphs.items() for _ in gs if c not in KAZAKH)
    assert got == expected
    assert all(len(h.glyphs) >= hw.MIN_SESSION_LETTERS for h in hands)
    covered = {c for h in hands for c in h.glyphs}
    assert set(CYRILLIC) <= covered  # the nine Kazakh letters too


def _bar(width: int, height: int = 40) -> np.ndarray:
    """A drawing (dark on white) whose ink is a ``width`` x ``height`` block: its glyph's width names it."""
    img = np.full((64, 64), 255, np.uint8)
    img[10 : 10 + height, 4 : 4 + width] = 0
    return img


def test_only_held_out_kazakh_drawings_write_the_kazakh_letters(tmp_path: Path) -> None:
    """Ә and Һ come from kazakh.npz's test split alone: the recognizer trains on the rest."""
    from petitionscan.recognize.render import kazakh_split

    letters = "АБВГДКНО"
    np.savez(
        tmp_path / "cyrillic.npz",
        images=np.stack([_bar(12 + i) for i in range(len(letters))]),
        labels=np.array(list(letters)),
        writers=np.array(["5"] * len(letters)),  # one held-out (test) session
    )
    labels = ["Ә" if i % 3 else "Һ" for i in range(30)]
    drawings = [_bar(8 + i) for i in range(30)]  # every drawing a different width
    np.savez(tmp_path / "kazakh.npz", images=np.stack(drawings), labels=np.array(labels))

    def widths(split: str, letter: str) -> set[float]:
        found = set()
        for i, (img, label) in enumerate(zip(drawings, labels, strict=True)):
            glyph = hw._raster_glyph(letter, img)
            if label == letter and kazakh_split(i) == split and glyph is not None:
                found.add(glyph.width)
        return found

    (hand,) = hw.load_cyrillic_writers(str(tmp_path))
    for letter in ("Ә", "Һ"):
        used = {g.width for g in hand.glyphs[letter]}
        held_out = widths("test", letter)
        trained = widths("train", letter) | widths("val", letter)
        assert held_out and trained and not held_out & trained
        assert used and used <= held_out, (letter, used, held_out)


def test_validation_hands_come_from_validation_sessions_only(tmp_path: Path) -> None:
    """Sheets to choose settings on are written by the validation sessions (and validation
    Kazakh drawings), never by the test sessions the benchmark figures are read on."""
    from petitionscan.recognize.render import kazakh_split

    letters = "АБВГДКНО"
    sessions = ["5", "6", "7"]  # test, validation, training
    np.savez(
        tmp_path / "cyrillic.npz",
        images=np.stack([_bar(12 + i) for _ in sessions for i in range(len(letters))]),
        labels=np.array([c for _ in sessions for c in letters]),
        writers=np.array([g for g in sessions for _ in letters]),
    )
    labels = ["Ә" if i % 3 else "Һ" for i in range(30)]
    drawings = [_bar(8 + i) for i in range(30)]
    np.savez(tmp_path / "kazakh.npz", images=np.stack(drawings), labels=np.array(labels))
    assert [h.writer_id for h in hw.load_cyrillic_writers(str(tmp_path))] == ["cyr-5"]
    (hand,) = hw.load_cyrillic_writers(str(tmp_path), "val")
    assert hand.writer_id == "cyr-6"
    val_widths = {
        g.width
        for i, (img, label) in enumerate(zip(drawings, labels, strict=True))
        if kazakh_split(i) == "val" and (g := hw._raster_glyph(label, img)) is not None
    }
    used = {g.width for letter in ("Ә", "Һ") for g in hand.glyphs[letter]}
    assert used and used <= val_widths


def test_a_kazakh_capital_is_its_base_letter_with_a_mark() -> None:
    folder = hw.handwriting_dir()
    if not (folder / "cyrillic.npz").is_file():
        pytest.skip("the shared handwriting folder is not present")
    hand = next(h for h in hw.load_cyrillic_writers(str(folder)) if "Қ" in h.glyphs and "К" in h.glyphs)
    base, marked = hand.glyphs["К"][0], hand.glyphs["Қ"][0]
    assert base.mask is not None and marked.mask is not None
    # The tail hangs below the same drawing of К: the letter gets taller for its width.
    assert marked.width < base.width


def test_cyrillic_sheet_is_written_in_cyrillic(campaigns: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    pdf, layout = campaigns["kk"]
    result = simulate(pdf, layout, tmp_path, seed=4, fill=1.0)
    with result.truth.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == TRUTH_HEADER and header[-1] == "script"
    rows = _truth(result.truth)
    written = [r for r in rows if r["name"]]
    assert written and all(r["script"] == "cyrillic" for r in written)
    assert all(r["script"] == "" for r in rows if not r["name"])
    for r in written:
        assert _written_in(r["name"], CYRILLIC), r["name"]
        for key in ("workplace", "town", "union"):
            assert _written_in(r[key], CYRILLIC), r[key]
    assert any(set(r["name"]) - set(LATIN) - set(" -'") for r in written)


def test_latin_or_cyrillic_sheets_mix_signers_each_in_one_script(
    campaigns: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    pdf, layout = campaigns["both"]
    latin_hands = hw.load_font_writers(hw.font_paths())
    result = simulate(pdf, layout, tmp_path, seed=2, fill=1.0, hands=latin_hands)
    written = [r for r in _truth(result.truth) if r["name"]]
    scripts = Counter(r["script"] for r in written)
    assert set(scripts) == {"latin", "cyrillic"}
    for r in written:
        letters = CYRILLIC if r["script"] == "cyrillic" else LATIN
        assert _written_in(r["name"], letters), (r["script"], r["name"])


def test_cyrillic_without_the_shared_folder_uses_fonts_with_cyrillic(
    campaigns: dict[str, tuple[Path, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(hw.HANDWRITING_ENV, str(tmp_path / "nothing-here"))
    hands = hw.available_cyrillic_hands()
    assert hands and all(h.source == "font" for h in hands)
    assert all(set(CYRILLIC) <= set(h.glyphs) for h in hands)
    pdf, layout = campaigns["kk"]
    result = simulate(pdf, layout, tmp_path / "out", seed=1, fill=0.5)
    assert result.filled_rows > 0


def test_cyrillic_names_use_only_russian_and_kazakh_capitals() -> None:
    rng = np.random.default_rng(7)
    people = [random_cyrillic_person(rng) for _ in range(400)]
    letters = Counter(c for p in people for c in p.name)
    assert all(c in CYRILLIC or c in "-' " for c in letters)
    assert {p.locale for p in people} == {"kk", "ru_RU", "uk_UA"}
    assert sum(letters[c] for c in KAZAKH) > 50  # Kazakh names bring their own letters
    assert all(p.script == "cyrillic" for p in people)
    person = person_for_row(rng, 6, 7, 14, script="cyrillic")
    assert len(person.first_name) <= 6 and len(person.surname) <= 7


def test_ukrainian_letters_are_written_as_their_russian_or_kazakh_neighbours() -> None:
    assert to_cyrillic_capitals("Ґалина Їжакевич-Євтушенко") == "ГАЛИНА ІЖАКЕВИЧ-ЕВТУШЕНКО"
    assert to_cyrillic_capitals("Валер’ян") == "ВАЛЕР'ЯН"
