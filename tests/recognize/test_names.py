"""The name decoder picks between close alternatives with the lexicon and the
trigram model, never overrides a sure letter, and the field confidence does
not trust a name the lexicon does not know when its letters are in doubt."""

from __future__ import annotations

import string
from dataclasses import replace

import numpy as np
import pytest

from petitionscan.recognize import name_confidence
from petitionscan.recognize.cnn import CnnRecognizer, FieldEvidence
from petitionscan.recognize.names import (
    CHARS,
    GIVEN,
    SEPARATOR_CAP,
    SURNAME,
    DecoderParams,
    choose,
    decode,
    field_kind,
    load_model,
    needs_a_person,
)

SURE = DecoderParams().sure


def box(*alts: tuple[str, float]) -> list[tuple[str, float]]:
    """A box's full probability list: the given alternatives, the rest spread thin."""
    used = {c for c, _ in alts}
    rest = max(0.0, 1.0 - sum(p for _, p in alts))
    others = [c for c in string.ascii_uppercase if c not in used]
    return sorted([*alts, *((c, rest / len(others)) for c in others)], key=lambda a: -a[1])


def clear(text: str, p: float = 0.995) -> list[list[tuple[str, float]]]:
    return [box((ch, p)) for ch in text]


def test_real_names_are_likelier_than_misreadings() -> None:
    m = load_model()
    assert m.word_logp("MARIA") > m.word_logp("MAPIA")
    assert m.word_logp("IVANOV") > m.word_logp("IVANQV")
    assert m.known("GORDEEV") and not m.known("GORDEEU")


def test_lexicon_holds_each_source_in_its_list() -> None:
    given, surnames, both = load_model(GIVEN), load_model(SURNAME), load_model()
    assert surnames.known("KILISZEK") and surnames.known("PAZDAN")  # Faker pl_PL's surname list
    assert given.known("ZHANAR")  # Mimesis's Kazakh names
    assert given.known("ERBOLAT") and given.known("ASKHAT")  # OpenCorpora's given names
    assert surnames.known("NURLANOV") and surnames.known("SULTANOVA")  # surnames formed from given names
    # The book "Kazakh names": Kazakh spellings in Latin letters, from the Kazakh letters and the Russian ones.
    assert given.known("QUANYSH") and given.known("KUANYSH") and given.known("BURKIT")
    assert surnames.known("UMBETOV") and surnames.known("ZHUSIPOV") and surnames.known("NURLANULY")
    # A man's name is a Kazakh surname too (ERBOLAT, as TURSYNBAY); a woman's name is none.
    assert not given.known("SULTANOVA") and surnames.known("ERBOLAT")
    assert not surnames.known("SALTANAT") and not surnames.known("OLGA")
    assert both.pieces == given.pieces | surnames.pieces


def test_each_name_field_is_read_with_its_own_list() -> None:
    """R or V in DA?IA: DARIA is a given name, DAVIA only a surname."""
    words = [[box(("D", 0.995)), box(("A", 0.995)), box(("V", 0.6), ("R", 0.39)), box(("I", 0.995)), box(("A", 0.995))]]
    assert "".join(decode(words, load_model(GIVEN)).chars[0]) == "DARIA"
    assert "".join(decode(words, load_model(SURNAME)).chars[0]) == "DAVIA"
    engine = CnnRecognizer()
    dists = {i: w for i, w in enumerate(words[0])}
    first = FieldEvidence(((0, 1, 2, 3, 4),), dists, False, field_kind("3:first_name"))
    last = FieldEvidence(((0, 1, 2, 3, 4),), dists, False, field_kind("3:surname"))
    assert (engine.reading_of(first).text, engine.reading_of(last).text) == ("DARIA", "DAVIA")
    assert field_kind("3:name") is None and field_kind("3:town") is None


def test_lexicon_index_spells_its_pieces() -> None:
    """The vectorised index by length decodes back to exactly the lexicon's pieces."""
    m = load_model()
    spelt = set()
    for length, (codes, logp, group) in m.by_length.items():
        assert codes.shape == (len(group), length) and len(logp) == len(group)
        spelt |= {"".join(CHARS[i] for i in row) for row in codes}
        assert logp[0] == pytest.approx(m.word_logp(group[0]))
    assert spelt == set(m.pieces)


