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
from dataclasses import dataclass

import pandas as pd

from petitionscan import dedupe, store
from petitionscan.errors import UsageError

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

_ROWS_SQL = """
SELECT r.id AS row_id, s.serial AS sheet_id, r.row_no AS "row", r.name, r.status, r.confidence,
       r.signed, s.branch, sc.source_file, sc.page, r.first_name, r.surname, r.workplace, r.town,
       r.union_name, r.crossed_out, s.copy_no, sc.scanned_at, r.machine_name, r.machine_status,
       r.updated_by, r.sheet_id AS sheet_pk, r.scan_id
FROM rows r JOIN sheets s ON s.id = r.sheet_id JOIN scans sc ON sc.id = r.scan_id
ORDER BY r.id
"""


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


def load_rows(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every row read, joined with its sheet and scan, one line each, by row id."""
    try:
        frame = pd.read_sql_query(_ROWS_SQL, conn)
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
        from petitionscan.errors import DatabaseError

        raise DatabaseError(f"cannot read the rows ({exc}); check --db is a petitionscan database") from exc
    for column in ("name", "first_name", "surname", "workplace", "town", "union_name", "branch"):
        frame[column] = frame[column].fillna("").astype(str)
    frame["day"] = frame["scanned_at"].fillna("").astype(str).str[:10]
    return frame


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
        copy = rows["copy_no"].astype(int)
        labels = (
            rows["sheet_id"].astype(str).where(copy <= 1, rows["sheet_id"].astype(str) + " copy " + copy.astype(str))
        )
    elif by == "workplace" or by == "town":
        labels = rows[by].map(dedupe.normalize_name)
    else:
        labels = rows[by].astype(str)
    return labels.where(labels != "", NOT_GIVEN).astype(object)


def tally(rows: pd.DataFrame, result: dedupe.DedupeResult, by: str | None = None) -> Tally:
    """Build the counting table from every row read and the signers found among them."""
    labels = group_labels(rows, by)
    parts = {"rows read": pd.Series(1, index=rows.index)}
    for title, statuses in STATUS_COLUMNS:
        parts[title] = rows["status"].isin(statuses).astype(int)
    dup = result.rows.set_index("row_id")
    is_dup = rows["row_id"].map(dup["is_duplicate"]).fillna(False).astype(bool)
    probable = rows["row_id"].map(dup["match"]).fillna("").eq("probable")
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


def people_decisions(conn: sqlite3.Connection) -> list[dedupe.Decision]:
    """People's duplicate decisions (they win over the automatic ones)."""
    return dedupe.people_decisions(conn)


def count_with_conflicts(
    conn: sqlite3.Connection, by: str | None = None, *, save_decisions: bool = True
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


def count(conn: sqlite3.Connection, by: str | None = None, *, save_decisions: bool = True) -> Tally:
    """Load, deduplicate and tally a campaign database in one call."""
    return count_with_conflicts(conn, by, save_decisions=save_decisions)[0]


def format_table(table: Tally) -> str:
    """The table as aligned text, for a terminal."""
    head = (table.by or "").upper() or " "
    body = [(name, values) for name, values in table.lines] + [(TOTAL, table.total)]
    names = [head, *(name for name, _ in body)]
    width0 = max(len(n) for n in names)
    widths = [max(len(c), *(len(str(v[i])) for _, v in body)) for i, c in enumerate(table.columns)]
    out = ["  ".join([head.ljust(width0), *(c.rjust(w) for c, w in zip(table.columns, widths, strict=True))])]
    out.append("-" * len(out[0]))
    for index, (name, values) in enumerate(body):
        if index == len(body) - 1 and table.lines:
            out.append("-" * len(out[0]))
        cells = (str(v).rjust(w) for v, w in zip(values, widths, strict=True))
        out.append("  ".join([name.ljust(width0), *cells]))
    return "\n".join(out)


def table_rows(table: Tally) -> tuple[list[str], list[list[object]]]:
    """Header and lines for a CSV of the table (group lines, then TOTAL)."""
    header = [table.by or "group", *table.columns]
    lines: list[list[object]] = [[name, *values] for name, values in table.lines]
    lines.append([TOTAL, *table.total])
    return header, lines
