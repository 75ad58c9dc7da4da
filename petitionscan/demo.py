"""The whole workflow on simulated returns, in one folder: what ``petitionscan demo`` runs.

For someone who installed the package and never cloned the repository: it
prints sheets, fills and scans them with the simulator, reads them, counts
and exports, and leaves every file in one folder to look at. Each step calls
the same library function as its command, so the demo shows what the
commands do, not a special path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from petitionscan.errors import OutputError, UsageError

DEMO_SHEETS = 6
DEMO_SEED = 7


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put everything, and what it counted."""

    folder: Path
    sheets_pdf: Path
    scans: Path
    truth: Path
    db: Path
    tally_csv: Path
    rows_csv: Path
    signatures_csv: Path
    duplicates_csv: Path
    report_pdf: Path
    signatories_pdf: Path
    handwriting: str
    pages_read: int
    pages_rejected: int
    unique_signatures: int
    needs_review: int


def run_demo(
    folder: Path, *, sheets: int = DEMO_SHEETS, seed: int = DEMO_SEED, jobs: int | None = None,
    step: Callable[[str], None] | None = None,
) -> DemoResult:  # fmt: skip
    """Run generate, simulate, scan, tally, export and report into ``folder``.

    ``folder`` must be new or empty, so the demo never mixes with (or
    overwrites) real work. ``step`` is told one line per stage as it starts.
    """
    from petitionscan import export, tally
    from petitionscan.forms import generate
    from petitionscan.report import report_database
    from petitionscan.scan import scan_paths
    from petitionscan.simulate import simulate

    def say(line: str) -> None:
        if step is not None:
            step(line)

    if sheets < 1:
        raise UsageError(f"--sheets must be at least 1, not {sheets}")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise OutputError(f"{folder}: exists and is not an empty folder; give a new folder for the demo")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the demo folder ({exc.strerror}); choose another") from exc

    say(f"1. print {sheets} signature sheets for a branch")
    printed = generate(
        None, sheets=sheets, out=folder / "sheets.pdf", branch="Demo branch", layout_out=folder / "layout.json"
    )
    say("2. simulate the returned sheets, filled by hand and scanned in several ways")
    assert printed.layout is not None
    simulated = simulate(printed.pdf, printed.layout, folder / "scans", profile="mixed", seed=seed)
    say(f"   handwriting: {simulated.handwriting}")
    db = folder / "campaign.db"
    say(f"3. read the scans into {db}")
    summary = scan_paths([simulated.out_dir], db=db, jobs=jobs, rejected=folder / "rejected.csv")
    say("4. count unique signatures")
    table, _ = tally.tally_database(db, "branch")
    header, lines = tally.table_rows(table)
    tally_csv = folder / "tally.csv"
    export.write_csv(tally_csv, header, lines)
    say("5. export the rows, the unique signers and the duplicates; write the report and the list")
    rows_csv, signatures_csv, duplicates_csv = folder / "rows.csv", folder / "signatures.csv", folder / "duplicates.csv"
    export.export_database(db, rows_csv)
    export.export_database(db, signatures_csv, unique=True, duplicates=duplicates_csv)
    report_pdf, signatories_pdf = folder / "report.pdf", folder / "signatories.pdf"
    report_database(db, report_pdf, target=40)
    report_database(db, signatories_pdf, signatories=True)
    return DemoResult(
        folder=folder,
        sheets_pdf=printed.pdf,
        scans=simulated.out_dir,
        truth=simulated.truth,
        db=db,
        tally_csv=tally_csv,
        rows_csv=rows_csv,
        signatures_csv=signatures_csv,
        duplicates_csv=duplicates_csv,
        report_pdf=report_pdf,
        signatories_pdf=signatories_pdf,
        handwriting=simulated.handwriting,
        pages_read=summary.pages_read,
        pages_rejected=len(summary.rejected),
        unique_signatures=table.value("unique signatures"),
        needs_review=table.value("needs review"),
    )