def test_words_at_a_position_are_found_through_its_index() -> None:
    """The decoder's first narrowing: the pieces with one of some letters at a position,
    in ascending order, exactly as testing every piece of that length finds them."""
    m = load_model()
    codes, _, group = m.by_length[6]
    for position, letters in ((0, "M"), (3, "I"), (5, "AV"), (2, "QXZ")):
        wanted = np.array([CHARS.index(ch) for ch in letters])
        found = m.words_at(6, position, wanted)
        assert found.tolist() == np.flatnonzero(np.isin(codes[:, position], wanted)).tolist()
    assert {group[i] for i in m.words_at(6, 0, np.array([CHARS.index("M")]))} == {p for p in group if p[0] == "M"}
    # Confirmed words join the groups: the indexes of the grown model are built anew.
    grown = m.with_words({"MQZXQV"})
    found = grown.words_at(6, 1, np.array([CHARS.index("Q")]))
    assert "MQZXQV" in {grown.by_length[6][2][i] for i in found}
    assert "MQZXQV" not in {group[i] for i in m.words_at(6, 1, np.array([CHARS.index("Q")]))}


def test_a_confirmed_word_with_kazakh_letters_folds_like_the_listed_ones() -> None:
    """A confirmed Russian spelling vouches for its Kazakh spelling as a listed one does,
    also where the model's folded pieces were worked out before the word joined."""
    m = load_model(None, "cyrillic")
    assert not m.known_but_for_marks("ҚУАНЫШБЕКҰЛЫЗ")  # works out the folded pieces
    grown = m.with_words({"КУАНЫШБЕКУЛЫЗ"})
    assert grown.known_but_for_marks("ҚУАНЫШБЕКҰЛЫЗ")


def test_ambiguous_v_u_inside_a_known_name_is_resolved() -> None:
    # The classifier prefers U (the most frequent confusion of handwritten V).
    word = [*clear("GORDEE"), box(("U", 0.55), ("V", 0.42))]
    chosen, _ = choose([word])
    assert "".join(chosen[0]) == "GORDEEV"


def test_second_alternative_far_below_the_first_is_taken_for_a_known_name() -> None:
    word = [*clear("KO"), box(("U", 0.8), ("V", 0.15)), *clear("ALE"), box(("U", 0.7), ("V", 0.25))]
    assert "".join(choose([word])[0][0]) == "KOVALEV"


def test_a_sure_letter_is_never_replaced() -> None:
    word = [*clear("MA"), box(("P", SURE + 0.005), ("R", 1 - SURE - 0.006)), *clear("IA")]
    assert "".join(choose([word])[0][0]) == "MAPIA"
    unsure = [*clear("MA"), box(("P", 0.6), ("R", 0.35)), *clear("IA")]
    assert "".join(choose([unsure])[0][0]) == "MARIA"


def test_a_listed_name_may_be_read_over_a_sure_letter_but_then_goes_to_a_person() -> None:
    """KATRIN with a bare-stroke K the network calls I at 0.99 (K at 0.008): IATRIN is no one's
    name. With ``sure_rescue`` the listed name is read, and the field goes to a person; a letter
    the network gave under ``lexicon_min``, or a second sure letter, stays out of reach."""
    given = load_model(GIVEN)
    assert given.known("KATRIN") and not given.known("IATRIN")
    base = DecoderParams(lm_weight=0.7, lexicon_bonus=8.0, lexicon_min=0.002)
    stroke = [[box(("I", 0.99), ("K", 0.008)), *clear("ATRIN")]]
    assert "".join(decode(stroke, given, base).chars[0]) == "IATRIN"  # off by default
    d = decode(stroke, given, replace(base, sure_rescue=1))
    assert "".join(d.chars[0]) == "KATRIN"
    assert d.pieces[0].over_sure and d.pieces[0].changed
    assert needs_a_person(d, 1, GIVEN)
    assert not needs_a_person(decode(stroke, given, base), 1, GIVEN)
    faint = [[box(("I", 0.9985), ("K", 0.0012)), *clear("ATRIN")]]
    assert "".join(decode(faint, given, replace(base, sure_rescue=1)).chars[0]) == "IATRIN"
    two = [[box(("I", 0.99), ("K", 0.008)), *clear("ATR"), box(("L", 0.99), ("I", 0.008)), *clear("N")]]
    assert "".join(decode(two, given, replace(base, sure_rescue=1)).chars[0]) == "IATRLN"
    assert "".join(decode(two, given, replace(base, sure_rescue=2)).chars[0]) == "KATRIN"


