"""The Kazakh names of KazPER in the name lexicons (training/build_names.py) and in the shipped lists."""

from __future__ import annotations

from types import ModuleType

import pytest

from petitionscan.recognize.names import GIVEN, SURNAME, known_name, load_model

from .conftest import training_module


@pytest.fixture(scope="module")
def build_names() -> ModuleType:
    return training_module("build_names")


def test_kazper_rows_hold_both_spellings_and_gender(build_names: ModuleType) -> None:
    rows = {kk: (ru, latin, gender) for kk, ru, latin, gender in build_names.kazper_rows()}
    assert len(rows) > 4000
    assert rows["САЛТАНАТ"][2] == "F"
    assert rows["АҚМАРАЛ"][:1] == ("АКМАРАЛ",)
    assert rows["НҰРЛАН"][2] == "M"


def test_women_give_names_and_men_give_surnames_too(build_names: ModuleType) -> None:
    given, surnames = build_names.kazper()
    assert {"САЛТАНАТ", "ЖҰЛДЫЗ", "ГҮЛЖАН", "АҚМАРАЛ", "АКМАРАЛ"} <= given
    # Surnames are formed from men's names only (a woman's name is no father's name).
    assert {"НҰРЛАНОВ", "НҰРЛАНОВА", "НҰРЛАНҰЛЫ", "НҰРЛАНҚЫЗЫ"} <= surnames
    assert "САЛТАНАТОВ" not in surnames
    # A man's name in its Kazakh spelling is a surname too (ТҰРСЫНБАЙ); the Russian one is not.
    assert {"НҰРЛАН", "ТҰРСЫНБАЙ"} <= surnames
    assert "АБАЙДИЛЬДАН" not in surnames and "САЛТАНАТ" not in surnames
    # No list holds Һ (the reader weighs that letter down, names.UNHEARD_SHARE): ГАУҺАР stays out.
    assert not any("Һ" in w for w in given | surnames)


def test_latin_spellings_from_the_kazakh_the_russian_and_the_passport(build_names: ModuleType) -> None:
    given, surnames = build_names.kazper_latin()
    assert {"SALTANAT", "ZHULDYZ", "AQMARAL", "AKMARAL", "ASSEL"} <= given
    assert {"NURLANOV", "NURLANOVA"} <= surnames


def test_latin_patronymics_also_where_kazakh_and_russian_spellings_agree(build_names: ModuleType) -> None:
    """АЙБЕК is spelt alike in Kazakh and Russian; its son is still AYBEKULY (AIBEKULY as passports
    spell the name), its daughter AYBEKQYZY. A woman's name gives none."""
    _given, surnames = build_names.kazper_latin()
    assert {"AYBEKULY", "AYBEKQYZY", "AIBEKULY", "AIBEKQYZY"} <= surnames
    assert not {"AQMARALULY", "SALTANATQYZY"} & surnames
    # The Russian spelling takes no Kazakh ending where it differs (АБАЙДИЛЬДАН, with its soft sign).
    assert "ABAYDILDANULY" in surnames
    assert "ABAYDIL'DANULY" not in surnames
    assert {"TURSYNBAY", "AIBEK", "AYBEK"} <= surnames
    assert not {"ABAYDIL'DAN", "SALTANAT"} & surnames


@pytest.mark.parametrize(
    ("script", "given", "surname"),
    [("cyrillic", "САЛТАНАТ", "ТҰРҒЫНБАЕВА"), ("latin", "GULZHAN", "QUDAYBERGENOV")],
)
def test_the_shipped_lists_know_kazper_names(script: str, given: str, surname: str) -> None:
    """The lexicons were rebuilt with KazPER: names the lists before it lacked are known."""
    assert known_name(given, load_model(GIVEN, script))
    assert known_name(surname, load_model(SURNAME, script))
