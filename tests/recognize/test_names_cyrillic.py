"""The Cyrillic name lists: the same format as the Latin ones, over Russian and Kazakh capitals."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from petitionscan.alphabets import CYRILLIC, KAZAKH, LATIN

FOLDER = Path(__file__).resolve().parents[2] / "petitionscan" / "recognize"
LATIN_FILE, CYRILLIC_FILE = FOLDER / "names.json.gz", FOLDER / "names-cyrillic.json.gz"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return data


@pytest.fixture(scope="module")
def cyrillic() -> dict[str, Any]:
    return _load(CYRILLIC_FILE)


@pytest.mark.parametrize(("path", "letters"), [(LATIN_FILE, LATIN), (CYRILLIC_FILE, CYRILLIC)])
def test_both_files_share_one_format(path: Path, letters: str) -> None:
    data = _load(path)
    assert set(data) == {"given", "surnames", "trigrams", "source", "locales"}
    chars = re.escape(letters + "-'")
    # Words start with two '^' markers and end with one '$', as the trigram model expects.
    shape = re.compile(f"(\\^\\^[{chars}]|\\^[{chars}]{{2}}|\\^[{chars}]\\$|[{chars}]{{3}}|[{chars}]{{2}}\\$)")
    assert all(shape.fullmatch(k) and isinstance(v, int) and v > 0 for k, v in data["trigrams"].items())
    word = re.compile(f"[{re.escape(letters)}]+(?:[ '-][{re.escape(letters)}]+)*")
    for key in ("given", "surnames"):
        assert data[key] == sorted(set(data[key]))
        assert all(word.fullmatch(w) for w in data[key]), key


def test_cyrillic_file_is_small(cyrillic: dict[str, Any]) -> None:
    assert CYRILLIC_FILE.stat().st_size < 1_000_000
    assert len(cyrillic["given"]) > 5000 and len(cyrillic["surnames"]) > 20000


def test_russian_and_kazakh_names_are_there(cyrillic: dict[str, Any]) -> None:
    given, surnames = set(cyrillic["given"]), set(cyrillic["surnames"])
    assert {"СЕРГЕЙ", "НАТАЛЬЯ", "АЙГҮЛ", "АЙНҰР", "АЙБИБІ"} <= given
    assert {"ИВАНОВ", "ИВАНОВА", "СОКОЛОВА", "ЖҰМАБАЕВ", "ОСПАНОВ", "АБАЙҰЛЫ"} <= surnames
    # The book "Kazakh names": given names and their surnames in Kazakh spelling.
    assert {"ҚУАНЫШ", "ДӘУЛЕТ", "БҮРКІТ"} <= given and {"ҮМБЕТОВ", "ЖҮСІПОВ", "НҰРЛАНҰЛЫ"} <= surnames
    # Ё as written and as Е, the way many write it.
    assert {"ПЁТР", "ПЕТР"} <= given and {"ФЁДОРОВ", "ФЕДОРОВ"} <= surnames


def test_kazakh_letters_are_in_the_character_model(cyrillic: dict[str, Any]) -> None:
    seen = {c for key in cyrillic["trigrams"] for c in key}
    assert set(KAZAKH) - {"Һ"} <= seen  # Һ, rare in names, is in none of the sources' lists
    assert not seen & set(LATIN)
