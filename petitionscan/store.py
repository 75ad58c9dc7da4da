"""The campaign database: SQLite by default, or a shared PostgreSQL server.

Why SQLite: one file a volunteer can copy, transactions that make every page
all-or-nothing, and real columns that the tally can query. Why PostgreSQL as
an option: several scan stations and reviewers writing to one campaign at
once. The schema is one list of numbered migrations for both; SQLite records
how many ran in ``PRAGMA user_version``, PostgreSQL in ``petitionscan_schema``.

Every stage keeps its own queries, written once in SQLite's dialect; this
module owns the schema, the connection rules (WAL, foreign keys, a busy
timeout for two writers) and, in one place, what PostgreSQL needs instead
(placeholders, identity columns, ``RETURNING id``, its errors).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from petitionscan.errors import DatabaseError

T = TypeVar("T")
Target = Path | str
"""Where a campaign lives: a SQLite file, or a ``postgresql://`` URL (a str)."""
URL_SCHEMES = ("postgresql://", "postgres://")


class Cursor(Protocol):
    """What the stages use of a cursor, on either back-end."""

    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A campaign connection: ``sqlite3.Connection`` itself, or the PostgreSQL adapter below."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...
    def close(self) -> None: ...


Row = Any
"""A result row: indexable by position and by column name (``sqlite3.Row`` or :class:`PgRow`)."""

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
    # 2: reviewers who log in to a shared review server, and which reviewer holds which queue row.
    """
    CREATE TABLE reviewers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE row_leases (
        row_id INTEGER NOT NULL PRIMARY KEY REFERENCES rows(id) ON DELETE CASCADE,
        leased_by TEXT NOT NULL,
        lease_until TEXT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    """UTC timestamp with seconds, as stored in every ``*_at`` column."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_url(target: Target) -> bool:
    """Is this a PostgreSQL server rather than a SQLite file?"""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def as_target(value: str | Path) -> Target:
    """A ``--db`` value as given: a URL stays text (``Path`` would fold its ``//``), anything else is a file."""
    text = str(value)
    return text if text.startswith(URL_SCHEMES) else Path(value)


def describe(target: Target) -> str:
    """The database for messages: a file's path, or the URL without its password."""
    if not is_url(target):
        return str(target)
    parts = urlsplit(str(target))
    host = parts.netloc.rpartition("@")[2]
    user = parts.username
    return urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, "", ""))


def connect(path: Target, *, create: bool = True) -> Connection:
    """Open (and create or migrate) a campaign database: a SQLite file or a PostgreSQL URL.

    ``create=False`` is for commands that only read: a missing file is then an
    error, not a new empty database (a PostgreSQL database is made by its
    administrator; an empty one gets the schema either way).
    """
    if is_url(path):
        return _connect_pg(str(path))
    path = Path(path)
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
        except sqlite3.DatabaseError as exc:
            # Switching a new file to WAL, or reading a WAL another run is just
            # creating, can answer "locked" without waiting on the busy handler:
            # wait and open again, as a busy handler would.
            locked = isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
            if locked and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
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


def migrate(conn: Connection) -> int:
    """Run the migrations not yet applied, all in one write transaction.

    The version is read again once the write lock is held (on PostgreSQL an
    advisory lock): two runs opening a new database at the same moment then
    migrate it once, the second finding the work done instead of creating
    the tables twice.
    """
    pg = isinstance(conn, PgConnection)
    if not pg and _version(conn) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    with transaction(conn):
        if pg:
            conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            conn.execute("CREATE TABLE IF NOT EXISTS petitionscan_schema (version INTEGER NOT NULL)")
        current = _version(conn)
        for number in range(current, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(_pg_schema(statement) if pg else statement)
            if pg:
                conn.execute("DELETE FROM petitionscan_schema")
                conn.execute("INSERT INTO petitionscan_schema (version) VALUES (?)", (number + 1,))
            else:
                conn.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


_MIGRATION_LOCK = 0x5065746974
"""PostgreSQL advisory lock key held while migrating ("Petit")."""


def _version(conn: Connection) -> int:
    if isinstance(conn, PgConnection):
        found = conn.execute("SELECT max(version) FROM petitionscan_schema").fetchone()[0]
        current = int(found or 0)
    else:
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
def transaction(conn: Connection) -> Iterator[Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any exception.

    IMMEDIATE takes SQLite's write lock at once, so two writers queue instead
    of failing halfway through a page. PostgreSQL writers run side by side;
    its unique constraints stop a second writer, who then redoes the work
    with :func:`atomically`.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def serialize(conn: Connection, key: str) -> None:
    """Inside a transaction: wait for any other one holding ``key``, then hold it until commit.

    For a check-then-write that no unique constraint covers. SQLite's
    ``BEGIN IMMEDIATE`` already serializes every writer; PostgreSQL takes an
    advisory lock on the key.
    """
    if isinstance(conn, PgConnection):
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))


class ConcurrentChange(sqlite3.IntegrityError):
    """Another PostgreSQL writer got there first (a unique key, a serialization failure or a deadlock)."""


def atomically(conn: Connection, work: Callable[[], T], attempts: int = 30) -> T:
    """Run ``work`` in one transaction, again from the start when another writer got there first.

    On SQLite the write lock already serializes writers, so this runs once.
    On PostgreSQL a second station storing the same page or sheet fails on
    a unique constraint; run again, it sees the first one's work and decides
    as if the two had come one after the other.
    """
    for attempt in itertools.count(1):
        try:
            with transaction(conn):
                return work()
        except ConcurrentChange:
            if attempt >= attempts:
                raise
            time.sleep(random.uniform(0.0, 0.01 * attempt))
    raise AssertionError("unreachable")


