"""Combine campaign databases scanned on several computers into one.

Rules, so that the count stays honest:

* a sheet scanned in two places counts once: the same serial with a page of
  the same content hash, or the same serial with matching row readings
  (another photo of the same paper), is the same sheet; the same serial with
  other people's names is a photocopy and becomes a new copy number;
* a row corrected by a person in the other database and untouched here takes
  that correction; corrected differently in both is a conflict: it is
  reported and ours is kept;
* crops, letters, the review log and people's duplicate decisions come along;
* merging the same database again changes nothing;
* each merged database is one transaction: all of it or none.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from petitionscan import store
from petitionscan.dedupe import same_paper
from petitionscan.errors import DatabaseError, UsageError

CONTENT_FIELDS = (
    "name",
    "first_name",
    "surname",
    "workplace",
    "town",
    "union_name",
    "status",
    "signed",
    "crossed_out",
)
_ROW_INSERT_FIELDS = (
    "row_no",
    "name",
    "first_name",
    "surname",
    "workplace",
    "town",
    "union_name",
    "status",
    "confidence",
    "signed",
    "crossed_out",
    "machine_name",
    "machine_status",
    "crop_png",
    "engine",
    "engine_version",
    "version",
    "updated_at",
    "updated_by",
)
_LOG_FIELDS = ("reviewer", "decided_at", "action", "old_name", "new_name", "old_status", "new_status")
_DUP_ACTION = re.compile(r"^duplicate:(same|different):(\d+)$")


@dataclass(frozen=True)
class MergeResult:
    """What merging one database did."""

    source: str
    sheets_added: int = 0
    copies_added: int = 0
    sheets_matched: int = 0
    scans_added: int = 0
    rows_added: int = 0
    rows_corrected: int = 0
    readings_differ: int = 0
    log_added: int = 0
    decisions_added: int = 0
    conflicts: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(
            (
                self.sheets_added,
                self.copies_added,
                self.scans_added,
                self.rows_added,
                self.rows_corrected,
                self.log_added,
                self.decisions_added,
            )
        )


def merge_databases(target: store.Target, sources: Sequence[store.Target]) -> list[MergeResult]:
    """Merge each of ``sources`` into ``target`` (created if missing), one transaction each.

    Either side may be a PostgreSQL URL: stations' files into the shared
    server, or the server back into a file.
    """
    if not sources:
        raise UsageError("name at least one database to merge into --db")
    target_real = _identity(target)
    for source in sources:
        if not store.is_url(source) and not Path(source).exists():
            raise DatabaseError(f"{source}: no such database; check the path")
        if _identity(source) == target_real:
            raise UsageError(f"{store.describe(source)} is the --db itself; name the other computers' databases")
    conn = store.connect(target)
    try:
        return [_merge_one(conn, source) for source in sources]
    finally:
        conn.close()


def _identity(target: store.Target) -> str:
    return store.describe(target) if store.is_url(target) else str(Path(target).resolve())


def _snapshot(source: store.Target, folder: Path) -> store.Connection:
    """A private, migrated copy of ``source``: the original is only read, WAL included.

    A PostgreSQL source is read in one read-only snapshot transaction instead.
    """
    if store.is_url(source):
        conn = store.connect(source, create=False)
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return conn
    source = Path(source)
    copy = folder / "source.db"
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
        try:
            dst = sqlite3.connect(copy)
            with dst:
                src.backup(dst)
            dst.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{source}: not a petitionscan database or damaged ({exc}); leave it out") from exc
    return store.connect(copy, create=False)


def _merge_one(conn: store.Connection, source: store.Target) -> MergeResult:
    folder = Path(tempfile.mkdtemp(prefix="petitionscan-merge-"))
    try:
        other = _snapshot(source, folder)
        try:
            # Again from the start if a scan station stored the same sheet meanwhile (PostgreSQL).
            return store.atomically(conn, lambda: _Merger(conn, other, store.describe(source)).run())
        finally:
            other.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _Merger:
    """One merge, inside the target's transaction; counts what it does."""

    def __init__(self, conn: store.Connection, other: store.Connection, label: str) -> None:
        self.conn, self.other, self.label = conn, other, label
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "sheets_added",
                "copies_added",
                "sheets_matched",
                "scans_added",
                "rows_added",
                "rows_corrected",
                "readings_differ",
                "log_added",
                "decisions_added",
            ),
            0,
        )
        self.conflicts: list[str] = []
        self.sheet_map: dict[int, int] = {}
        self.scan_map: dict[int, int] = {}
        self.row_map: dict[int, int] = {}

    def run(self) -> MergeResult:
        for sheet in self.other.execute("SELECT * FROM sheets ORDER BY serial, copy_no, id").fetchall():
            self._sheet(sheet)
        for scan in self.other.execute("SELECT * FROM scans WHERE sheet_id IS NULL ORDER BY id").fetchall():
            self._scan(scan, None, duplicate=False)
        self._review_log()
        self._decisions()
        return MergeResult(source=self.label, conflicts=tuple(self.conflicts), **self.counts)

    # -- sheets and scans ------------------------------------------------------------

    def _sheet(self, sheet: store.Row) -> None:
        scans = self.other.execute("SELECT * FROM scans WHERE sheet_id = ? ORDER BY id", (sheet["id"],)).fetchall()
        rows = self.other.execute("SELECT * FROM rows WHERE sheet_id = ? ORDER BY row_no", (sheet["id"],)).fetchall()
        local_id = self._find_sheet(sheet, scans, rows)
        if local_id is None:
            local_id = self._insert_sheet(sheet)
        else:
            self.counts["sheets_matched"] += 1
            self.conn.execute(
                "UPDATE sheets SET first_seen_at = CASE WHEN ? < first_seen_at THEN ? ELSE first_seen_at END, "
                "branch = coalesce(nullif(branch, ''), ?) WHERE id = ?",
                (sheet["first_seen_at"], sheet["first_seen_at"], sheet["branch"], local_id),
            )
        self.sheet_map[int(sheet["id"])] = local_id
        known_rows = {int(r[0]) for r in self.conn.execute("SELECT row_no FROM rows WHERE sheet_id = ?", (local_id,))}
        for scan in scans:
            self._scan(scan, local_id, duplicate=bool(known_rows))
        for row in rows:
            self._row(row, local_id)

    def _find_sheet(self, sheet: store.Row, scans: list[store.Row], rows: list[store.Row]) -> int | None:
        """The local sheet that is the same paper, or None (new sheet or photocopy)."""
        candidates = self.conn.execute(
            "SELECT id FROM sheets WHERE serial = ? ORDER BY copy_no", (sheet["serial"],)
        ).fetchall()
        hashes = {s["page_hash"] for s in scans if s["status"] != "rejected"}
        for (local_id,) in candidates:
            local_hashes = {
                r[0]
                for r in self.conn.execute(
                    "SELECT page_hash FROM scans WHERE sheet_id = ? AND status != 'rejected'", (local_id,)
                )
            }
            if hashes & local_hashes:
                return int(local_id)
        for (local_id,) in candidates:
            local_rows = {
                int(r["row_no"]): r["name"]
                for r in self.conn.execute("SELECT row_no, name FROM rows WHERE sheet_id = ?", (local_id,))
            }
            if same_paper(local_rows, {int(r["row_no"]): r["name"] for r in rows}):
                return int(local_id)
        return None

    def _insert_sheet(self, sheet: store.Row) -> int:
        top = self.conn.execute("SELECT max(copy_no) FROM sheets WHERE serial = ?", (sheet["serial"],)).fetchone()[0]
        copy_no = int(sheet["copy_no"]) if top is None else int(top) + 1
        self.counts["sheets_added" if top is None else "copies_added"] += 1
        cur = self.conn.execute(
            "INSERT INTO sheets (serial, copy_no, campaign_id, layout_code, branch, first_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                sheet["serial"],
                copy_no,
                sheet["campaign_id"],
                sheet["layout_code"],
                sheet["branch"],
                sheet["first_seen_at"],
            ),
        )
        return int(cur.lastrowid or 0)

    def _scan(self, scan: store.Row, sheet_id: int | None, *, duplicate: bool) -> None:
        if scan["status"] == "rejected":
            found = self.conn.execute(
                "SELECT id FROM scans WHERE status = 'rejected' AND page_hash = ? AND file_hash = ? AND page = ?",
                (scan["page_hash"], scan["file_hash"], scan["page"]),
            ).fetchone()
        else:
            found = self.conn.execute(
                "SELECT id FROM scans WHERE status != 'rejected' AND page_hash = ?", (scan["page_hash"],)
            ).fetchone()
        if found:
            self.scan_map[int(scan["id"])] = int(found[0])
            return
        status, reason = scan["status"], scan["reason"]
        if duplicate and status == "read":
            status, reason = "duplicate", f"same sheet already read; came with {self.label}"
        cur = self.conn.execute(
            "INSERT INTO scans (source_file, page, file_hash, page_hash, status, reason, sheet_id, engine, "
            "engine_version, scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                scan["source_file"],
                scan["page"],
                scan["file_hash"],
                scan["page_hash"],
                status,
                reason,
                sheet_id,
                scan["engine"],
                scan["engine_version"],
                scan["scanned_at"],
            ),
        )
        self.scan_map[int(scan["id"])] = int(cur.lastrowid or 0)
        self.counts["scans_added"] += 1

    # -- rows -------------------------------------------------------------------------

    def _row(self, row: store.Row, sheet_id: int) -> None:
        local = self.conn.execute(
            "SELECT * FROM rows WHERE sheet_id = ? AND row_no = ?", (sheet_id, row["row_no"])
        ).fetchone()
        if local is None:
            self.row_map[int(row["id"])] = self._insert_row(row, sheet_id)
            return
        self.row_map[int(row["id"])] = int(local["id"])
        if all(local[f] == row[f] for f in CONTENT_FIELDS):
            return
        theirs, ours = row["updated_by"] is not None, local["updated_by"] is not None
        serial = self.conn.execute("SELECT serial FROM sheets WHERE id = ?", (sheet_id,)).fetchone()[0]
        if theirs and not ours:
            self.conn.execute(
                f"UPDATE rows SET {', '.join(f'{f} = ?' for f in CONTENT_FIELDS)}, "
                "updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ?",
                (*(row[f] for f in CONTENT_FIELDS), row["updated_at"], row["updated_by"], local["id"]),
            )
            self.counts["rows_corrected"] += 1
        elif theirs and ours:
            self.conflicts.append(
                f"sheet {serial} row {row['row_no']}: {local['updated_by']} made it "
                f"{local['name']!r} ({local['status']}) here, {row['updated_by']} made it "
                f"{row['name']!r} ({row['status']}) in {self.label}; kept ours, review it"
            )
        else:
            self.counts["readings_differ"] += 1

    def _insert_row(self, row: store.Row, sheet_id: int) -> int:
        if int(row["scan_id"]) not in self.scan_map:
            scan = self.other.execute("SELECT * FROM scans WHERE id = ?", (row["scan_id"],)).fetchone()
            self._scan(scan, sheet_id, duplicate=False)
        scan_id = self.scan_map[int(row["scan_id"])]
        fields = ("sheet_id", "scan_id", *_ROW_INSERT_FIELDS)
        cur = self.conn.execute(
            f"INSERT INTO rows ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",
            (sheet_id, scan_id, *(row[f] for f in _ROW_INSERT_FIELDS)),
        )
        new_id = int(cur.lastrowid or 0)
        letters = self.other.execute(
            "SELECT field, position, box, char, probability, alt2, alt2_probability, alt3, alt3_probability "
            "FROM letters WHERE row_id = ?",
            (row["id"],),
        ).fetchall()
        self.conn.executemany(
            "INSERT INTO letters (row_id, field, position, box, char, probability, alt2, alt2_probability, "
            "alt3, alt3_probability) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(new_id, *tuple(letter)) for letter in letters],
        )
        self.counts["rows_added"] += 1
        return new_id

    # -- review log and people's duplicate decisions ---------------------------------------

    def _review_log(self) -> None:
        for entry in self.other.execute("SELECT * FROM review_log ORDER BY id").fetchall():
            row_id = self.row_map.get(int(entry["row_id"]))
            if row_id is None:
                continue
            values = dict(zip(_LOG_FIELDS, (entry[f] for f in _LOG_FIELDS), strict=True))
            match = _DUP_ACTION.match(values["action"] or "")
            if match:
                mapped = self.row_map.get(int(match.group(2)))
                if mapped is None:
                    continue
                values["action"] = f"duplicate:{match.group(1)}:{mapped}"
            where = " AND ".join(f"{f} IS ?" for f in _LOG_FIELDS)
            if self.conn.execute(
                f"SELECT 1 FROM review_log WHERE row_id = ? AND {where}", (row_id, *values.values())
            ).fetchone():
                continue
            self.conn.execute(
                f"INSERT INTO review_log (row_id, {', '.join(_LOG_FIELDS)}) VALUES (?, {', '.join('?' * len(_LOG_FIELDS))})",
                (row_id, *values.values()),
            )
            self.counts["log_added"] += 1

    def _decisions(self) -> None:
        decisions = self.other.execute(
            "SELECT * FROM duplicate_decisions WHERE decided_by IS NOT NULL ORDER BY decided_at, id"
        ).fetchall()
        for d in decisions:
            a, b = self.row_map.get(int(d["row_a"])), self.row_map.get(int(d["row_b"]))
            if a is None or b is None or a == b:
                continue
            a, b = min(a, b), max(a, b)
            local = self.conn.execute(
                "SELECT decision, decided_by FROM duplicate_decisions WHERE row_a = ? AND row_b = ?", (a, b)
            ).fetchone()
            if local is not None and local["decided_by"] is not None:
                if local["decision"] != d["decision"]:
                    self.conflicts.append(
                        f"rows {a} and {b}: {local['decided_by']} decided '{local['decision']}' here, "
                        f"{d['decided_by']} decided '{d['decision']}' in {self.label}; kept ours, review it"
                    )
                continue
            self.conn.execute(
                "INSERT INTO duplicate_decisions (row_a, row_b, decision, reason, decided_by, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (row_a, row_b) DO UPDATE SET decision = excluded.decision, "
                "reason = excluded.reason, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
                (a, b, d["decision"], d["reason"], d["decided_by"], d["decided_at"]),
            )
            self.counts["decisions_added"] += 1
