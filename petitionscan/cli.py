"""The ``petitionscan`` command line: parse options, call one library function, print.

All user-facing errors arrive here as :class:`PetitionscanError` and leave as
one line on stderr and the error's exit code; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from petitionscan import __version__
from petitionscan.errors import TESSERACT_INSTALL, Interrupted, PetitionscanError
from petitionscan.store import DEFAULT_DB, Target, as_target, describe

F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns the project's exceptions into one line and an exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PetitionscanError as exc:
            _fail(ctx, exc)
        except KeyboardInterrupt:
            _fail(ctx, Interrupted(INTERRUPTED))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: one line, the traceback with --verbose
            if _stop_asked.is_set():  # a library turned the interrupt into an error of its own
                _fail(ctx, Interrupted(INTERRUPTED))
            what = " ".join(str(exc).split())
            _fail(ctx, PetitionscanError(f"unexpected failure ({type(exc).__name__}: {what}); run with -v for details"))
        return None


INTERRUPTED = "interrupted; everything stored so far is complete: run the same command again to go on"
_stop_asked = threading.Event()


def _terminate_like_ctrl_c() -> None:
    """SIGTERM (``kill``, a shutdown) stops a command as Ctrl+C does: cleanly, with exit 130.

    Both are remembered: the interrupt is raised wherever the program is, and a
    library that catches it there may raise an error of its own instead
    (ReportLab drawing a QR code: "'SRect' object has no attribute '_parent'");
    that run still ends as interrupted, not as a bug. A library that swallows
    it and goes on is stopped at its next progress report (:class:`_Bar`).
    """

    def interrupt(_signum: int, _frame: object) -> None:
        _stop_asked.set()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        _stop_asked.clear()
        signal.signal(signal.SIGTERM, interrupt)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, interrupt)


def _fail(ctx: click.Context, exc: PetitionscanError) -> None:
    if ctx.find_root().params.get("verbose"):
        traceback.print_exc(file=sys.stderr)
    click.echo(f"petitionscan: error: {exc.message}", err=True)
    ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "PETITIONSCAN"})
@click.version_option(__version__, prog_name="petitionscan")
@click.option("-v", "--verbose", is_flag=True, help="Log details and show full tracebacks on errors.")
def main(verbose: bool) -> None:
    """Print petition sheets, read returned scans, count unique signatures. Offline.

    Every command uses campaign.db in the current folder unless --db or
    PETITIONSCAN_DB names another. Any option can also be set as
    PETITIONSCAN_<COMMAND>_<OPTION> (PETITIONSCAN_SCAN_JOBS=2).
    """
    _terminate_like_ctrl_c()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _db_option(help_text: str = "Campaign database.") -> Callable[[F], F]:
    """The same --db on every command: ./campaign.db unless PETITIONSCAN_DB says otherwise.

    A ``postgresql://`` URL stays text (a path would fold its ``//``).
    """
    return click.option(
        "--db",
        type=str,
        callback=lambda _ctx, _param, value: as_target(value),
        default=DEFAULT_DB,
        envvar="PETITIONSCAN_DB",
        show_default=True,
        show_envvar=True,
        help=f"{help_text} A SQLite file, or a postgresql://user@host/dbname URL for a shared server.",
    )


class _Bar:
    """A progress bar on stderr, shown only on a terminal and only once there is something to show."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.bar: Any = None

    def __call__(self, done: int, total: int | None = None) -> None:
        if _stop_asked.is_set():  # a library swallowed the interrupt and went on: stop here
            raise KeyboardInterrupt
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=self.unit, file=sys.stderr, dynamic_ncols=True, leave=False, disable=None)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --- sheets -----------------------------------------------------------------


@main.command()
@click.argument("campaign", required=False, type=click.Path(path_type=Path))
@click.option("--sheets", "-n", type=int, default=1, show_default=True, help="Signature sheets to print.")
@click.option("--branch", help="Branch or workplace printed on every sheet.")
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True, help="PDF to write.")
@click.option("--layout", type=click.Path(path_type=Path), help="Also write the exact geometry as JSON.")
@click.option("--no-appeal", is_flag=True, help="Leave out the appeal page(s).")
def generate(
    campaign: Path | None, sheets: int, branch: str | None, out: Path, layout: Path | None, no_appeal: bool
) -> None:
    """Print a campaign's appeal and N numbered signature sheets as one PDF.

    CAMPAIGN is a TOML campaign file or the name of a shipped one (see
    'petitionscan campaigns'); without it the default campaign is used.
    """
    from petitionscan.forms import generate as run

    bar = _Bar("sheet")
    try:
        result = run(
            campaign, sheets=sheets, out=out, branch=branch, layout_out=layout, with_appeal=not no_appeal, progress=bar
        )
    finally:
        bar.close()
    click.echo(f"wrote {result.pdf} ({result.pages} pages, {len(result.serials)} signature sheets)")
    if result.layout:
        click.echo(f"wrote {result.layout}")


