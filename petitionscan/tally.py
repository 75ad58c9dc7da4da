"""Count signatures: rows read, what they are, and how many unique people signed.

Every row read appears in exactly one column (blank, crossed out, unsigned,
needs review, unreadable, not a signature, or signature), so the columns add
up to the rows read and nothing is silently dropped. Rows needing review are
shown, never counted as signatures until a person confirms them. A signer
whose rows fall in several groups is counted in the group of the earliest
row; the others are "duplicates removed" in their own groups, so the group
lines add up to the total.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from pandas.api.types import union_categoricals

from petitionscan import dedupe, store
from petitionscan.errors import DatabaseError, UsageError
from petitionscan.markup import printable

log = logging.getLogger(__name__)

GROUPINGS = ("branch", "workplace", "town", "sheet", "day")

# (column title, statuses) in the order they are printed.
STATUS_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("blank", ("blank",)),
    ("crossed out", ("crossed_out",)),
    ("unsigned", ("unsigned",)),
    ("unreadable", ("unreadable",)),
    ("not a signature", ("not_signature",)),
    ("needs review", ("needs_review",)),
    ("signatures", store.COUNTED_STATUSES),
)
COLUMNS: tuple[str, ...] = (
    "rows read",
    *(title for title, _ in STATUS_COLUMNS),
    "duplicates removed",
    "of which probable",
    "unique signatures",
)
TOTAL = "TOTAL"
NOT_GIVEN = "(not given)"

# Columns of a row read, as exported; the first group is all that counting needs.
COUNT_COLUMNS = {
    "row_id": "r.id",
    "sheet_id": "s.serial",
    "copy_no": "s.copy_no",
    "row": "r.row_no",
    "name": "r.name",
    "status": "r.status",
    "branch": "s.branch",
    "workplace": "r.workplace",
    "town": "r.town",
    "scanned_at": "sc.scanned_at",
}
DETAIL_COLUMNS = {
    "confidence": "r.confidence",
    "signed": "r.signed",
    "source_file": "sc.source_file",
    "page": "sc.page",
    "first_name": "r.first_name",
    "surname": "r.surname",
    "union_name": "r.union_name",
    "crossed_out": "r.crossed_out",
    "machine_name": "r.machine_name",
    "machine_status": "r.machine_status",
    "updated_by": "r.updated_by",
}
# Few distinct values: stored as categories, which keeps a million rows small.
_CATEGORIES = (
    "sheet_id", "status", "branch", "workplace", "town", "day", "scanned_at", "source_file", "union_name",
)  # fmt: skip
_TEXT = ("name", "first_name", "surname", "workplace", "town", "union_name", "branch", "machine_name")
_CHUNK = 100_000


@dataclass(frozen=True)
class Tally:
    """The counting table: one line per group, then the total line."""

    by: str | None
    columns: tuple[str, ...]
    lines: tuple[tuple[str, tuple[int, ...]], ...]
    total: tuple[int, ...]

    def value(self, column: str, group: str = TOTAL) -> int:
        """One number from the table, e.g. ``value("unique signatures")``."""
        index = self.columns.index(column)
        if group == TOTAL:
            return self.total[index]
        for name, values in self.lines:
            if name == group:
                return values[index]
        raise KeyError(group)


def load_rows(conn: store.Connection, *, detail: bool = False) -> pd.DataFrame:
    """Every row read, joined with its sheet and scan, one line each, by row id.

    Without ``detail`` only the columns that counting needs are read.
    Repeated texts become categories, read a chunk at a time, so a million
    rows fit in a few hundred MiB.
    """
    columns = {**COUNT_COLUMNS, **(DETAIL_COLUMNS if detail else {})}
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in columns.items())
    sql = (
        f"SELECT {select} FROM rows r JOIN sheets s ON s.id = r.sheet_id "
        "JOIN scans sc ON sc.id = r.scan_id ORDER BY r.id"
    )
    chunks: list[pd.DataFrame] = []
    try:
        for chunk in _read_chunks(conn, sql):
            chunks.append(_tidy(chunk))
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
        raise DatabaseError(f"cannot read the rows ({exc}); check --db is a petitionscan database") from exc
    if not chunks:
        return _tidy(pd.DataFrame({name: pd.Series(dtype=object) for name in columns}))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    if len(chunks) > 1:
        for column in _CATEGORIES:
            if column in frame.columns:
                frame[column] = union_categoricals([c[column] for c in chunks])
    return frame[[*columns, "day"]]


def _read_chunks(conn: store.Connection, sql: str) -> Iterator[pd.DataFrame]:
    """``pandas.read_sql_query`` in chunks; for PostgreSQL the same frames built from the cursor
    (pandas reads only sqlite3 and SQLAlchemy connections without a warning)."""
    if isinstance(conn, sqlite3.Connection):
        yield from pd.read_sql_query(sql, conn, chunksize=_CHUNK)
        return
    cursor = conn.execute(sql)
    columns = [column[0] for column in cursor.description]
    first = True
    while data := cursor.fetchmany(_CHUNK):
        first = False
        yield pd.DataFrame.from_records(data, columns=columns, coerce_float=True)
    if first:
        yield pd.DataFrame.from_records([], columns=columns, coerce_float=True)


def _tidy(chunk: pd.DataFrame) -> pd.DataFrame:
    for column in _TEXT:
        if column in chunk.columns:
            chunk[column] = chunk[column].fillna("").astype(object)
    chunk["day"] = chunk["scanned_at"].fillna("").astype(str).str[:10]
    for column in _CATEGORIES:
        if column in chunk.columns:
            chunk[column] = chunk[column].astype("category")
    return chunk


def counted(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows that are signatures (``auto`` or ``confirmed``)."""
    return rows[rows["status"].isin(store.COUNTED_STATUSES)]


