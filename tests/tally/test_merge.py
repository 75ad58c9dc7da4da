"""Merging databases from several computers: each sheet once, corrections kept, idempotent."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from petitionscan import dedupe, tally
from petitionscan.cli import main
from petitionscan.errors import DatabaseError, UsageError
from petitionscan.merge import merge_databases

from .conftest import Corpus, Truth, build_planted

Make = Callable[[str], Corpus]


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    tables = ("sheets", "scans", "rows", "letters", "review_log", "duplicate_decisions")
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in tables}


def unique(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return tally.count(conn, save_decisions=False).value("unique signatures")


def test_merging_a_copy_of_itself_changes_nothing(planted: tuple[Corpus, Truth], corpus: Make,
                                                  tmp_path: Path) -> None:  # fmt: skip
    c, truth = planted
    target = tmp_path / "target.db"
    first = merge_databases(target, [c.path])[0]
    assert first.rows_added == sum(truth.statuses.values())
    assert unique(target) == truth.unique
    with sqlite3.connect(target) as conn:
        before = snapshot(conn)
    again = merge_databases(target, [c.path, c.path])
    assert not any(r.changed for r in again)
    with sqlite3.connect(target) as conn:
        assert snapshot(conn) == before
    assert unique(target) == truth.unique


def test_sheet_scanned_in_two_places_counts_once(corpus: Make) -> None:
    a, b = corpus("a.db"), corpus("b.db")
    # Same paper, same page image on both computers.
    sa, ca = a.sheet("S1", page_hash="h1")
    sb, cb = b.sheet("S1", page_hash="h1")
    for c, sheet, scan in ((a, sa, ca), (b, sb, cb)):
        c.row(sheet, scan, 1, "ANNA BERG")
        c.row(sheet, scan, 2, "BORIS IVANOV")
    # Same paper photographed again: other image, same readings (one letter misread).
    sa2, ca2 = a.sheet("S2", page_hash="x1")
    sb2, cb2 = b.sheet("S2", page_hash="x2")
    a.row(sa2, ca2, 1, "OLGA PETROVA")
    a.row(sa2, ca2, 2, "IVAN DROGO")
    b.row(sb2, cb2, 1, "QLGA PETROVA")
    b.row(sb2, cb2, 2, "IVAN DROGO")
    b.row(sb2, cb2, 3, "NEW PERSON")  # read only on the second computer
    result = merge_databases(a.path, [b.path])[0]
    assert result.sheets_matched == 2 and result.sheets_added == 0 and result.copies_added == 0
    assert result.rows_added == 1
    assert unique(a.path) == 5
    statuses = {r[0] for r in a.conn.execute("SELECT status FROM scans WHERE page_hash = 'x2'")}
    assert statuses == {"duplicate"}


def test_photocopy_signed_by_others_becomes_a_new_copy(corpus: Make) -> None:
    a, b = corpus("a.db"), corpus("b.db")
    sa, ca = a.sheet("S1")
    sb, cb = b.sheet("S1")
    a.row(sa, ca, 1, "ANNA BERG")
    a.row(sa, ca, 2, "BORIS IVANOV")
    b.row(sb, cb, 1, "CARL NYSTROM")
    b.row(sb, cb, 2, "DORA KLEIN")
    result = merge_databases(a.path, [b.path])[0]
    assert result.copies_added == 1
    copies = [tuple(r) for r in a.conn.execute("SELECT serial, copy_no FROM sheets ORDER BY copy_no")]
    assert copies == [("S1", 1), ("S1", 2)]
    assert unique(a.path) == 4
    assert not merge_databases(a.path, [b.path])[0].changed


def test_corrections_are_taken_and_conflicts_reported(corpus: Make) -> None:
    a, b = corpus("a.db"), corpus("b.db")
    sa, ca = a.sheet("S1", page_hash="h1")
    sb, cb = b.sheet("S1", page_hash="h1")
    a.row(sa, ca, 1, "ANNA BERG")
    a.row(sa, ca, 2, "BORIS IVANQV", status="confirmed", updated_by="ann")
    a.row(sa, ca, 3, "CARL NYSTROM")
    b.row(sb, cb, 1, "ANNA BERG", status="confirmed", updated_by="bob")  # corrected only there
    b.row(sb, cb, 2, "BORIS IVANOV", status="confirmed", updated_by="bob")  # corrected in both: conflict
    b_row3 = b.row(sb, cb, 3, "CARL NYSTROM", crop=b"\x89PNG-crop")
    b.conn.execute(
        "INSERT INTO review_log (row_id, reviewer, decided_at, action, old_name, new_name) "
        "VALUES (?, 'bob', '2024-05-02T10:00:00+00:00', 'correct', 'X', 'CARL NYSTROM')",
        (b_row3,),
    )
    result = merge_databases(a.path, [b.path])[0]
    assert result.rows_corrected == 1
    assert len(result.conflicts) == 1 and "row 2" in result.conflicts[0]
    rows = {r["row_no"]: r for r in a.conn.execute("SELECT * FROM rows")}
    assert rows[1]["status"] == "confirmed" and rows[1]["updated_by"] == "bob"
    assert rows[2]["name"] == "BORIS IVANQV" and rows[2]["updated_by"] == "ann"
    assert result.log_added == 1
    assert a.conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 1
    again = merge_databases(a.path, [b.path])[0]
    assert not again.changed and len(again.conflicts) == 1


def test_crops_letters_and_decisions_come_along(corpus: Make, tmp_path: Path) -> None:
    a, b = corpus("a.db"), corpus("b.db")
    a.sheet("S9")
    sb, cb = b.sheet("S1")
    r1 = b.row(sb, cb, 1, "ANNA BERG", workplace="DEPOT", crop=b"crop-bytes")
    r2 = b.row(sb, cb, 2, "ANNA BERG", workplace="DEPOT")
    b.conn.execute("INSERT INTO letters VALUES (?, 'name', 0, 0, 'A', 0.9, 'R', 0.05, NULL, NULL)", (r1,))
    dedupe.decide_duplicate(b.conn, r1, r2, same=False, who="bob")
    merge_databases(a.path, [b.path])
    crop = a.conn.execute("SELECT crop_png FROM rows WHERE row_no = 1").fetchone()[0]
    assert crop == b"crop-bytes"
    assert a.conn.execute("SELECT char, alt2 FROM letters").fetchall()[0][:] == ("A", "R")
    decided = a.conn.execute("SELECT row_a, row_b, decision, decided_by FROM duplicate_decisions").fetchall()
    new_ids = [r[0] for r in a.conn.execute("SELECT id FROM rows ORDER BY row_no")]
    assert [tuple(d) for d in decided] == [(new_ids[0], new_ids[1], "different", "bob")]
    action = a.conn.execute("SELECT action FROM review_log").fetchone()[0]
    assert action == f"duplicate:different:{new_ids[1]}"
    assert unique(a.path) == 2


def test_merge_of_a_planted_corpus_into_half_of_it(corpus: Make, tmp_path: Path) -> None:
    """Two computers each scanned part of the pile, some sheets on both: the merge counts the truth."""
    full = corpus("full.db")
    truth = build_planted(full)
    sheets = [r[0] for r in full.conn.execute("SELECT id FROM sheets ORDER BY id")]
    parts = []
    for name, keep in (("left.db", sheets[: len(sheets) * 2 // 3]), ("right.db", sheets[len(sheets) // 3 :])):
        path = tmp_path / name
        with sqlite3.connect(path) as dst:
            full.conn.backup(dst)
        with sqlite3.connect(path) as conn:
            marks = ",".join("?" * len(keep))
            conn.execute(
                f"DELETE FROM letters WHERE row_id IN (SELECT id FROM rows WHERE sheet_id NOT IN ({marks}))", keep
            )
            conn.execute(f"DELETE FROM rows WHERE sheet_id NOT IN ({marks})", keep)
            conn.execute(f"DELETE FROM scans WHERE sheet_id NOT IN ({marks})", keep)
            conn.execute(f"DELETE FROM sheets WHERE id NOT IN ({marks})", keep)
        parts.append(path)
    target = tmp_path / "merged.db"
    merge_databases(target, parts)
    assert unique(target) == truth.unique
    code = CliRunner().invoke(main, ["merge", str(parts[0]), str(parts[1]), "--db", str(target)])
    assert code.exit_code == 0 and code.stdout.count("(nothing new)") == 2
    assert unique(target) == truth.unique


def test_merge_refuses_bad_sources(corpus: Make, tmp_path: Path) -> None:
    a = corpus("a.db")
    with pytest.raises(UsageError):
        merge_databases(a.path, [a.path])
    with pytest.raises(DatabaseError):
        merge_databases(a.path, [tmp_path / "none.db"])
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DatabaseError):
        merge_databases(a.path, [junk])
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "none.db"), "--db", str(a.path)])
    assert result.exit_code == DatabaseError.exit_code