@main.command("campaigns")
@click.argument("name", required=False)
def campaigns_command(name: str | None) -> None:
    """List the campaigns shipped with petitionscan, or print one (to start your own).

    'petitionscan campaigns mangystau > my-campaign.toml' copies the default
    campaign into a file to edit; print it with 'petitionscan generate my-campaign.toml'.
    """
    from petitionscan.forms.campaign import DEFAULT_CAMPAIGN, load_shipped_campaign, shipped_campaign_text

    if name is not None:
        click.echo(shipped_campaign_text(name), nl=False)
        return
    from petitionscan.forms.campaign import shipped_campaigns

    for shipped in shipped_campaigns():
        campaign = load_shipped_campaign(shipped)
        default = " (default)" if shipped == DEFAULT_CAMPAIGN else ""
        click.echo(f"{shipped}{default}: {campaign.language}, {campaign.title}")


@main.command("demo")
@click.argument("folder", required=False, default=Path("petitionscan-demo"), type=click.Path(path_type=Path))
@click.option("--sheets", "-n", type=click.IntRange(1, 200), default=6, show_default=True, help="Sheets to print.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Worker processes for reading (default: all cores).")
def demo_command(folder: Path, sheets: int, jobs: int | None) -> None:
    """Run the whole workflow on simulated returned sheets, into a new FOLDER.

    Prints sheets, fills them with handwriting and scans them (simulated),
    reads them, counts, exports and writes the report: every file stays in
    FOLDER (default: petitionscan-demo).
    """
    from petitionscan.demo import run_demo

    result = run_demo(folder, sheets=sheets, jobs=jobs, step=click.echo)
    click.echo(
        f"read {result.pages_read} pages ({result.pages_rejected} rejected): "
        f"{result.unique_signatures} unique signatures, {result.needs_review} names for a person to check"
    )
    click.echo(f"the printable sheets:  {result.sheets_pdf}")
    click.echo(f"the simulated scans:   {result.scans} ({result.truth.name} says what was written)")
    click.echo(f"the database:          {result.db}")
    click.echo(f"tally, rows, signers:  {result.tally_csv}, {result.rows_csv}, {result.signatures_csv}")
    click.echo(f"report and list:       {result.report_pdf}, {result.signatories_pdf}")
    click.echo(f"check the uncertain names in your browser: petitionscan review --db {result.db}")


# --- more commands are added below, one function each ------------------------


@main.command("simulate")
@click.argument("pdf", type=click.Path(path_type=Path))
@click.option("--layout", type=click.Path(path_type=Path), required=True, help="Layout JSON written by generate.")
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True, help="Folder for the scans and truth.csv.")
@click.option(
    "--profile", default="flatbed", show_default=True,
    type=click.Choice(["flatbed", "feeder", "phone", "fax", "photocopy", "mixed"]),
    help="How the sheets are captured; 'mixed' picks one per sheet.",
)  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same files.")
@click.option("--fill", type=float, default=0.8, show_default=True, help="Expected share of rows with a signer (0-1).")
def simulate_command(pdf: Path, layout: Path, out: Path, profile: str, seed: int, fill: float) -> None:
    """Fill printed sheets with handwritten names and capture them as scans, with their truth.

    For tests, benchmarks and demos: PDF and --layout come from 'petitionscan generate'.
    """
    from petitionscan.simulate import simulate

    result = simulate(pdf, layout, out, profile=profile, seed=seed, fill=fill)
    click.echo(
        f"wrote {len(result.files)} files with {result.sheets} sheets to {result.out_dir} "
        f"({result.filled_rows} of {result.rows} rows filled)"
    )
    click.echo(f"handwriting: {result.handwriting}")
    click.echo(f"wrote {result.truth}")


# --- counting: tally, export, report, merge -------------------------------------

_DB_OPTION = _db_option()
_CSV_OUT = click.Path(path_type=Path, allow_dash=True)


def _target(out: Path) -> Any:
    """``-`` means standard output, anything else a file written atomically."""
    return sys.stdout if str(out) == "-" else out


