"""Name words a person confirmed in the campaign count as known names: a clear
surname the public lists lack is auto-accepted once it is among them, and
nothing else changes."""

from __future__ import annotations

import pickle

from petitionscan.recognize import Reading, name_confidence
from petitionscan.recognize.cnn import CnnRecognizer
from petitionscan.recognize.names import load_model, name_pieces

from .conftest import hershey_field

SURNAME = "ZHAKSYBEK"  # a Kazakh surname, in none of the lexicon's lists
OTHER = "KOSHKARBEK"  # another one, never confirmed


def _name(engine: CnnRecognizer, first: str, surname: str) -> tuple[list[Reading], float]:
    readings = engine.read([hershey_field(first, 12), hershey_field(surname, 12)])
    return readings, name_confidence(readings)


def test_a_confirmed_surname_is_auto_accepted_and_an_unconfirmed_one_is_not() -> None:
    model = load_model()
    assert not model.known(SURNAME) and not model.known(OTHER)
    plain = CnnRecognizer()
    campaign = plain.with_known_words(frozenset({f"Žanar {SURNAME.title()}"}))

    before, p_before = _name(plain, "ANNA", SURNAME)
    after, p_after = _name(campaign, "ANNA", SURNAME)
    assert [r.text for r in before] == [r.text for r in after] == ["ANNA", SURNAME]
    assert p_before < plain.auto_threshold <= p_after

    # Another unknown surname gains nothing from it, and a lexicon name is read as before.
    _, other_plain = _name(plain, "ANNA", OTHER)
    _, other_campaign = _name(campaign, "ANNA", OTHER)
    assert other_campaign == other_plain < plain.auto_threshold
    assert [r.confidence for r in plain.read([hershey_field("IVANOVA", 12)])] == [
        r.confidence for r in campaign.read([hershey_field("IVANOVA", 12)])
    ]


def test_the_words_reach_worker_processes() -> None:
    engine = pickle.loads(pickle.dumps(CnnRecognizer().with_known_words(frozenset({SURNAME}))))
    assert engine.known_words == {SURNAME}
    assert engine.name_model().known(SURNAME)
    assert not load_model().known(SURNAME)  # the shared lexicon itself is untouched


def test_typed_names_are_spelt_as_the_boxes_read() -> None:
    assert name_pieces(["Smith-Jones", "O'Brien  d’Arcy", "Žanar Äbilov", "Иван", "J R", ""]) == {
        "SMITH",
        "JONES",
        "BRIEN",
        "ARCY",
        "ZANAR",
        "ABILOV",
    }
