"""The campaign database: SQLite, created and migrated by the tool.

Why SQLite: one file a volunteer can copy, transactions that make every page
all-or-nothing, and real columns that the tally can query. The schema is a
list of numbered migrations; ``PRAGMA user_version`` records how many ran.
Every stage keeps its own queries; this module owns the schema and the
connection rules (WAL, foreign keys, a busy timeout for two writers).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from petitionscan.errors import DatabaseError

# Row statuses. ``auto``: read with confidence; ``needs_review``: a person must
# check; ``confirmed``: a person checked or corrected it; the others are not
# signatures. Only ``auto`` and ``confirmed`` rows count as signatures.
ROW_STATUSES = (
    "auto",
    "needs_review",
    "confirmed",
    "blank",
    "crossed_out",
    "unsigned",
    "unreadable",
    "not_signature",
)
DEFAULT_DB = Path("campaign.db")
"""Every command's database unless --db or $PETITIONSCAN_DB names another: campaign.db in the current folder."""
COUNTED_STATUSES = ("auto", "confirmed")
SCAN_STATUSES = ("read", "duplicate", "foreign", "rejected")

_STATUS_CHECK = ", ".join(f"'{s}'" for s in ROW_STATUSES)
_SCAN_CHECK = ", ".join(f"'{s}'" for s in SCAN_STATUSES)

MIGRATIONS: tuple[str, ...] = (
    # 1: scans, sheets, rows, letters, review log, duplicate decisions.
    f"""
    CREATE TABLE sheets (
        id INTEGER PRIMARY KEY,
        serial TEXT NOT NULL,
        copy_no INTEGER NOT NULL DEFAULT 1,
        campaign_id TEXT NOT NULL,
        layout_code TEXT NOT NULL,
        branch TEXT,
        first_seen_at TEXT NOT NULL,
        UNIQUE (serial, copy_no)
    );
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        source_file TEXT NOT NULL,
        page INTEGER NOT NULL,
        file_hash TEXT NOT NULL,
        page_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ({_SCAN_CHECK})),
        reason TEXT,
        sheet_id INTEGER REFERENCES sheets(id),
        engine TEXT,
        engine_version TEXT,
        page_jpeg BLOB,
        scanned_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX scans_page_hash ON scans(page_hash) WHERE status != 'rejected';
    CREATE INDEX scans_file ON scans(file_hash, page);
    CREATE TABLE rows (
        id INTEGER PRIMARY KEY,
        sheet_id INTEGER NOT NULL REFERENCES sheets(id),
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        row_no INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        first_name TEXT NOT NULL DEFAULT '',
        surname TEXT NOT NULL DEFAULT '',
        workplace TEXT NOT NULL DEFAULT '',
        town TEXT NOT NULL DEFAULT '',
        union_name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ({_STATUS_CHECK})),
        confidence REAL,
        signed INTEGER NOT NULL CHECK (signed IN (0, 1)),
        crossed_out INTEGER NOT NULL CHECK (crossed_out IN (0, 1)),
        machine_name TEXT NOT NULL DEFAULT '',
        machine_status TEXT NOT NULL CHECK (machine_status IN ({_STATUS_CHECK})),
        crop_png BLOB,
        engine TEXT,
        engine_version TEXT,
        version INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL,
        updated_by TEXT,
        UNIQUE (sheet_id, row_no)
    );
    CREATE INDEX rows_status ON rows(status);
    CREATE TABLE letters (
        row_id INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
        field TEXT NOT NULL,
        position INTEGER NOT NULL,
        box INTEGER NOT NULL,
        char TEXT NOT NULL,
        probability REAL NOT NULL,
        alt2 TEXT,
        alt2_probability REAL,
        alt3 TEXT,
        alt3_probability REAL,
        PRIMARY KEY (row_id, field, position)
    );
    CREATE TABLE review_log (
        id INTEGER PRIMARY KEY,
        row_id INTEGER NOT NULL REFERENCES rows(id),
        reviewer TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        action TEXT NOT NULL,
        old_name TEXT,
        new_name TEXT,
        old_status TEXT,
        new_status TEXT
    );
    CREATE INDEX review_log_row ON review_log(row_id);
    CREATE TABLE duplicate_decisions (
        id INTEGER PRIMARY KEY,
        row_a INTEGER NOT NULL REFERENCES rows(id),
        row_b INTEGER NOT NULL REFERENCES rows(id),
        decision TEXT NOT NULL CHECK (decision IN ('same', 'different')),
        reason TEXT,
        decided_by TEXT,
        decided_at TEXT NOT NULL,
        CHECK (row_a < row_b),
        UNIQUE (row_a, row_b)
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    """UTC timestamp with seconds, as stored in every ``*_at`` column."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and create or migrate) a campaign database.

    ``create=False`` is for commands that only read: a missing file is then an
    error, not a new empty database.
    """
    if not create and not path.exists():
        raise DatabaseError(f"{path}: no such database; scan some pages first or give --db")
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Signers' names and handwriting: readable by this user only (SQLite gives
            # its -wal and -shm files the same permissions).
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise DatabaseError(f"{path}: cannot create its folder ({exc.strerror}); choose another --db") from exc
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return _open(path)
        except sqlite3.OperationalError as exc:
            # Switching a new file to WAL, or reading a WAL another run is just
            # creating, can answer "locked" without waiting on the busy handler:
            # wait and open again, as a busy handler would.
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise DatabaseError(f"{path}: not a petitionscan database or damaged ({exc}); give another --db") from exc
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{path}: not a petitionscan database or damaged ({exc}); give another --db") from exc


BUSY_TIMEOUT_S = 30.0
"""How long a run waits for another one holding the database before giving up."""


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Run the migrations not yet applied, all in one write transaction.

    The version is read again once the write lock is held: two runs opening
    a new database at the same moment then migrate it once, the second
    finding the work done instead of creating the tables twice.
    """
    if _version(conn) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    with transaction(conn):
        current = _version(conn)
        for number in range(current, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


def _version(conn: sqlite3.Connection) -> int:
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database has schema version {current}, newer than this petitionscan "
            f"({SCHEMA_VERSION}); upgrade petitionscan"
        )
    return current


def _statements(script: str) -> list[str]:
    """Split a migration into statements (they contain no semicolons in strings)."""
    return [s.strip() for s in script.split(";") if s.strip()]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any exception.

    IMMEDIATE takes the write lock at once, so two writers queue instead of
    failing halfway through a page.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