@main.command("tally")
@_DB_OPTION
@click.option("--by", type=click.Choice(["branch", "workplace", "town", "sheet", "day"]), help="One line per group.")
@click.option("--out", "-o", type=_CSV_OUT, help="Also write the table as CSV ('-': stdout).")
@click.option("--excel", is_flag=True, help="CSV for spreadsheets: byte-order mark and ';' separator.")
def tally_command(db: Target, by: str | None, out: Path | None, excel: bool) -> None:
    """Count rows read, signatures and unique signatures, in total or per group."""
    from petitionscan import export, tally

    table, conflicts = tally.tally_database(db, by)
    for line in conflicts:
        click.echo(f"petitionscan: warning: {line}", err=True)
    if out is None or str(out) != "-":
        click.echo(tally.format_table(table, shutil.get_terminal_size((80, 24)).columns))
    if out is not None:
        header, lines = tally.table_rows(table)
        export.write_csv(_target(out), header, lines, excel=excel)
        if str(out) != "-":
            click.echo(f"wrote {out}")


@main.command("export")
@_DB_OPTION
@click.option("--out", "-o", type=_CSV_OUT, required=True, help="CSV to write ('-': stdout).")
@click.option("--unique", is_flag=True, help="One line per unique signer instead of one per row read.")
@click.option("--duplicates", type=_CSV_OUT, help="Also write every duplicate group with its reason.")
@click.option("--excel", is_flag=True, help="CSV for spreadsheets: byte-order mark and ';' separator.")
def export_command(db: Target, out: Path, unique: bool, duplicates: Path | None, excel: bool) -> None:
    """Write the rows read (or the unique signers) as CSV."""
    from petitionscan.errors import UsageError
    from petitionscan.export import export_database

    if duplicates is not None and str(duplicates) == "-" and str(out) == "-":
        raise UsageError("only one of --out and --duplicates can be '-' (stdout)")
    export_database(
        db, _target(out), unique=unique, duplicates=None if duplicates is None else _target(duplicates), excel=excel
    )
    for path in (out, duplicates):
        if path is not None and str(path) != "-":
            click.echo(f"wrote {path}", err=str(out) == "-" or str(duplicates) == "-")


@main.command("report")
@_DB_OPTION
@click.option("--out", "-o", type=_CSV_OUT, required=True, help="PDF to write ('-': stdout).")
@click.option("--target", type=int, help="Signatures the campaign aims for (drawn on the chart).")
@click.option("--signatories", is_flag=True, help="Write the printable list of unique signatories instead.")
@click.option("--title", help="Title on the first page.")
def report_command(db: Target, out: Path, target: int | None, signatories: bool, title: str | None) -> None:
    """Write the count report as PDF (charts per branch and per day), or the signatory list."""
    from petitionscan.report import report_database

    to_stdout = str(out) == "-"
    bar = _Bar("page")
    try:
        report_database(
            db,
            sys.stdout.buffer if to_stdout else out,
            target=target,
            signatories=signatories,
            title=title,
            progress=bar,
        )
    finally:
        bar.close()
    if not to_stdout:
        click.echo(f"wrote {out}")


@main.command("merge")
@click.argument("others", nargs=-1, required=True)
@_DB_OPTION
def merge_command(others: tuple[str, ...], db: Target) -> None:
    """Merge databases scanned on other computers into --db; merging twice changes nothing.

    OTHERS are SQLite files or postgresql:// URLs: a station's file into the
    shared server, or the server back into a file.
    """
    from petitionscan.merge import merge_databases

    for result in merge_databases(db, [as_target(other) for other in others]):
        click.echo(
            f"{result.source}: {result.sheets_added} new sheets, {result.copies_added} photocopies, "
            f"{result.sheets_matched} already here, {result.rows_added} rows added, "
            f"{result.rows_corrected} corrections taken, {result.log_added} review entries, "
            f"{result.decisions_added} duplicate decisions" + ("" if result.changed else " (nothing new)")
        )
        for line in result.conflicts:
            click.echo(f"petitionscan: conflict: {line}", err=True)