def dedupe_rows(rows: pd.DataFrame, people: list[dedupe.Decision] | None = None) -> dedupe.DedupeResult:
    """Find the signers among the counted rows of ``rows``."""
    return dedupe.find_duplicates(counted(rows), people or [])


def group_labels(rows: pd.DataFrame, by: str | None) -> pd.Series:
    """The group each row is counted in; empty values become '(not given)'."""
    if by is None:
        return pd.Series(TOTAL, index=rows.index, dtype=object)
    if by not in GROUPINGS:
        raise UsageError(f"cannot count by {by!r}; choose one of {', '.join(GROUPINGS)}")
    if by == "sheet":
        serial = rows["sheet_id"].astype(object).astype(str)
        copy = rows["copy_no"].astype(int)
        labels = serial.where(copy <= 1, serial + " copy " + copy.astype(str))
    elif by == "workplace" or by == "town":
        labels = rows[by].astype(object).map(dedupe.normalize_name)
    else:
        labels = rows[by].astype(object).astype(str)
    return labels.where(labels != "", NOT_GIVEN).astype(object)


def tally(rows: pd.DataFrame, result: dedupe.DedupeResult, by: str | None = None) -> Tally:
    """Build the counting table from every row read and the signers found among them."""
    labels = group_labels(rows, by)
    parts = {"rows read": pd.Series(1, index=rows.index)}
    for title, statuses in STATUS_COLUMNS:
        parts[title] = rows["status"].isin(statuses).astype(int)
    dup = result.rows.set_index("row_id")
    is_dup = rows["row_id"].map(dup["is_duplicate"]).eq(True)  # rows without a signer map to NaN
    probable = rows["row_id"].map(dup["match"]).eq("probable")
    parts["duplicates removed"] = is_dup.astype(int)
    parts["of which probable"] = (is_dup & probable).astype(int)
    parts["unique signatures"] = parts["signatures"] - parts["duplicates removed"]
    table = pd.DataFrame(parts)[list(COLUMNS)]
    grouped = table.groupby(labels.to_numpy(), sort=True).sum()
    lines = tuple(
        (str(name), tuple(int(v) for v in values))
        for name, values in zip(grouped.index.tolist(), grouped.to_numpy().tolist(), strict=True)
    )
    total = tuple(int(v) for v in table.sum(axis=0).tolist()) if len(table) else (0,) * len(COLUMNS)
    return Tally(by=by, columns=COLUMNS, lines=lines if by else (), total=total)


def people_decisions(conn: store.Connection) -> list[dedupe.Decision]:
    """People's duplicate decisions (they win over the automatic ones)."""
    return dedupe.people_decisions(conn)


