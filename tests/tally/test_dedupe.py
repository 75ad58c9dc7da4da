"""Finding one signer's rows: namesakes stay apart, misreadings merge, people's decisions win."""

from __future__ import annotations

import pandas as pd
import pytest

from petitionscan import dedupe, store, tally
from petitionscan.errors import UsageError


def frame(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": range(1, len(rows) + 1),
            "name": [r[0] for r in rows],
            "workplace": [r[1] for r in rows],
            "town": [r[2] for r in rows],
        }
    )


def signers(result: dedupe.DedupeResult) -> list[int]:
    return result.rows.sort_values("row_id")["signer"].tolist()


def test_same_name_same_place_is_one_signer() -> None:
    result = dedupe.find_duplicates(frame(("ANNA BERG", "DEPOT", "YORK"), ("anna  berg", "depot", "York")))
    assert signers(result) == [1, 1]
    assert result.rows["match"].tolist() == ["", "exact"]


def test_namesakes_at_different_workplaces_stay_apart() -> None:
    result = dedupe.find_duplicates(frame(("ANNA BERG", "DEPOT", "YORK"), ("ANNA BERG", "HOSPITAL", "YORK")))
    assert result.unique == 2
    apart = [d for d in result.decisions if not d.same]
    assert apart and "different workplace" in apart[0].reason


def test_namesakes_in_different_towns_stay_apart() -> None:
    result = dedupe.find_duplicates(frame(("ANNA BERG", "", "YORK"), ("ANNA BERG", "", "LEEDS")))
    assert result.unique == 2


def test_missing_workplace_joins_the_first_namesake_only() -> None:
    result = dedupe.find_duplicates(
        frame(("ANNA BERG", "DEPOT", ""), ("ANNA BERG", "HOSPITAL", ""), ("ANNA BERG", "", ""))
    )
    assert signers(result) == [1, 2, 1]


def test_misread_letters_are_probable_duplicates() -> None:
    result = dedupe.find_duplicates(frame(("OLGA PETROVA", "DEPOT", "YORK"), ("QLGA PETROUA", "DEPOT", "YORK")))
    assert signers(result) == [1, 1]
    assert result.rows["match"].tolist() == ["", "probable"]
    assert "O/Q" in result.rows["reason"].iloc[1]


def test_one_other_letter_is_a_probable_duplicate() -> None:
    result = dedupe.find_duplicates(frame(("MARTIN HOLLOWAY", "DEPOT", "YORK"), ("MARTIN HOLOWAY", "DEPOT", "YORK")))
    assert result.unique == 1
    assert "one letter" in result.rows["reason"].iloc[1]


def test_near_names_need_workplace_or_town_in_common() -> None:
    """A misread letter needs one of workplace/town to agree; another letter needs both."""
    confused = frame(("OLGA PETROVA", "DEPOT", ""), ("QLGA PETROVA", "", "YORK"), ("QLGA PETROVA", "DEPOT", ""))
    assert signers(dedupe.find_duplicates(confused)) == [1, 1, 1]  # row 2 joins row 3 (same name), 3 joins 1
    other = frame(("MARTIN HOLLOWAY", "DEPOT", ""), ("MARTIN HOLOWAY", "DEPOT", ""))
    assert dedupe.find_duplicates(other).unique == 2
    apart = frame(("OLGA PETROVA", "DEPOT", ""), ("QLGA PETROVA", "", "YORK"))
    assert dedupe.find_duplicates(apart).unique == 2


def test_short_or_distant_names_are_not_merged() -> None:
    result = dedupe.find_duplicates(
        frame(("AL LI", "", ""), ("AL LU", "", ""), ("MARTIN HOLLOWAY", "", ""), ("MARTIN HALLAWAY", "", ""))
    )
    assert result.unique == 4


def test_transliterations_merge() -> None:
    result = dedupe.find_duplicates(frame(("ЖАНАР ӘБЕНОВА", "", ""), ("ZHANAR ABENOVA", "", ""), ("MÜLLER KARL", "", ""),
                                          ("MUELLER KARL", "", "")))  # fmt: skip
    assert signers(result) == [1, 1, 3, 3]


def test_one_signer_across_scripts_and_spellings() -> None:
    result = dedupe.find_duplicates(
        frame(
            ("АЙГҮЛ ЖҰМАБАЕВА", "АУРУХАНА", "АҚТАУ"),
            ("AIGUL ZHUMABAEVA", "", ""),
            ("AYGUL JUMABAYEVA", "", "AKTAU"),
            ("АЙГҮЛ ЖҰМАБАЕВА", "МЕКТЕП", "АҚТАУ"),
        )
    )
    assert signers(result)[:3] == [1, 1, 1]
    assert result.unique == 2  # the namesake at another workplace stays apart
    assert result.rows.sort_values("row_id")["match"].tolist()[:3] == ["", "exact", "exact"]