@main.command("purge")
@_DB_OPTION
@click.option("--crops", is_flag=True, help="Remove the pictures of handwritten names.")
@click.option("--pages", is_flag=True, help="Remove the page pictures.")
@click.option("--keep-unreviewed", is_flag=True, help="Keep the pictures of rows still needing review.")
def purge_command(db: Target, crops: bool, pages: bool, keep_unreviewed: bool) -> None:
    """Delete the stored handwriting once rows are decided; names, counts and the audit trail stay.

    Without --crops or --pages both are removed. The file is compacted, so the bytes are gone.
    """
    from petitionscan.purge import purge_database

    both = not crops and not pages
    result = purge_database(db, crops=crops or both, pages=pages or both, keep_unreviewed=keep_unreviewed)
    click.echo(
        f"removed {result.crops_removed} name pictures and {result.pages_removed} page pictures; "
        f"{describe(db)}: {result.bytes_before / 1e6:.1f} MB -> {result.bytes_after / 1e6:.1f} MB"
    )
    if result.undecided_kept:
        click.echo(f"kept the pictures of {result.undecided_kept} rows still needing review")
    if result.undecided_lost:
        click.echo(
            f"petitionscan: warning: {result.undecided_lost} rows still needing review have no picture now; "
            "decide them from the paper sheets",
            err=True,
        )


# --- review -----------------------------------------------------------------


@main.command()
@_db_option("Campaign database to review.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Local port (0: any free one)."
)
@click.option("--no-browser", is_flag=True, help="Only print the address; do not open a browser.")
@click.option("--reviewer", metavar="NAME", help="Your name for the audit trail (otherwise the page asks).")
@click.option(
    "--listen", metavar="ADDRESS", default="127.0.0.1", show_default=True,
    help="Address to serve on; another one than 127.0.0.1 (0.0.0.0: every network) shares the page "
    "with the local network, and every reviewer logs in.",
)  # fmt: skip
@click.option("--tls-cert", type=click.Path(path_type=Path, dir_okay=False), help="PEM certificate: serve HTTPS.")
@click.option("--tls-key", type=click.Path(path_type=Path, dir_okay=False), help="The certificate's private key.")
@click.option("--host-name", "host_names", multiple=True, metavar="NAME",
              help="A name reviewers' browsers use for this computer (IP addresses always work).")  # fmt: skip
def review(
    db: Target,
    port: int,
    no_browser: bool,
    reviewer: str | None,
    listen: str,
    tls_cert: Path | None,
    tls_key: Path | None,
    host_names: tuple[str, ...],
) -> None:
    """Check and correct uncertain rows in the browser, on this computer only (or shared with --listen).

    Every decision is saved at once; stop with Ctrl+C at any time. A shared
    server hands each reviewer other rows; add reviewers first with
    'petitionscan reviewers add NAME'.
    """
    from contextlib import suppress

    from petitionscan.review import serve
    from petitionscan.review.server import is_local

    shared = not is_local(listen)

    def ready(url: str) -> None:
        click.echo(f"review page: {url}")
        if not shared:
            click.echo("only this computer can open it; press Ctrl+C to stop (every decision is already saved)")
            return
        click.echo("shared on the network: every reviewer logs in; press Ctrl+C to stop")
        if tls_cert is None:
            click.echo(
                "petitionscan: warning: without --tls-cert passwords and names cross the network unencrypted",
                err=True,
            )

    with suppress(KeyboardInterrupt):  # Ctrl+C is the normal way to stop
        serve(
            db, port=port, open_browser=not no_browser, reviewer=reviewer, on_ready=ready,
            listen=listen, tls_cert=tls_cert, tls_key=tls_key, host_names=host_names,
        )  # fmt: skip
    click.echo("stopped; every decision is saved")


@main.group("reviewers")
def reviewers_group() -> None:
    """Logins for a shared review server ('petitionscan review --listen 0.0.0.0')."""


@reviewers_group.command("add")
@click.argument("name")
@_db_option()
def reviewers_add(name: str, db: Target) -> None:
    """Add a reviewer (or give one a new password); the password is printed once, only its hash is kept."""
    from petitionscan.reviewers import add_reviewer

    password = add_reviewer(db, name)
    click.echo(f"reviewer: {' '.join(name.split())}")
    click.echo(f"password: {password}")
    click.echo("give it to them in person; it is not shown again (run this again for a new one)")


@reviewers_group.command("list")
@_db_option()
def reviewers_list(db: Target) -> None:
    """List the reviewers who can log in."""
    from petitionscan.reviewers import list_reviewers

    for found in list_reviewers(db):
        click.echo(f"{found.name}\tadded {found.created_at}")


@reviewers_group.command("remove")
@click.argument("name")
@_db_option()
def reviewers_remove(name: str, db: Target) -> None:
    """Take a reviewer's login away; their decisions stay in the audit trail."""
    from petitionscan.reviewers import remove_reviewer

    remove_reviewer(db, name)
    click.echo(f"removed {name}; they can no longer log in")


