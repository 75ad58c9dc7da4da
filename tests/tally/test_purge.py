"""``purge``: the handwriting goes, the count and the audit trail stay, and the bytes leave the file."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from petitionscan import store, tally
from petitionscan.cli import main

from .conftest import Corpus


def _marker(tag: str) -> bytes:
    """Picture bytes that can be searched for in the database file afterwards."""
    return b"\x89PNG-" + tag.encode() + os.urandom(2000)


def _on_disk(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


def test_purge_keeps_counts_and_removes_the_bytes(corpus: Callable[[str], Corpus]) -> None:
    c = corpus("campaign.db")
    crops = {name: _marker(name) for name in ("decided", "pending", "confirmed")}
    page_a, page_b = _marker("page-a"), _marker("page-b")
    sheet_a, scan_a = c.sheet("S1", branch="Aktau")
    sheet_b, scan_b = c.sheet("S2", branch="Zhanaozen")
    c.row(sheet_a, scan_a, 1, "ANNA KARIMOVA", crop=crops["decided"])
    pending = c.row(sheet_b, scan_b, 1, "ERLAN SADYKOV", status="needs_review", crop=crops["pending"])
    confirmed = c.row(sheet_b, scan_b, 2, "DANA ORAZ", status="confirmed", updated_by="Ala", crop=crops["confirmed"])
    with store.transaction(c.conn):
        c.conn.execute("UPDATE scans SET page_jpeg = ? WHERE id = ?", (page_a, scan_a))
        c.conn.execute("UPDATE scans SET page_jpeg = ? WHERE id = ?", (page_b, scan_b))
        c.conn.execute(
            "INSERT INTO review_log (row_id, reviewer, decided_at, action, old_name, new_name, old_status, "
            "new_status) VALUES (?, 'Ala', '2024-05-02T10:00:00+00:00', 'confirm', 'DANA ORA', 'DANA ORAZ', "
            "'needs_review', 'confirmed')",
            (confirmed,),
        )
    c.close()
    counts_before = tally.format_table(tally.tally_database(c.path, "branch")[0])

    result = CliRunner().invoke(main, ["purge", "--db", str(c.path), "--keep-unreviewed"])
    assert result.exit_code == 0, result.output
    assert "removed 2 name pictures and 1 page pictures" in result.output
    data = _on_disk(c.path)
    assert crops["decided"] not in data and crops["confirmed"] not in data and page_a not in data
    assert crops["pending"] in data and page_b in data  # a person still needs them
    assert tally.format_table(tally.tally_database(c.path, "branch")[0]) == counts_before

    result = CliRunner().invoke(main, ["purge", "--db", str(c.path), "--crops"])
    assert result.exit_code == 0, result.output
    assert "1 rows still needing review have no picture now" in result.output
    data = _on_disk(c.path)
    assert crops["pending"] not in data and page_b in data  # --crops only
    CliRunner().invoke(main, ["purge", "--db", str(c.path)])
    assert page_b not in _on_disk(c.path)
    assert tally.format_table(tally.tally_database(c.path, "branch")[0]) == counts_before
    with sqlite3.connect(c.path) as conn:
        assert conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 1
        assert conn.execute("SELECT name, status FROM rows WHERE id = ?", (pending,)).fetchone() == (
            "ERLAN SADYKOV",
            "needs_review",
        )
    assert c.path.stat().st_size < 100_000


def test_purge_of_a_missing_database_is_exit_6(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["purge", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 6 and not (tmp_path / "none.db").exists()