def test_a_name_read_over_a_sure_letter_shows_the_letter_seen_and_is_never_accepted() -> None:
    """Through the reader with the shipped Latin settings (``sure_rescue`` fitted by calibrate.py)."""
    engine = CnnRecognizer()
    assert engine.latin.decoder.sure_rescue >= 1
    ev = FieldEvidence(
        ((0, 1, 2, 3, 4, 5),), dict(enumerate([box(("I", 0.99), ("K", 0.008)), *clear("ATRIN")])), False, GIVEN
    )
    reading = engine.reading_of(ev)
    assert reading.text == "KATRIN"
    assert reading.confidence < engine.auto_threshold
    first = reading.letters[0]
    assert first.char == "K" and first.alternatives[1][0] == "I"


def test_double_names_are_decided_piece_by_piece() -> None:
    word = [*clear("SMITH"), box(("-", 0.97), ("I", 0.015)), box(("I", 0.5), ("J", 0.45)), *clear("ONES")]
    d = decode([word])
    assert "".join(d.chars[0]) == "SMITH-JONES"
    assert [p.text for p in d.pieces] == ["SMITH", "JONES"]
    assert all(p.known for p in d.pieces)


def test_confidence_falls_with_letter_doubt() -> None:
    sure = clear("ANNA")
    unsure = [box(("A", 0.99)), box(("N", 0.6), ("M", 0.4)), *clear("NA")]
    assert choose([unsure])[1] < choose([sure])[1]


def _reading(engine: CnnRecognizer, word: list[list[tuple[str, float]]]) -> tuple[str, float]:
    ev = FieldEvidence((tuple(range(len(word))),), dict(enumerate(word)), False)
    r = engine.reading_of(ev)
    return r.text, r.confidence


def test_unknown_name_with_uncertain_letters_is_not_auto_accepted() -> None:
    engine = CnnRecognizer()
    first = _reading(engine, clear("ANNA", 0.999))
    known = _reading(engine, clear("IVANOVA", 0.999))
    # A clear known name is accepted: the threshold is reachable.
    assert name_confidence([_as_reading(first), _as_reading(known)]) >= engine.auto_threshold
    # An invented surname with two letters in doubt is not, however name-like.
    doubt = [*clear("ZORBLA", 0.999), box(("K", 0.7), ("R", 0.25)), *clear("E", 0.999), box(("U", 0.75), ("V", 0.2))]
    text, conf = _reading(engine, doubt)
    assert not load_model().known(text)
    assert name_confidence([_as_reading(first), _as_reading((text, conf))]) < engine.auto_threshold
    # The same doubt inside a known name is trusted more than inside an unknown one.
    in_lexicon = [*clear("KOV", 0.999), box(("A", 0.7), ("R", 0.25)), *clear("LE", 0.999), box(("V", 0.75), ("U", 0.2))]
    text2, conf2 = _reading(engine, in_lexicon)
    assert text2 == "KOVALEV" and conf2 > conf


def _as_reading(tc: tuple[str, float]):  # type: ignore[no-untyped-def]
    from petitionscan.recognize import Reading

    return Reading(tc[0], (), tc[1], "cnn")


def test_a_name_read_with_a_hyphen_or_apostrophe_always_goes_to_a_person() -> None:
    """No calibration name had one, and a small high O passes for an apostrophe (ER'SLAV)."""
    engine = CnnRecognizer()
    for text in ("O'BRIEN", "ANNA-MARIA"):
        dists = {i: (box((ch, 0.999)) if ch.isalpha() else [(ch, 0.97), ("I", 0.015)]) for i, ch in enumerate(text)}
        ev = FieldEvidence((tuple(range(len(text))),), dists, False, field_kind("1:surname"))
        reading = engine.reading_of(ev)
        assert reading.text == text
        assert reading.confidence <= SEPARATOR_CAP < engine.auto_threshold
    plain = FieldEvidence(((0, 1, 2, 3, 4, 5),), dict(enumerate(clear("IVANOV", 0.999))), False, "surname")
    assert engine.reading_of(plain).confidence > engine.auto_threshold


def test_a_letter_the_lexicon_overruled_carries_its_doubt() -> None:
    """GORDEE? with the network at U (0.7) over V (0.29): GORDEEV wins, and says what it cost."""
    import math

    words = [[*clear("GORDEE"), box(("U", 0.7), ("V", 0.29))]]
    d = decode(words, load_model(SURNAME))
    assert "".join(d.chars[0]) == "GORDEEV"
    assert d.overruled == pytest.approx(math.log(0.7) - math.log(0.29))
    plain = decode([clear("GORDEEV")], load_model(SURNAME))
    assert plain.overruled == 0.0
    from petitionscan.recognize.names import FEATURES, field_features

    feats = dict(zip(FEATURES, field_features(d, False), strict=True))
    assert feats["overruled"] == pytest.approx(d.overruled)
    assert d.overrules == (("U", "V"),) and plain.overrules == ()


