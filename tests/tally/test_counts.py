"""The tally of a planted corpus equals the truth of its plan, in total and per group."""

from __future__ import annotations

from petitionscan import store, tally

from .conftest import Corpus, Truth


def test_totals_equal_truth(planted: tuple[Corpus, Truth]) -> None:
    c, truth = planted
    table = tally.count(c.conn)
    assert table.value("rows read") == sum(truth.statuses.values())
    assert table.value("blank") == truth.statuses["blank"]
    assert table.value("crossed out") == truth.statuses["crossed_out"]
    assert table.value("unsigned") == truth.statuses["unsigned"]
    assert table.value("needs review") == truth.statuses["needs_review"]
    assert table.value("signatures") == truth.counted_rows
    assert table.value("unique signatures") == truth.unique
    assert table.value("duplicates removed") == truth.counted_rows - truth.unique


def test_every_row_in_exactly_one_status_column(planted: tuple[Corpus, Truth]) -> None:
    c, _ = planted
    table = tally.count(c.conn)
    parts = sum(table.value(title) for title, _ in tally.STATUS_COLUMNS)
    assert parts == table.value("rows read")


def test_signers_match_people(planted: tuple[Corpus, Truth]) -> None:
    """Two rows share a signer exactly when the plan says they are one person."""
    c, truth = planted
    rows = tally.load_rows(c.conn)
    result = tally.dedupe_rows(rows)
    signer = dict(zip(result.rows["row_id"].tolist(), result.rows["signer"].tolist(), strict=True))
    by_person: dict[int, set[int]] = {}
    for row_id, person in truth.row_person.items():
        by_person.setdefault(person, set()).add(signer[row_id])
    assert all(len(s) == 1 for s in by_person.values()), "one person split into several signers"
    signers = [next(iter(s)) for s in by_person.values()]
    assert len(signers) == len(set(signers)), "two people merged into one signer"


def test_by_branch_adds_up_and_matches_truth(planted: tuple[Corpus, Truth]) -> None:
    c, truth = planted
    table = tally.count(c.conn, "branch")
    for branch, expected in truth.unique_by_branch.items():
        assert table.value("unique signatures", branch) == expected
    for branch, expected in truth.rows_by_branch.items():
        assert table.value("rows read", branch) == expected
    for i, column in enumerate(table.columns):
        assert sum(values[i] for _, values in table.lines) == table.total[i], column


def test_by_sheet_and_day_add_up(planted: tuple[Corpus, Truth]) -> None:
    c, truth = planted
    for by in ("sheet", "day", "workplace", "town"):
        table = tally.count(c.conn, by)
        assert sum(v[table.columns.index("unique signatures")] for _, v in table.lines) == truth.unique
    sheets = {name for name, _ in tally.count(c.conn, "sheet").lines}
    assert "S0001 copy 2" in sheets and "S0001" in sheets
    days = {name for name, _ in tally.count(c.conn, "day").lines}
    assert all(len(d) == 10 and d.startswith("2024-05-") for d in days)


def test_needs_review_is_shown_not_counted(corpus) -> None:  # type: ignore[no-untyped-def]
    c = corpus("r.db")
    sheet, scan = c.sheet("S1")
    c.row(sheet, scan, 1, "ANNA KARLSSON", status="needs_review")
    c.row(sheet, scan, 2, "BORIS IVANOV")
    table = tally.count(c.conn)
    assert table.value("needs review") == 1
    assert table.value("unique signatures") == 1
    c.conn.execute("UPDATE rows SET status = 'confirmed', updated_by = 'ann' WHERE row_no = 1")
    assert tally.count(c.conn).value("unique signatures") == 2


def test_empty_database_counts_zero(corpus) -> None:  # type: ignore[no-untyped-def]
    c = corpus("empty.db")
    table = tally.count(c.conn, "branch")
    assert table.lines == ()
    assert set(table.total) == {0}
    assert store.SCHEMA_VERSION >= 1
