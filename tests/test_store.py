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


# --- both back-ends: the same schema, migrations and transactions ---------------------------


def _version(conn: store.Connection) -> int:
    if isinstance(conn, store.PgConnection):
        return int(conn.execute("SELECT max(version) FROM petitionscan_schema").fetchone()[0])
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_both_backends_migrate_to_the_same_schema(db_target: store.Target) -> None:
    conn = store.connect(db_target)
    assert _version(conn) == store.SCHEMA_VERSION
    with store.transaction(conn):
        cur = conn.execute(
            "INSERT INTO sheets (serial, campaign_id, layout_code, first_seen_at) VALUES (?, 'x', 'L1', ?)",
            ("A-1", store.now_iso()),
        )
    assert cur.lastrowid == 1
    row = conn.execute("SELECT id, serial, copy_no FROM sheets WHERE serial = ?", ("A-1",)).fetchone()
    assert (row[0], row["serial"], row["copy_no"]) == (1, "A-1", 1)
    conn.close()
    again = store.connect(db_target)  # migrating a current database changes nothing
    assert _version(again) == store.SCHEMA_VERSION
    assert again.execute("SELECT count(*) FROM sheets").fetchone()[0] == 1
    again.close()


def test_both_backends_roll_back_and_keep_unique_keys(db_target: store.Target) -> None:
    conn = store.connect(db_target)
    insert = "INSERT INTO sheets (serial, campaign_id, layout_code, first_seen_at) VALUES ('A', 'x', 'L1', 'now')"
    with pytest.raises(RuntimeError), store.transaction(conn):
        conn.execute(insert)
        raise RuntimeError("power cut")
    assert conn.execute("SELECT COUNT(*) FROM sheets").fetchone()[0] == 0
    with store.transaction(conn):
        conn.execute(insert)
    with pytest.raises(sqlite3.IntegrityError), store.transaction(conn):
        conn.execute(insert)  # (serial, copy_no) is unique on both
    assert conn.execute("SELECT COUNT(*) FROM sheets WHERE serial IS ?", ("A",)).fetchone()[0] == 1
    conn.close()


def test_many_first_opens_at_once_migrate_once(db_target: store.Target) -> None:
    """Scan stations starting together on a new campaign: one migrates, the others wait and find it done."""
    from concurrent.futures import ThreadPoolExecutor

    def open_close(_: int) -> int:
        conn = store.connect(db_target)
        try:
            return _version(conn)
        finally:
            conn.close()

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(open_close, range(6))) == [store.SCHEMA_VERSION] * 6


def test_a_url_without_psycopg_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(DatabaseError, match=r"petitionscan\[postgres\]") as err:
        store.connect("postgresql://ann:secret@db.example/campaign")
    assert "secret" not in err.value.message


def test_urls_stay_urls_and_hide_their_password() -> None:
    assert store.as_target("postgresql://ann@db/campaign") == "postgresql://ann@db/campaign"
    assert store.as_target("campaign.db") == Path("campaign.db")
    assert store.describe("postgresql://ann:secret@db:5433/c?sslmode=require") == "postgresql://ann@db:5433/c"
    assert store.describe(Path("campaign.db")) == "campaign.db"


def test_unreachable_server_is_one_clear_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(DatabaseError, match="cannot connect") as err:
        store.connect("postgresql://ann:secret@127.0.0.1:1/campaign")
    assert "secret" not in err.value.message


def test_concurrent_writers_are_retried_not_failed(pg_url: str) -> None:
    """A unique-key clash between two PostgreSQL writers runs the loser's work again."""
    first, second = store.connect(pg_url), store.connect(pg_url)
    attempts = []

    def work() -> str:
        attempts.append(1)
        found = second.execute("SELECT id FROM sheets WHERE serial = 'S'").fetchone()
        if found is not None:
            return "found"
        if len(attempts) == 1:  # another station stores the same sheet meanwhile
            with store.transaction(first):
                first.execute(
                    "INSERT INTO sheets (serial, campaign_id, layout_code, first_seen_at) VALUES ('S', 'x', 'L', 'n')"
                )
        second.execute(
            "INSERT INTO sheets (serial, campaign_id, layout_code, first_seen_at) VALUES ('S', 'x', 'L', 'n')"
        )
        return "inserted"

    assert store.atomically(second, work) == "found"
    assert len(attempts) == 2
    first.close()
    second.close()