# --- PostgreSQL: every difference from SQLite is below ------------------------------

_ID_TABLES = frozenset({"sheets", "scans", "rows", "review_log", "duplicate_decisions", "reviewers"})
"""Tables with an ``id`` column, whose inserts return it (SQLite's ``lastrowid``)."""
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


def _pg_schema(statement: str) -> str:
    """A migration statement in PostgreSQL's types: identity keys, BIGINT, BYTEA, DOUBLE PRECISION."""
    statement = re.sub(r"\bINTEGER PRIMARY KEY\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
    statement = re.sub(r"\bBLOB\b", "BYTEA", statement)
    # Text sorts by its bytes, as in SQLite, whatever the server's locale.
    statement = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', statement)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> tuple[str, bool]:
    """SQLite's dialect as PostgreSQL reads it, and whether the statement returns a new id.

    ``?`` outside quotes becomes ``%s`` (a literal ``%`` doubles), ``IS ?``
    (equal, NULLs included) ``IS NOT DISTINCT FROM``, ``BEGIN IMMEDIATE`` a
    plain ``BEGIN``, and an insert into a table with an id gets ``RETURNING id``.
    """
    if sql.strip().upper() == "BEGIN IMMEDIATE":
        return "BEGIN", False
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    text = re.sub(r"\bIS %s", "IS NOT DISTINCT FROM %s", "".join(out))
    insert = _INSERT.match(text)
    returns = bool(insert and insert.group(1).lower() in _ID_TABLES and "RETURNING" not in text.upper())
    return (f"{text.rstrip().rstrip(';')} RETURNING id" if returns else text), returns


class PgRow(tuple[Any, ...]):
    """A row by position or by column name, like ``sqlite3.Row``."""

    _index: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> PgRow:
        row = PgRow(values)
        row._index = index
        return row

    return make


class PgCursor:
    """A psycopg cursor answering like a sqlite3 one (``lastrowid`` from ``RETURNING id``)."""

    def __init__(self, cursor: Any, returns_id: bool) -> None:
        self._cursor = cursor
        self.lastrowid: int | None = None
        if returns_id:
            found = cursor.fetchone()
            self.lastrowid = int(found[0]) if found is not None else None

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall()) if self._cursor.description else []

    def fetchmany(self, size: int) -> list[Any]:
        return list(self._cursor.fetchmany(size)) if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    def close(self) -> None:
        self._cursor.close()


class PgConnection:
    """A psycopg connection speaking SQLite's dialect and raising sqlite3's exceptions.

    The rest of the code then writes each query once and handles one family
    of errors; what PostgreSQL needs instead is decided here only.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        text, returns = _pg_sql(sql)
        with _pg_errors():
            cursor = self.raw.cursor()
            cursor.execute(text, _pg_params(parameters))
            return PgCursor(cursor, returns)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        text, _ = _pg_sql(sql)
        with _pg_errors():
            cursor = self.raw.cursor()
            cursor.executemany(text, [_pg_params(p) for p in parameters])
            return PgCursor(cursor, False)

    def cursor(self) -> _PandasCursor:
        """For ``pandas.read_sql_query``, which asks a DB-API connection for a cursor."""
        return _PandasCursor(self)

    def close(self) -> None:
        self.raw.close()


class _PandasCursor:
    def __init__(self, conn: PgConnection) -> None:
        self._conn = conn
        self._cursor: PgCursor | None = None

    def execute(self, sql: str, *args: Any) -> _PandasCursor:
        self._cursor = self._conn.execute(sql, args[0] if args else ())
        return self

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor else None

    def fetchmany(self, size: int) -> list[Any]:
        return self._cursor.fetchmany(size) if self._cursor else []

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor else []

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()


def _pg_params(parameters: Any) -> Any:
    """psycopg sends ``memoryview`` as bytea too, but sqlite3 callers may pass any sequence."""
    return tuple(parameters) if isinstance(parameters, list) else parameters


@contextmanager
def _pg_errors() -> Iterator[None]:
    """psycopg's errors as sqlite3's: contention, integrity, operational or other database errors."""
    import psycopg
    from psycopg import errors as pg

    try:
        yield
    except (pg.UniqueViolation, pg.SerializationFailure, pg.DeadlockDetected) as exc:
        raise ConcurrentChange(str(exc).strip()) from exc
    except psycopg.IntegrityError as exc:
        raise sqlite3.IntegrityError(str(exc).strip()) from exc
    except (psycopg.OperationalError, pg.LockNotAvailable, pg.QueryCanceled) as exc:
        raise sqlite3.OperationalError(str(exc).strip()) from exc
    except psycopg.Error as exc:
        raise sqlite3.DatabaseError(str(exc).strip()) from exc


def _connect_pg(url: str) -> PgConnection:
    """Connect to a PostgreSQL campaign (psycopg is the optional ``postgres`` extra) and migrate it."""
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(
            f"{describe(url)}: a PostgreSQL database needs psycopg; install it with "
            "pip install 'petitionscan[postgres]'"
        ) from None
    try:
        raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory, connect_timeout=int(BUSY_TIMEOUT_S))
    except psycopg.Error as exc:
        what = " ".join(str(exc).split()).replace(url, describe(url))
        raise DatabaseError(f"{describe(url)}: cannot connect ({what}); check the server and --db") from exc
    conn = PgConnection(raw)
    try:
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseError(f"{describe(url)}: cannot set up the campaign tables ({exc}); check the server") from exc
    except BaseException:
        conn.close()
        raise
    return conn