def count_with_conflicts(
    conn: store.Connection, by: str | None = None, *, save_decisions: bool = True
) -> tuple[Tally, tuple[str, ...]]:
    """Load, deduplicate and tally a database; also return contradictions among people's decisions.

    With ``save_decisions`` the automatic duplicate decisions are stored so a
    reviewer can see and overrule them; a read-only database is counted all
    the same.
    """
    if by is not None and by not in GROUPINGS:
        raise UsageError(f"cannot count by {by!r}; choose one of {', '.join(GROUPINGS)}")
    rows = load_rows(conn)
    result = dedupe_rows(rows, dedupe.people_decisions(conn))
    if save_decisions:
        try:
            dedupe.store_decisions(conn, result)
        except sqlite3.OperationalError as exc:
            log.warning("duplicate decisions not stored (%s); the count is unaffected", exc)
    return tally(rows, result, by), result.conflicts


def tally_database(db: store.Target, by: str | None = None) -> tuple[Tally, tuple[str, ...]]:
    """The ``tally`` command: count a campaign database; also the conflicting people's decisions."""
    from contextlib import closing

    with closing(store.connect(db, create=False)) as conn:
        return count_with_conflicts(conn, by)


def count(conn: store.Connection, by: str | None = None, *, save_decisions: bool = True) -> Tally:
    """Load, deduplicate and tally a campaign database in one call."""
    return count_with_conflicts(conn, by, save_decisions=save_decisions)[0]


# Left out of the terminal table, first to last, until it fits; --out keeps them all.
NARROW_DROP_ORDER = ("of which probable", "unreadable", "not a signature", "crossed out", "blank", "unsigned")
MIN_NAME_WIDTH = 20


def _two_lines(title: str) -> tuple[str, str]:
    """A column title split at the space that makes the wider half narrowest (one line if one word)."""
    words = title.split(" ")
    if len(words) == 1:
        return "", title
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    return min(splits, key=lambda pair: max(len(pair[0]), len(pair[1])))


def format_table(table: Tally, width: int | None = None) -> str:
    """The table as aligned text for a terminal ``width`` columns wide (None: no limit).

    Titles take two lines; when the table is still too wide, the detail
    columns of :data:`NARROW_DROP_ORDER` are left out (a last line names them)
    and long group names are shortened with an ellipsis.
    """
    head = (table.by or "").upper() or " "
    # Branch names come from the sheets' QR codes: no control characters reach the terminal.
    body = [(printable(name), values) for name, values in table.lines] + [(TOTAL, table.total)]
    titles = [_two_lines(c) for c in table.columns]
    widths = [max(len(t[0]), len(t[1]), *(len(str(v[i])) for _, v in body)) for i, t in enumerate(titles)]
    keep = list(range(len(table.columns)))
    name_width = max(len(head), *(len(n) for n, _ in body))

    def columns_width() -> int:
        return sum(widths[i] + 2 for i in keep)

    dropped: list[str] = []
    if width is not None:
        for column in NARROW_DROP_ORDER:
            if min(name_width, MIN_NAME_WIDTH) + columns_width() <= width or column not in table.columns:
                continue
            keep.remove(table.columns.index(column))
            dropped.append(column)
        name_width = max(min(name_width, width - columns_width()), min(name_width, MIN_NAME_WIDTH), len(head))

    def cut(name: str) -> str:
        return name if len(name) <= name_width else name[: name_width - 1] + "\u2026"

    def line(first: str, cells: list[str]) -> str:
        return "  ".join(
            [cut(first).ljust(name_width), *(c.rjust(widths[i]) for i, c in zip(keep, cells, strict=True))]
        )

    out = [line(" ", [titles[i][0] for i in keep]).rstrip(), line(head, [titles[i][1] for i in keep])]
    rule = "-" * len(out[1])
    out.append(rule)
    for index, (name, values) in enumerate(body):
        if index == len(body) - 1 and table.lines:
            out.append(rule)
        out.append(line(name, [str(values[i]) for i in keep]))
    if dropped:
        import textwrap

        note = f"left out to fit {width} columns: {', '.join(dropped)} (--out keeps every column)"
        out += textwrap.wrap(note, width=width or len(note))
    return "\n".join(out)


def table_rows(table: Tally) -> tuple[list[str], list[list[object]]]:
    """Header and lines for a CSV of the table (group lines, then TOTAL)."""
    header = [table.by or "group", *table.columns]
    lines: list[list[object]] = [[name, *values] for name, values in table.lines]
    lines.append([TOTAL, *table.total])
    return header, lines
