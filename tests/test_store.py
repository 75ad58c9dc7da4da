from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from petitionscan import store
from petitionscan.errors import DatabaseError


def test_new_database_is_private_and_migrated(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "campaign.db"
    conn = store.connect(db)
    conn.close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    assert {"sheets", "scans", "rows", "letters", "review_log", "duplicate_decisions"} <= tables


def test_reading_commands_do_not_create_a_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no such database"):
        store.connect(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_a_newer_or_foreign_file_is_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    raw = sqlite3.connect(newer)
    raw.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(DatabaseError, match="upgrade petitionscan"):
        store.connect(newer)
    foreign = tmp_path / "photo.db"
    foreign.write_bytes(b"\xff\xd8\xff\xe0 not a database at all" * 100)
    with pytest.raises(DatabaseError, match="not a petitionscan database"):
        store.connect(foreign)


def test_transaction_rolls_back_everything_on_error(tmp_path: Path) -> None:
    conn = store.connect(tmp_path / "c.db")
    with pytest.raises(RuntimeError), store.transaction(conn):
        conn.execute(
            "INSERT INTO sheets (serial, campaign_id, layout_code, first_seen_at) VALUES ('A', 'x', 'L1', 'now')"
        )
        raise RuntimeError("power cut")
    assert conn.execute("SELECT COUNT(*) FROM sheets").fetchone()[0] == 0
    conn.close()


def test_a_database_another_run_is_opening_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting up WAL can answer "locked" at once while another run creates the file: wait, then open."""
    real = store._open
    answers = iter([sqlite3.OperationalError("database is locked")] * 3)

    def busy_then_free(path: Path) -> sqlite3.Connection:
        err = next(answers, None)
        if err is not None:
            raise err
        return real(path)

    monkeypatch.setattr(store, "_open", busy_then_free)
    conn = store.connect(tmp_path / "c.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    conn.close()

    def always_busy(path: Path) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "_open", always_busy)
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    with pytest.raises(DatabaseError, match="locked"):
        store.connect(tmp_path / "c.db")
