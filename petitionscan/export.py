"""Write counts and signature lists as CSV a spreadsheet opens safely.

Why the care: these files go to journalists and authorities. Columns keep a
fixed order, text is UTF-8 (with a BOM and ``;`` for Excel when asked), a
cell that a spreadsheet would run as a formula gets a leading ``'``, and a
file is written to a temporary name and renamed, so a failure never leaves
half a file behind.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

from petitionscan import dedupe
from petitionscan.errors import OutputError
from petitionscan.fileio import atomic_output

ROW_COLUMNS: tuple[str, ...] = (
    "sheet_id",
    "row",
    "name",
    "status",
    "confidence",
    "signed",
    "branch",
    "source_file",
    "page",
    "first_name",
    "surname",
    "workplace",
    "town",
    "union_name",
    "crossed_out",
    "copy_no",
    "row_id",
    "scanned_at",
    "machine_name",
    "machine_status",
)
UNIQUE_COLUMNS: tuple[str, ...] = (
    "name",
    "first_name",
    "surname",
    "workplace",
    "town",
    "union_name",
    "branch",
    "sheet_id",
    "copy_no",
    "row",
    "row_id",
    "status",
    "confidence",
    "duplicates",
    "duplicate_row_ids",
)
DUPLICATE_COLUMNS: tuple[str, ...] = (
    "group",
    "kept_row_id",
    "row_id",
    "kept",
    "match",
    "reason",
    "name",
    "workplace",
    "town",
    "sheet_id",
    "copy_no",
    "row",
    "status",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """Prefix ``'`` to text a spreadsheet would run as a formula; other values pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return neutralize(value)


def write_csv(
    target: Path | TextIO,
    header: Sequence[str],
    lines: Iterable[Sequence[object]],
    *,
    excel: bool = False,
) -> None:
    """Write a CSV to a file (atomically) or to an open text stream.

    ``excel`` adds a byte-order mark and uses ``;`` as separator, which is
    what spreadsheets in most of Europe expect.
    """

    def fill(stream: TextIO) -> None:
        if excel:
            stream.write("\ufeff")
        # CRLF as RFC 4180 says; it also makes the writer quote a cell holding a lone CR.
        writer = csv.writer(stream, delimiter=";" if excel else ",", lineterminator="\r\n")
        writer.writerow(list(header))
        for line in lines:
            writer.writerow([_cell(v) for v in line])

    if isinstance(target, Path):
        if target.is_dir():
            raise OutputError(f"{target} is a folder; give a file name to --out")
        with atomic_output(target, private=True) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
    else:
        buffer = io.StringIO()
        fill(buffer)
        target.write(buffer.getvalue())
        target.flush()


# --- what is exported -------------------------------------------------------------


def row_lines(rows: pd.DataFrame) -> list[list[object]]:
    """One line per row read, in ``ROW_COLUMNS`` order."""
    return _lines(rows, ROW_COLUMNS)


def unique_lines(rows: pd.DataFrame, result: dedupe.DedupeResult) -> list[list[object]]:
    """One line per unique signer: the kept row plus the ids of the rows merged into it."""
    merged = rows.merge(result.rows[["row_id", "signer", "is_duplicate"]], on="row_id", how="inner")
    extra = (
        merged[merged["is_duplicate"]]
        .groupby("signer")["row_id"]
        .agg(lambda ids: " ".join(str(i) for i in sorted(ids)))
    )
    kept = merged[~merged["is_duplicate"]].copy()
    kept["duplicate_row_ids"] = kept["row_id"].map(extra).astype(object).fillna("")  # no duplicates: all NaN floats
    kept["duplicates"] = kept["duplicate_row_ids"].map(lambda s: len(s.split()) if s else 0)
    kept["name"] = kept["name"].map(dedupe.normalize_name)
    return _lines(kept, UNIQUE_COLUMNS)


def duplicate_lines(rows: pd.DataFrame, result: dedupe.DedupeResult) -> list[list[object]]:
    """Every row of every signer seen more than once, grouped, with the reason it was merged."""
    res = result.rows
    multi = res[res["signer"].isin(res.loc[res["is_duplicate"], "signer"])]
    merged = multi.merge(rows, on="row_id", how="left").sort_values(["signer", "row_id"])
    group_no = {s: i + 1 for i, s in enumerate(pd.unique(merged["signer"]))}
    merged["group"] = merged["signer"].map(group_no)
    merged["kept_row_id"] = merged["signer"]
    merged["kept"] = (~merged["is_duplicate"]).map({True: "yes", False: "no"})
    return _lines(merged, DUPLICATE_COLUMNS)


def _lines(frame: pd.DataFrame, columns: Sequence[str]) -> list[list[object]]:
    present = frame.reindex(columns=list(columns))
    return [list(line) for line in present.astype(object).where(present.notna(), None).itertuples(index=False)]


def export_database(
    db: Path | str,
    out: Path | TextIO,
    *,
    unique: bool = False,
    duplicates: Path | TextIO | None = None,
    excel: bool = False,
) -> None:
    """The ``export`` command: rows read (or unique signers), and optionally the duplicate groups."""
    from contextlib import closing

    from petitionscan import store, tally

    with closing(store.connect(db, create=False)) as conn:
        rows = tally.load_rows(conn, detail=True)
        result = tally.dedupe_rows(rows, tally.people_decisions(conn)) if unique or duplicates else None
    if unique and result is not None:
        write_csv(out, UNIQUE_COLUMNS, unique_lines(rows, result), excel=excel)
    else:
        write_csv(out, ROW_COLUMNS, row_lines(rows), excel=excel)
    if duplicates is not None and result is not None:
        write_csv(duplicates, DUPLICATE_COLUMNS, duplicate_lines(rows, result), excel=excel)
