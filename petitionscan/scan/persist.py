"""Storing a read page: one transaction per page, never a half-written one.

The rules that keep signatures from being counted twice live here:

* the same pixels again (``page_hash``) are skipped, in any file;
* the same serial with rows that read the same is a re-scan of the same
  paper: the scan is kept as ``duplicate`` of that sheet, no rows are added;
* the same serial with different rows is another physical sheet (a printed
  sheet photocopied before it was filled): a new ``copy_no``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from petitionscan import store
from petitionscan.errors import DatabaseError
from petitionscan.scan.results import PageResult, RowResult


@dataclass(frozen=True)
class Stored:
    """What storing a page did: ``read``, ``copy``, ``same page``, ``same sheet``, ``foreign``, ``rejected``."""

    kind: str
    sheet_id: int | None = None
    serial: str = ""
    copy_no: int = 0


def stored_pages(conn: store.Connection, file_hash: str) -> dict[int, str]:
    """Pages of this file stored before (page -> status), rejected ones excepted."""
    rows = conn.execute("SELECT page, status FROM scans WHERE file_hash = ? AND status != 'rejected'", (file_hash,))
    return {int(r[0]): str(r[1]) for r in rows}


def store_file_rejection(conn: store.Connection, source_file: str, reason: str) -> None:
    """Record a file that could not be opened at all (page 0)."""
    key = f"file:{source_file}"
    try:
        with store.transaction(conn):
            conn.execute("DELETE FROM scans WHERE status = 'rejected' AND page_hash = ?", (key,))
            conn.execute(
                "INSERT INTO scans (source_file, page, file_hash, page_hash, status, reason, scanned_at) "
                "VALUES (?, 0, '', ?, 'rejected', ?, ?)",
                (source_file, key, reason, store.now_iso()),
            )
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot write to the database ({exc}); check the disk and run again") from exc


def store_page(conn: store.Connection, res: PageResult) -> Stored:
    """Store one page's result in one transaction (again, if another station stored the same page or sheet meanwhile)."""
    try:
        return store.atomically(conn, lambda: _store(conn, res))
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot write to the database ({exc}); check the disk and run again") from exc


def _insert_scan(conn: store.Connection, res: PageResult, status: str, sheet_id: int | None) -> int:
    cur = conn.execute(
        "INSERT INTO scans (source_file, page, file_hash, page_hash, status, reason, sheet_id, engine, "
        "engine_version, page_jpeg, scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(Path(res.source_file)),
            res.page,
            res.file_hash,
            res.page_hash,
            status,
            res.reason or None,
            sheet_id,
            res.engine if status in ("read", "duplicate") else None,
            res.engine_version if status in ("read", "duplicate") else None,
            res.page_jpeg or None,
            store.now_iso(),
        ),
    )
    return int(cur.lastrowid or 0)


def _store(conn: store.Connection, res: PageResult) -> Stored:
    if res.status == "rejected":
        conn.execute(
            "DELETE FROM scans WHERE status = 'rejected' AND file_hash = ? AND page = ?", (res.file_hash, res.page)
        )
        _insert_scan(conn, res, "rejected", None)
        return Stored("rejected")
    same = conn.execute(
        "SELECT sheet_id FROM scans WHERE page_hash = ? AND status != 'rejected'", (res.page_hash,)
    ).fetchone()
    if same is not None:
        return Stored("same page", same[0])
    if res.status == "foreign" or res.registration is None:
        _insert_scan(conn, res, "foreign", None)
        return Stored("foreign")

    reg = res.registration
    copies = conn.execute(
        "SELECT id, copy_no, branch FROM sheets WHERE serial = ? ORDER BY copy_no", (reg.serial,)
    ).fetchall()
    for sheet in copies:
        if _same_sheet(conn, int(sheet[0]), res.rows):
            _insert_scan(conn, res, "duplicate", int(sheet[0]))
            return Stored("same sheet", int(sheet[0]), reg.serial, int(sheet[1]))
    copy_no = max((int(s[1]) for s in copies), default=0) + 1
    branch = reg.branch or next((str(s[2]) for s in copies if s[2]), "")
    cur = conn.execute(
        "INSERT INTO sheets (serial, copy_no, campaign_id, layout_code, branch, first_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
        (reg.serial, copy_no, reg.campaign_id, reg.layout_code, branch or None, store.now_iso()),
    )
    sheet_id = int(cur.lastrowid or 0)
    scan_id = _insert_scan(conn, res, "read", sheet_id)
    for row in res.rows:
        _insert_row(conn, res, sheet_id, scan_id, row)
    return Stored("copy" if copy_no > 1 else "read", sheet_id, reg.serial, copy_no)


def _insert_row(conn: store.Connection, res: PageResult, sheet_id: int, scan_id: int, row: RowResult) -> None:
    now = store.now_iso()
    cur = conn.execute(
        "INSERT INTO rows (sheet_id, scan_id, row_no, name, first_name, surname, workplace, town, union_name, "
        "status, confidence, signed, crossed_out, machine_name, machine_status, crop_png, engine, engine_version, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sheet_id,
            scan_id,
            row.row,
            row.name,
            row.text("first_name"),
            row.text("surname"),
            row.text("workplace"),
            row.text("town"),
            row.text("union"),
            row.status,
            row.confidence,
            int(row.signed),
            int(row.crossed_out),
            row.name,
            row.status,
            row.crop or None,
            res.engine,
            res.engine_version,
            now,
        ),
    )
    row_id = int(cur.lastrowid or 0)
    letters: list[tuple[object, ...]] = []
    for f in row.fields:
        positions = [i for i, ch in enumerate(f.text) if ch != " "]
        for pos, letter in zip(positions, f.letters, strict=False):
            alts = list(letter.alternatives) + [(None, None)] * 3
            letters.append(
                (row_id, f.key, pos, letter.box, letter.char, letter.probability,
                 alts[1][0], alts[1][1], alts[2][0], alts[2][1])
            )  # fmt: skip
    if letters:
        conn.executemany(
            "INSERT INTO letters (row_id, field, position, box, char, probability, alt2, alt2_probability, "
            "alt3, alt3_probability) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            letters,
        )


def _same_sheet(conn: store.Connection, sheet_id: int, rows: tuple[RowResult, ...]) -> bool:
    """Do these rows read like the stored sheet's rows (a re-scan of the same paper)?"""
    from petitionscan.dedupe import same_paper  # pandas: the main process only, never a page reader

    stored = {
        int(r[0]): "" if r[2] == "blank" else str(r[1])
        for r in conn.execute("SELECT row_no, machine_name, machine_status FROM rows WHERE sheet_id = ?", (sheet_id,))
    }
    if not stored:
        return False
    return same_paper(stored, {row.row: "" if row.status == "blank" else row.name for row in rows})