def test_an_overrule_costs_what_the_validation_sheets_say_it_is_worth() -> None:
    """The listed names' features add to :data:`FEATURES` the surprise of each overrule (from the
    metadata's table, the cap where the table has none) and how many there were."""
    from petitionscan.recognize.names import LISTED_FEATURES, SURPRISE_CAP, field_features, listed_features

    d = decode([[*clear("GORDEE"), box(("U", 0.7), ("V", 0.29))]], load_model(SURNAME))
    common = dict(zip(LISTED_FEATURES, listed_features(d, False, {"U>V": 1.2, "N>V": 5.0}), strict=True))
    assert common["overrule_surprise"] == pytest.approx(1.2) and common["overruled_boxes"] == 1.0
    assert [common[n] for n in LISTED_FEATURES[:-2]] == field_features(d, False)
    assert listed_features(d, False, {})[-2] == SURPRISE_CAP
    plain = decode([clear("GORDEEV")], load_model(SURNAME))
    assert listed_features(plain, False, {"U>V": 1.2})[-2:] == [0.0, 0.0]


def test_the_letter_the_network_saw_is_the_first_alternative() -> None:
    engine = CnnRecognizer()
    ev = FieldEvidence(
        ((0, 1, 2, 3, 4, 5, 6),), dict(enumerate([*clear("GORDEE"), box(("U", 0.7), ("V", 0.29))])), False, SURNAME
    )
    reading = engine.reading_of(ev)
    assert reading.text == "GORDEEV"
    last = reading.letters[-1]
    assert last.char == "V" and last.alternatives[1][0] == "U"
    assert last.alternatives[1][1] > last.probability


def test_a_letter_no_name_uses_does_not_stand_for_its_look_alike() -> None:
    """A hurried Н drawn as an h reads Һ to the network; no listed name holds Һ, so the
    name model chooses Н, and says what it overruled. Latin letters are all in use."""
    import math

    cyrillic = load_model(GIVEN, "cyrillic")
    assert cyrillic.unheard == frozenset("Һ") and not load_model(GIVEN).unheard
    h_shaped = box(("Һ", 0.995), ("Н", 0.004), ("Ь", 0.001))
    d = decode([[*clear("МАРИ"), h_shaped, *clear("А")]], cyrillic)
    assert "".join(d.chars[0]) == "МАРИНА"
    assert d.overruled == pytest.approx(math.log(0.995) - math.log(0.004))


def test_what_is_taken_from_such_a_letter_goes_to_the_letters_it_stands_for() -> None:
    """Here the network found М next likeliest and Н far behind: weighed down in
    proportion, Һ's share went mostly to the М (RUSLAM, unknown, read off the network's
    runner-up). With the letters Һ-looking boxes hold on validation (Н first), the
    name model reads РУСЛАН."""
    cyrillic = load_model(GIVEN, "cyrillic")
    h_shaped = box(("Һ", 0.83), ("М", 0.067), ("И", 0.025), ("Ь", 0.0775), ("Н", 0.0005))
    word = [[*clear("РУСЛА"), h_shaped]]
    table = {"Һ": {"Н": 0.32, "А": 0.11, "И": 0.09, "Д": 0.08, "Л": 0.06, "М": 0.01}}
    proportional = decode(word, cyrillic, DecoderParams(lm_weight=0.7, lexicon_bonus=8.0, lexicon_min=0.002))
    assert "".join(proportional.chars[0]) != "РУСЛАН"
    shared = decode(
        word, cyrillic, DecoderParams(lm_weight=0.7, lexicon_bonus=8.0, lexicon_min=0.002, unheard_as=table)
    )
    assert "".join(shared.chars[0]) == "РУСЛАН"


