"""The name model picks between close alternatives and never overrides a sure letter."""

from __future__ import annotations

from petitionscan.recognize.names import choose, load_model


def test_real_names_are_likelier_than_misreadings() -> None:
    m = load_model()
    assert m.word_logp("MARIA") > m.word_logp("MAPIA")
    assert m.word_logp("IVANOV") > m.word_logp("IVANQV")


def test_close_alternatives_are_decided_by_the_name_model() -> None:
    word = [[("M", 0.99)], [("A", 0.97)], [("P", 0.5), ("R", 0.45), ("B", 0.05)], [("I", 0.99)], [("A", 0.97)]]
    chosen, conf = choose([word])
    assert "".join(chosen[0]) == "MARIA"
    assert 0.0 < conf < 1.0


def test_a_sure_letter_is_never_replaced() -> None:
    word = [[("M", 0.99)], [("A", 0.97)], [("P", 0.95), ("R", 0.05)], [("I", 0.99)], [("A", 0.97)]]
    chosen, _conf = choose([word])
    assert "".join(chosen[0]) == "MAPIA"


def test_confidence_falls_with_letter_doubt() -> None:
    sure = [[("A", 0.99)], [("N", 0.99)], [("N", 0.99)], [("A", 0.99)]]
    unsure = [[("A", 0.99)], [("N", 0.6), ("M", 0.4)], [("N", 0.99)], [("A", 0.99)]]
    assert choose([unsure])[1] < choose([sure])[1]