def test_person_decisions_win() -> None:
    rows = frame(("ANNA BERG", "DEPOT", "YORK"), ("ANNA BERG", "DEPOT", "YORK"), ("ANNE BORG", "HOSPITAL", ""))
    assert dedupe.find_duplicates(rows).unique == 2
    people = [
        dedupe.Decision(1, 2, False, "", "ann"),
        dedupe.Decision(1, 3, True, "", "ann"),
    ]
    result = dedupe.find_duplicates(rows, people)
    assert signers(result) == [1, 2, 1]
    assert result.rows.set_index("row_id").loc[3, "match"] == "person"


def test_contradicting_people_are_reported() -> None:
    rows = frame(("ANNA BERG", "", ""), ("ANNA BERG", "", ""), ("ANNA BERG", "", ""))
    people = [
        dedupe.Decision(1, 2, False, "", "ann"),
        dedupe.Decision(1, 3, True, "", "bob"),
        dedupe.Decision(2, 3, True, "", "cy"),
    ]
    result = dedupe.find_duplicates(rows, people)
    assert signers(result) == [1, 2, 1]
    assert len(result.conflicts) == 1 and "cy" in result.conflicts[0]


def test_decide_duplicate_is_stored_and_wins(corpus) -> None:  # type: ignore[no-untyped-def]
    c = corpus("d.db")
    sheet, scan = c.sheet("S1")
    a = c.row(sheet, scan, 1, "ANNA BERG", workplace="DEPOT")
    b = c.row(sheet, scan, 2, "ANNA BERG", workplace="DEPOT")
    assert tally.count(c.conn).value("unique signatures") == 1
    auto = c.conn.execute("SELECT decision, decided_by FROM duplicate_decisions").fetchall()
    assert [(r[0], r[1]) for r in auto] == [("same", None)]
    dedupe.decide_duplicate(c.conn, b, a, same=False, who="ann")
    assert tally.count(c.conn).value("unique signatures") == 2
    stored = c.conn.execute("SELECT row_a, row_b, decision, decided_by FROM duplicate_decisions").fetchall()
    assert [tuple(r) for r in stored] == [(a, b, "different", "ann")]
    log = c.conn.execute("SELECT action FROM review_log").fetchall()
    assert log[0][0] == f"duplicate:different:{b}"
    dedupe.decide_duplicate(c.conn, a, b, same=True, who="bob")
    assert tally.count(c.conn).value("unique signatures") == 1


def test_decide_duplicate_refuses_when_another_process_decided_first(corpus) -> None:  # type: ignore[no-untyped-def]
    """Two review servers on one database: the check and the write share the write lock."""
    c = corpus("race.db")
    sheet, scan = c.sheet("S1")
    a = c.row(sheet, scan, 1, "ANNA BERG")
    b = c.row(sheet, scan, 2, "ANNA BERG")
    other = store.connect(c.path)  # the second server's connection
    try:
        seen = dedupe.person_decision_stamp(c.conn, a, b)
        assert seen == dedupe.person_decision_stamp(other, a, b) == ""
        dedupe.decide_duplicate(other, a, b, same=False, who="bob", expected=seen)
        with pytest.raises(dedupe.DecisionChanged):
            dedupe.decide_duplicate(c.conn, a, b, same=True, who="ann", expected=seen)
        stored = c.conn.execute("SELECT decision, decided_by FROM duplicate_decisions").fetchall()
        assert [tuple(r) for r in stored] == [("different", "bob")]
        assert c.conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 1
        now = dedupe.person_decision_stamp(c.conn, a, b)
        assert now.startswith("different|bob|")
        dedupe.decide_duplicate(c.conn, a, b, same=True, who="ann", expected=now)  # seen, then overruled
        assert dedupe.person_decision_stamp(other, a, b).startswith("same|ann|")
    finally:
        other.close()


def test_decide_duplicate_refuses_bad_input(corpus) -> None:  # type: ignore[no-untyped-def]
    c = corpus("e.db")
    sheet, scan = c.sheet("S1")
    a = c.row(sheet, scan, 1, "ANNA BERG")
    with pytest.raises(UsageError):
        dedupe.decide_duplicate(c.conn, a, a, same=True, who="ann")
    with pytest.raises(UsageError):
        dedupe.decide_duplicate(c.conn, a, a + 99, same=True, who="ann")
    with pytest.raises(UsageError):
        dedupe.decide_duplicate(c.conn, a, a + 1, same=True, who="  ")


def test_same_paper_tolerates_misreads_but_not_other_signers() -> None:
    from petitionscan.dedupe import same_paper

    first = {1: "AIGUL NURLANOVA", 2: "", 3: "JOHN SMITH", 4: "MARIA LOPEZ"}
    rescan = {1: "AIGUL NURLAN0VA", 2: "", 3: "JOHN SMITN", 4: "MARIA LOPEZ"}  # another scan, other misreads
    photocopy = {1: "ERLAN SADYKOV", 2: "OLGA PETROVA", 3: "", 4: "ANNA KOWALSKA"}
    assert same_paper(first, rescan)
    assert not same_paper(first, photocopy)
    assert same_paper({1: "", 2: ""}, {1: ""})
