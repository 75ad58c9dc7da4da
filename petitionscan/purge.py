"""Removing the signers' handwriting from a campaign database once it is no longer needed.

The database keeps, for every row read, a picture of the handwritten name
(``rows.crop_png``) and, for every page, the straightened page picture
(``scans.page_jpeg``): a person needs them to decide what the machine could
not. Once rows are decided they are only a risk. Purging sets them to NULL;
names, statuses, counts, duplicate decisions and the review log stay, so
every tally and export gives the same result afterwards. Deleted pages are
overwritten (``secure_delete``) and the file is rebuilt (``VACUUM``), so the
bytes are gone from the database file, not just unlinked inside it. On
PostgreSQL ``VACUUM FULL`` rewrites the two tables instead; the server's
write-ahead log and backups keep old pages until they are recycled.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from petitionscan import store
from petitionscan.errors import DatabaseError

_UNDECIDED_SHEETS = "SELECT DISTINCT sheet_id FROM rows WHERE status = 'needs_review'"


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed and what it kept."""

    crops_removed: int
    pages_removed: int
    undecided_kept: int  # rows still needing review whose pictures were kept
    undecided_lost: int  # rows still needing review whose pictures were removed
    bytes_before: int
    bytes_after: int


def purge_database(
    db: store.Target, *, crops: bool = True, pages: bool = True, keep_unreviewed: bool = False
) -> PurgeResult:
    """Delete stored name crops and/or page pictures, then compact the file.

    ``keep_unreviewed`` keeps the pictures a person still needs: the crops of
    rows needing review and the page pictures of their sheets.
    """
    before = _size(db)
    with closing(store.connect(db, create=False)) as conn:
        pg = store.is_url(db)
        try:
            if not pg:
                conn.execute("PRAGMA secure_delete = ON")
            with store.transaction(conn):
                undecided = int(
                    conn.execute(
                        "SELECT count(*) FROM rows WHERE status = 'needs_review' AND crop_png IS NOT NULL"
                    ).fetchone()[0]
                )
                keep_rows = " AND status != 'needs_review'" if keep_unreviewed else ""
                keep_pages = (
                    f" AND (sheet_id IS NULL OR sheet_id NOT IN ({_UNDECIDED_SHEETS}))" if keep_unreviewed else ""
                )
                crops_removed = (
                    conn.execute(f"UPDATE rows SET crop_png = NULL WHERE crop_png IS NOT NULL{keep_rows}").rowcount
                    if crops
                    else 0
                )
                pages_removed = (
                    conn.execute(f"UPDATE scans SET page_jpeg = NULL WHERE page_jpeg IS NOT NULL{keep_pages}").rowcount
                    if pages
                    else 0
                )
            if pg:  # rewrites both tables, so the old pictures leave the table files
                conn.execute("VACUUM FULL rows, scans")
            else:
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            server_size = _size(db, conn) if pg else None
        except sqlite3.OperationalError as exc:
            raise DatabaseError(
                f"{store.describe(db)}: could not purge ({exc}); close the review page or other scans and run it again"
            ) from exc
    kept = undecided if keep_unreviewed and crops else 0
    return PurgeResult(
        crops_removed=crops_removed,
        pages_removed=pages_removed,
        undecided_kept=kept,
        undecided_lost=undecided if crops and not keep_unreviewed else 0,
        bytes_before=before,
        bytes_after=_size(db) if server_size is None else server_size,
    )


def _size(db: store.Target, conn: store.Connection | None = None) -> int:
    """The database's bytes on disk, with its write-ahead log (a server's: as it reports them)."""
    if store.is_url(db):
        if conn is not None:
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
        with closing(store.connect(db, create=False)) as fresh:
            return _size(db, fresh)
    return sum(os.path.getsize(p) for p in (db, Path(f"{db}-wal")) if os.path.exists(p))