# --- scan -------------------------------------------------------------------


def _watch(folder: Path, db: Target, jobs: int | None, engine: str, quiet: bool, rejected: Path | None) -> None:
    """``scan --watch``: a count on stderr that rises as the feeder delivers; Ctrl+C ends it (exit 130)."""
    from petitionscan.scan import ScanSummary, watch_folder

    def show(summary: ScanSummary) -> None:
        if not quiet:
            click.echo(
                f"\rwatching {folder}: {summary.pages_read} pages read, {summary.names} names, "
                f"{summary.already_stored} already stored, {len(summary.rejected)} rejected",
                err=True,
                nl=False,
            )

    if not quiet:
        click.echo(f"watching {folder} for new scans; press Ctrl+C to stop", err=True)
    try:
        watch_folder(folder, db=db, jobs=jobs, engine=engine, rejected=rejected, on_change=show)
    finally:
        if not quiet:
            click.echo("", err=True)


@main.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_db_option("Campaign database to read the scans into.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Worker processes (default: all cores).")
@click.option("--engine", default=None, help="Recognizer engine: cnn (default) or tesseract.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary (for scripts).")
@click.option(
    "--rejected",
    type=click.Path(path_type=Path),
    help="Where to list rejected pages (default: rejected.csv beside the database).",
)
@click.option(
    "--watch",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep reading new scans as they appear in this folder (a document feeder's), until Ctrl+C.",
)
def scan_command(
    paths: tuple[Path, ...],
    db: Target,
    jobs: int | None,
    engine: str | None,
    quiet: bool,
    rejected: Path | None,
    watch: Path | None,
) -> None:
    """Read returned sheets (PDF, TIFF, PNG, JPEG, HEIC; folders too) into the campaign database.

    Pages already stored are skipped, so an interrupted run is resumed by running it again.
    With --watch FOLDER, files are read as the scanner finishes writing them, with a live
    count; Ctrl+C stops (exit 130) and watching again goes on where it stopped.
    Exit codes: 0 all pages read, 10 some pages rejected or foreign, 11 nothing could be read.
    """
    from petitionscan.errors import NothingRead, PagesRejected, UsageError
    from petitionscan.recognize import DEFAULT_ENGINE
    from petitionscan.scan import scan_paths

    if watch is not None:
        if paths:
            raise UsageError("give either --watch FOLDER or the scans to read, not both")
        _watch(watch, db, jobs, engine or DEFAULT_ENGINE, quiet, rejected)
        return
    if not paths:
        raise UsageError("name the scans to read (files or folders), or --watch FOLDER")

    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet or total == 0:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="page", file=sys.stderr, dynamic_ncols=True, leave=False)
        bar.n = done
        bar.refresh()

    try:
        summary = scan_paths(
            list(paths), db=db, jobs=jobs, engine=engine or DEFAULT_ENGINE, rejected=rejected, progress=progress
        )
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        rate = summary.pages_read / summary.seconds if summary.seconds else 0.0
        click.echo(f"pages read: {summary.pages_read} of {summary.pages_total} ({rate:.1f} pages/s)")
        click.echo(
            f"rows: {summary.rows}  names: {summary.names}  needing review: {summary.needs_review}  "
            f"blank: {summary.blank}  crossed out: {summary.crossed_out}  unsigned: {summary.unsigned}"
        )
        click.echo(
            f"duplicates skipped: {summary.duplicates}  already stored: {summary.already_stored}  "
            f"rejected: {len(summary.rejected)}"
        )
        for copy in summary.copies:
            click.echo(f"photocopied sheet stored separately: {copy}")
        for skipped in summary.skipped:
            click.echo(f"skipped {skipped.path}: {skipped.reason}")
        for r in summary.rejected:
            where = f"{r.file} page {r.page}" if r.page else r.file
            click.echo(f"rejected {where}: {r.reason}")
        if summary.without_tesseract:
            click.echo(
                f"Tesseract is not installed, so {summary.without_tesseract} page(s) with an unreadable QR code "
                f"could not be identified by their printed serial; install it ({TESSERACT_INSTALL}) and scan again"
            )
        click.echo(f"database: {describe(summary.db)}")
    if summary.rejected:
        listed = f"; listed in {summary.rejected_csv}" if summary.rejected_csv else ""
        if summary.nothing_read:
            raise NothingRead(f"no page could be read ({len(summary.rejected)} rejected{listed})")
        raise PagesRejected(f"{len(summary.rejected)} page(s) rejected{listed}; the other pages were stored")