def test_a_listed_name_spelt_with_kazakh_letters_is_kept_as_written() -> None:
    """ӘЛИХАН: the lists hold АЛИХАН, not the Kazakh spelling. The network hesitates between Ә
    and Э; the А it never saw is out of reach. Without a bonus for a listed name but
    for the marks, the name model took the commoner Э (ЭЛИХАН, which is no one's name) where
    the network leans to Э (at 0.45 against 0.55 the letter statistics of the Kazakh names in
    the lists now tip it to Ә on their own)."""
    given = load_model(GIVEN, "cyrillic")
    assert given.known("АЛИХАН") and not given.known("ӘЛИХАН") and given.known_but_for_marks("ӘЛИХАН")
    assert not given.known_but_for_marks("АЛИХАН")  # no Kazakh letter: plainly known or not
    word = [[box(("Ә", 0.4), ("Э", 0.5995), ("А", 0.0005)), *clear("ЛИХАН")]]
    base = DecoderParams(lm_weight=0.7, lexicon_bonus=8.0, lexicon_min=0.002)
    assert "".join(decode(word, given, base).chars[0]) == "ЭЛИХАН"
    d = decode(word, given, replace(base, fold_bonus=4.0))
    assert "".join(d.chars[0]) == "ӘЛИХАН"
    assert not d.pieces[0].known  # for the confidence it stays a name no list holds


def test_a_sure_kazakh_y_is_still_open_to_the_name_lists() -> None:
    """Ү is learnt from Latin Y, and many a handwritten У is written as a Y: the network
    may be sure of Ү in РУСЛАН. Ү is never held (names.NEVER_SURE); any other letter as
    sure still is."""
    given = load_model(GIVEN, "cyrillic")
    params = DecoderParams(lm_weight=0.7, lexicon_bonus=8.0, lexicon_min=0.002)
    y_shaped = [[*clear("Р"), box(("Ү", SURE + 0.01), ("У", 0.008)), *clear("СЛАН")]]
    assert "".join(decode(y_shaped, given, params).chars[0]) == "РУСЛАН"
    other = [[*clear("Р"), box(("Ы", SURE + 0.01), ("У", 0.008)), *clear("СЛАН")]]
    assert "".join(decode(other, given, params).chars[0]) == "РЫСЛАН"


def test_a_y_shaped_u_read_as_kazakh_y_far_surer_is_still_the_listed_name() -> None:
    """ПУТИЛОВА with its У drawn as a Y: the network reads Ү at 0.995 and leaves У
    under the lexicon's floor, so even an unheld Ү stays (ПҮТИЛОВА, no one's name). With
    a share of Ү's probability given to У (the fitted ``look_alike_share``), the list's
    name is in reach and wins; a Kazakh name with a clear Ү keeps it."""
    surnames = load_model(SURNAME, "cyrillic")
    params = DecoderParams(lm_weight=0.7, lexicon_bonus=6.0, lexicon_min=0.002)
    y_shaped = [[*clear("П"), box(("Ү", 0.995), ("Ұ", 0.003), ("У", 0.0006)), *clear("ТИЛОВА")]]
    assert "".join(decode(y_shaped, surnames, params).chars[0]) == "ПҮТИЛОВА"
    shared = replace(params, look_alike_share=0.1)
    d = decode(y_shaped, surnames, shared)
    assert "".join(d.chars[0]) == "ПУТИЛОВА" and d.overruled > 0
    given = load_model(GIVEN, "cyrillic")
    assert given.known("АЙГҮЛ")
    kazakh = [[*clear("АЙГ"), box(("Ү", 0.995), ("Ұ", 0.003), ("У", 0.0006)), *clear("Л")]]
    assert "".join(decode(kazakh, given, shared).chars[0]) == "АЙГҮЛ"


def test_an_open_d_read_as_o_is_still_the_listed_name() -> None:
    """DANIYAR with a D whose bottom stroke did not close: the network reads O at 0.985 and
    leaves D under the lexicon's floor. With the shipped share of a Latin look-alike's
    probability given to the letter it stands for (O -> D), the listed name is in reach;
    a name with a clear O keeps it, and without the share the O stays."""
    given = load_model(GIVEN)
    shipped = CnnRecognizer().latin.decoder
    assert shipped.look_alike_share > 0.0
    assert given.known("DANIYAR") and not given.known("OANIYAR")
    open_d = [[box(("O", 0.985), ("Q", 0.01), ("D", 0.0005)), *clear("ANIYAR")]]
    d = decode(open_d, given, shipped)
    assert "".join(d.chars[0]) == "DANIYAR" and d.overruled > 0
    assert "".join(decode(open_d, given, replace(shipped, look_alike_share=0.0)).chars[0]) == "OANIYAR"
    assert "".join(decode([clear("OLGA")], given, shipped).chars[0]) == "OLGA"
    # An initial is no list's business: its letter keeps all its probability.
    initial = [[box(("O", 0.985), ("Q", 0.01), ("D", 0.0005))], clear("LGA")]
    off = replace(shipped, look_alike_share=0.0)
    assert decode(initial, given, shipped).letter_probs[0] == decode(initial, given, off).letter_probs[0] > 0.98
