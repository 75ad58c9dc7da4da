"""The scan run: files in, one stored reading per signature row out.

Pages are read in worker processes, each loading the recognizer once; a
worker gets (file, page) and loads the page itself, so no page image crosses
a process boundary. Only the main process writes the database, one
transaction per page, so an interrupted run leaves whole pages only and the
next run skips what is stored (file hash and page number, before decoding).
One bad page never stops the batch: it becomes a line in the summary.
"""

from __future__ import annotations

import csv
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from petitionscan import geometry, store
from petitionscan.errors import (
    InputFileError,
    Interrupted,
    NothingRead,
    PetitionscanError,
    RecognizerError,
)
from petitionscan.fileio import atomic_output
from petitionscan.recognize import (
    DEFAULT_ENGINE,
    FieldImage,
    LetterReading,
    Reading,
    Recognizer,
    name_confidence,
)
from petitionscan.recognize.names import name_pieces
from petitionscan.scan import persist
from petitionscan.scan.fields import PX_PER_MM, RowCut, cut_page, preview_jpeg
from petitionscan.scan.load import InputFile, Skipped, file_hash, find_inputs, load_page, page_count
from petitionscan.scan.register import NO_TESSERACT, KnownLayout, Unregistered, register
from petitionscan.scan.results import FieldRead, PageResult, PageTask, RowResult

log = logging.getLogger(__name__)

REJECTED_NAME = "rejected.csv"
DEFAULT_AUTO_THRESHOLD = 0.9


@dataclass(frozen=True)
class Rejection:
    file: str
    page: int  # 0: the whole file
    reason: str


@dataclass
class ScanSummary:
    """What a run did, for the closing lines and the exit code."""

    db: store.Target
    rejected_csv: Path | None = None
    pages_total: int = 0
    pages_read: int = 0
    rows: int = 0
    names: int = 0
    auto: int = 0
    needs_review: int = 0
    blank: int = 0
    crossed_out: int = 0
    unsigned: int = 0
    duplicates: int = 0
    already_stored: int = 0
    without_tesseract: int = 0  # pages whose serial only Tesseract could have read, and it is missing
    copies: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """CPU seconds per stage over every page read now, all processes together."""

    @property
    def nothing_read(self) -> bool:
        """No page of this batch was read, now or in an earlier run."""
        return self.pages_read + self.duplicates + self.already_stored == 0


ProgressCallback = Callable[[int, int], None]


class PageLog(logging.LoggerAdapter):
    """Log records carry ``file`` and ``page`` (as extra fields and in the text)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = dict(self.extra or {})
        kwargs["extra"] = {**extra, **kwargs.get("extra", {})}
        return f"{extra.get('file')} page {extra.get('page')}: {msg}", kwargs


# --- worker side -------------------------------------------------------------------

_engine: Recognizer | None = None
_known: tuple[KnownLayout, ...] = ()


def load_engine(name: str) -> Recognizer:
    """The recognizer, with a clear error when this installation lacks it."""
    from petitionscan.recognize import get_engine

    try:
        return get_engine(name)
    except ImportError as exc:
        raise RecognizerError(
            f"the {name!r} recognizer is not available in this installation ({exc}); try --engine tesseract"
        ) from exc


def with_known_words(engine: Recognizer, words: frozenset[str]) -> Recognizer:
    """The engine told this campaign's confirmed name words, if it can use them.

    Optional for an engine (Tesseract has no lexicon to extend): one without
    ``with_known_words`` is returned unchanged.
    """
    extend = getattr(engine, "with_known_words", None)
    if not words or extend is None:
        return engine
    extended: Recognizer = extend(words)
    return extended


def _init_worker(engine: str, known: tuple[KnownLayout, ...], words: frozenset[str] = frozenset()) -> None:
    """Once per worker process: load the recognizer; leave Ctrl-C to the main process."""
    global _engine, _known
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import cv2

    cv2.setNumThreads(1)  # the processes are the parallelism; threads on top only contend
    _engine = with_known_words(load_engine(engine), words)
    _known = known


def _worker_task(task: PageTask) -> PageResult:
    assert _engine is not None
    return read_page(task, _engine, _known)


def read_page(task: PageTask, engine: Recognizer, known: Sequence[KnownLayout] = ()) -> PageResult:
    """Load, register, cut and recognise one page; never raises for a bad page."""
    started = time.perf_counter()
    where = PageLog(log, {"file": task.source_file, "page": task.page})
    stages: list[tuple[str, float]] = []
    clock = time.process_time()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.process_time()
        stages.append((name, now - clock))
        clock = now

    def result(status: str, reason: str, page_hash: str = "", **kw: Any) -> PageResult:
        base: dict[str, Any] = {
            "registration": None,
            "rows": (),
            "page_jpeg": b"",
            "engine": engine.name,
            "engine_version": engine.version,
        }
        base.update(kw)
        return PageResult(
            task.source_file,
            task.page,
            task.file_hash,
            page_hash or f"{task.file_hash}:{task.page}",
            status,
            _short(reason, task.source_file),
            seconds=time.perf_counter() - started,
            stages=tuple(stages),
            **base,
        )

    try:
        page = load_page(InputFile(task.source_file, task.kind), task.page)
        stage("decode")
    except InputFileError as exc:
        where.info("rejected: %s", exc.message)
        return result("rejected", exc.message)
    try:
        reg = register(page.image, known)
        stage("register")
        if isinstance(reg, Unregistered):
            where.info("%s", reg.reason)
            return result(
                "foreign" if reg.foreign else "rejected",
                reg.reason,
                page.page_hash,
                page_jpeg=preview_jpeg(page.image),
            )
        sheet = geometry.sheet_geometry(geometry.parse_layout_code(reg.layout_code))
        cut = cut_page(page.image, reg.matrix, sheet)
        stage("fields")
        rows = _recognise(cut.rows, engine, sheet.spec.alphabet)
        stage("recognize")
    except RecognizerError:
        raise
    except Exception as exc:  # one broken page must not stop the batch
        where.exception("page could not be read")
        return result("rejected", f"unreadable page ({type(exc).__name__}: {exc})", page.page_hash)
    where.debug("read in %.2f s", time.perf_counter() - started)
    return result("read", "", page.page_hash, registration=reg, rows=rows, page_jpeg=cut.page_jpeg)


def _recognise(rows: Sequence[RowCut], engine: Recognizer, alphabet: str = "latin") -> tuple[RowResult, ...]:
    """Read every written field of the page in one batch, then decide each row's status.

    ``alphabet`` comes from the sheet's layout code, so the reader knows the
    letters a field may hold without the campaign file.
    """
    threshold = float(getattr(engine, "auto_threshold", DEFAULT_AUTO_THRESHOLD))
    threshold_for = getattr(engine, "auto_threshold_for", None)
    requests = field_images(rows, alphabet)
    readings = engine.read(requests) if requests else []
    by_key: dict[str, Reading] = {req.key: rd for req, rd in zip(requests, readings, strict=True)}
    out: list[RowResult] = []
    for rc in rows:
        reads: list[FieldRead] = []
        for fc in rc.fields:
            rd = by_key.get(f"{rc.row}:{fc.key}")
            if rd is None:
                reads.append(FieldRead(fc.key, "", 1.0, fc.blank, ()))
            else:
                reads.append(FieldRead(fc.key, rd.text.strip(), float(rd.confidence), fc.blank, rd.letters))
        name_reads = [r for r in reads if r.key in geometry.NAME_FIELDS and r.text]
        name = " ".join(r.text for r in name_reads)
        confidence: float | None = None
        if not rc.name_written:
            status = "blank"
        else:
            fields = [by_key[f"{rc.row}:{r.key}"] for r in name_reads]
            confidence = name_confidence(fields) if fields else 0.0
            # Each script's confidence was calibrated with its own threshold.
            bar = float(threshold_for(fields)) if threshold_for and fields else threshold
            unread = any(ink_beyond_letters(r.blank, r.letters) for r in name_reads)
            status = "auto" if confidence >= bar and not unread else "needs_review"
        if rc.crossed_out:
            status = "crossed_out"
        elif status == "blank" and rc.signed:
            status = "needs_review"  # a signature without a name: a person decides
            confidence = 0.0
        elif status != "blank" and rc.has_signature and not rc.signed:
            status = "unsigned"
        out.append(RowResult(rc.row, status, name, confidence, rc.signed, rc.crossed_out, rc.crop, tuple(reads)))
    return tuple(out)


def field_images(rows: Sequence[RowCut], alphabet: str = "latin") -> list[FieldImage]:
    """The written fields of the rows with a name, as the reader is given them (key ``row:field``)."""
    return [
        FieldImage(f"{rc.row}:{fc.key}", fc.image, fc.boxes_px, fc.blank, PX_PER_MM, alphabet, rc.row)
        for rc in rows
        if rc.name_written
        for fc in rc.fields
        if fc.written
    ]


def ink_beyond_letters(blank: Sequence[bool], letters: Sequence[LetterReading]) -> bool:
    """A box the scan stage saw ink in lies after the last letter read, or before the first.

    The reader found no letter of its own there (it took the ink for a
    neighbour's spill, or its own, stricter ink threshold left nothing): a
    letter in a fainter pen than the rest may be lost at the end of a name
    (VIKTORIYA read VIKTORIY at 0.999), so a person looks.
    """
    boxes = [lr.box for lr in letters]
    written = [i for i, b in enumerate(blank) if not b]
    return bool(boxes and written) and (max(written) > max(boxes) or min(written) < min(boxes))


def _short(reason: str, path: str) -> str:
    """The reason without the file name in front: the file is in its own column."""
    return reason.removeprefix(f"{path}: ")


# --- main process -------------------------------------------------------------------


def default_db() -> Path:
    """``campaign.db`` in the current folder: the one rule every command follows (see store.DEFAULT_DB)."""
    return store.DEFAULT_DB


def known_layouts(conn: Any) -> tuple[KnownLayout, ...]:
    """Layouts a page may have when its QR code is unreadable: campaign files and the database."""
    from petitionscan.forms.campaign import load_shipped_campaign, shipped_campaigns

    found: dict[str, KnownLayout] = {}
    for row in conn.execute("SELECT DISTINCT campaign_id, layout_code FROM sheets"):
        found.setdefault(row[1], KnownLayout(row[0], row[1]))
    for name in shipped_campaigns():
        try:
            campaign = load_shipped_campaign(name)
        except PetitionscanError:
            continue
        found.setdefault(campaign.layout.code, KnownLayout(campaign.campaign_id, campaign.layout.code))
    return tuple(found.values())


def confirmed_words(conn: Any) -> frozenset[str]:
    """Words of the names a person confirmed in this campaign (status ``confirmed``).

    Only a person's word counts: an ``auto`` row was accepted by the recognizer
    itself, and feeding its own readings back would let one misreading vouch
    for the next. Spelt as the recognizer spells (capitals of one script,
    split at spaces, hyphens and apostrophes), so a set lookup decides.
    """
    texts: set[str] = set()
    for row in conn.execute("SELECT DISTINCT first_name, surname, name FROM rows WHERE status = 'confirmed'"):
        texts.update(str(t) for t in row if t)
    return name_pieces(texts, "latin") | name_pieces(texts, "cyrillic")


def scan_paths(
    paths: Sequence[Path],
    *,
    db: store.Target | None = None,
    jobs: int | None = None,
    engine: str = DEFAULT_ENGINE,
    rejected: Path | None = None,
    progress: ProgressCallback | None = None,
) -> ScanSummary:
    """Read every page under ``paths`` into the campaign database; returns what happened.

    Raises NothingRead when there is nothing to read at all; a batch with
    rejected pages returns normally (the caller decides the exit code).
    """
    started = time.perf_counter()
    if not paths:
        raise NothingRead("no scans given; name the files or folders to read")
    db_path = db or default_db()
    rejected_path, own_files = _own_files(db_path, rejected)
    found = find_inputs(paths, ignore=own_files)
    files, skipped = found.files, found.skipped
    if not files and not found.unreadable:
        raise NothingRead(
            f"no scans found in {', '.join(str(p) for p in paths)}; give PDF, TIFF, PNG, JPEG or HEIC files"
        )
    recognizer = load_engine(engine)  # fail before any work when the engine cannot run
    conn = store.connect(db_path)
    summary = ScanSummary(db=db_path, skipped=skipped)
    summary.rejected += [Rejection(u.path, 0, u.reason) for u in found.unreadable]
    try:
        known, words, recognizer = _campaign_context(conn, recognizer)
        tasks = _plan(conn, files, summary)
        summary.pages_total = len(tasks) + summary.already_stored
        _run(conn, tasks, summary, recognizer, engine, known, words, jobs, progress)
    finally:
        conn.close()
        summary.seconds = time.perf_counter() - started
        summary.rejected_csv = _write_rejected(rejected_path, summary.rejected)
    return summary


WATCH_POLL_SECONDS = 1.0
"""How often a watched folder is looked at; a file is read once two looks in a row found it unchanged."""

WatchCallback = Callable[[ScanSummary], None]


def watch_folder(
    folder: Path,
    *,
    db: store.Target | None = None,
    jobs: int | None = None,
    engine: str = DEFAULT_ENGINE,
    rejected: Path | None = None,
    on_change: WatchCallback | None = None,
    poll_seconds: float = WATCH_POLL_SECONDS,
    should_stop: Callable[[], bool] = lambda: False,
) -> ScanSummary:
    """Read new scans as a scanner writes them into ``folder``, until interrupted.

    A file is read once its size and modification time have stayed the same
    over two looks (a scanner writing it is done); pages stored before, in
    this run or an earlier one, are skipped by the file's hash, so a restart
    goes on where the last run stopped. ``on_change`` is told after every
    stored page and every look that changed something. Ctrl+C raises
    Interrupted (every stored page is complete); ``should_stop`` ends the
    watch normally (tests, embedding).
    """
    started = time.perf_counter()
    if not folder.is_dir():
        raise NothingRead(f"{folder}: not a folder; name the folder the scanner writes into")
    db_path = db or default_db()
    rejected_path, own_files = _own_files(db_path, rejected)
    recognizer = load_engine(engine)
    conn = store.connect(db_path)
    summary = ScanSummary(db=db_path)
    seen: dict[str, tuple[int, int]] = {}  # path -> (size, mtime) at the last look
    done: dict[str, tuple[int, int]] = {}  # path -> (size, mtime) when it was read
    try:
        known, words, recognizer = _campaign_context(conn, recognizer)
        with _Readers(recognizer, engine, known, words, max(1, jobs or os.cpu_count() or 1)) as read:
            if on_change:
                on_change(summary)
            while not should_stop():
                settled: list[InputFile] = []
                for item in find_inputs([folder], ignore=own_files).files:
                    try:
                        st = os.stat(item.path)
                    except OSError:
                        continue  # gone again (a scanner's temporary file)
                    sig = (st.st_size, st.st_mtime_ns)
                    if st.st_size and seen.get(item.path) == sig and done.get(item.path) != sig:
                        settled.append(item)
                    seen[item.path] = sig
                if settled:
                    before, stored_before = len(summary.rejected), summary.already_stored
                    tasks = _plan(conn, settled, summary)
                    summary.pages_total += len(tasks) + summary.already_stored - stored_before
                    if on_change:
                        on_change(summary)
                    for res in read(tasks):
                        _store(conn, res, summary)
                        if on_change:
                            on_change(summary)
                    done.update((item.path, seen[item.path]) for item in settled)
                    if len(summary.rejected) != before:
                        summary.rejected_csv = _write_rejected(rejected_path, summary.rejected)
                time.sleep(poll_seconds)
    except KeyboardInterrupt as exc:
        raise Interrupted(
            f"stopped after {summary.pages_read} new pages; every stored page is complete: "
            "watch the folder again to go on"
        ) from exc
    finally:
        conn.close()
        summary.seconds = time.perf_counter() - started
    return summary


def _own_files(db: store.Target, rejected: Path | None) -> tuple[Path, tuple[Path, ...]]:
    """Where rejected.csv goes, and the files of the run itself that are never read as scans."""
    if store.is_url(db):
        rejected_path = rejected or Path(REJECTED_NAME)
        return rejected_path, (rejected_path,)
    rejected_path = rejected or Path(db).parent / REJECTED_NAME
    return rejected_path, (Path(db), rejected_path)


def _campaign_context(conn: Any, recognizer: Recognizer) -> tuple[tuple[KnownLayout, ...], frozenset[str], Recognizer]:
    """What every read of this campaign shares: its layouts, its confirmed name words, the recognizer knowing them."""
    known = known_layouts(conn)
    words = confirmed_words(conn)
    return known, words, with_known_words(recognizer, words)


def _plan(conn: Any, files: Sequence[InputFile], summary: ScanSummary) -> list[PageTask]:
    """Pages still to read; pages stored before are skipped without decoding."""
    tasks: list[PageTask] = []
    for item in files:
        try:
            digest = file_hash(item.path)
            count = page_count(item)
        except InputFileError as exc:
            summary.rejected.append(Rejection(item.path, 0, _short(exc.message, item.path)))
            persist.store_file_rejection(conn, item.path, _short(exc.message, item.path))
            continue
        stored = persist.stored_pages(conn, digest)
        for page in range(1, count + 1):
            status = stored.get(page)
            if status is None:
                tasks.append(PageTask(item.path, item.kind, page, digest))
                continue
            summary.already_stored += 1
            if status == "foreign":
                summary.rejected.append(
                    Rejection(item.path, page, "foreign page: not a petition sheet (stored earlier)")
                )
    return tasks


def _run(
    conn: Any,
    tasks: list[PageTask],
    summary: ScanSummary,
    recognizer: Recognizer,
    engine: str,
    known: tuple[KnownLayout, ...],
    words: frozenset[str],
    jobs: int | None,
    progress: ProgressCallback | None,
) -> None:
    total = len(tasks)
    if progress:
        progress(0, total)
    if not tasks:
        return
    try:
        with _Readers(recognizer, engine, known, words, max(1, min(jobs or os.cpu_count() or 1, total))) as read:
            for done, res in enumerate(read(tasks), 1):
                _store(conn, res, summary)
                if progress:
                    progress(done, total)
    except KeyboardInterrupt as exc:
        raise Interrupted(
            f"interrupted after {summary.pages_read} pages; every stored page is complete: "
            "run the same command again to go on"
        ) from exc


class _Readers:
    """Pages in, results out: in this process for one worker, else in a pool started on first use.

    The pool lives as long as the ``with`` block, so a watched folder pays the
    workers' start-up once, not once per file. One worker is one core, as in the
    pool: OpenCV's own threads are turned off while this process reads. On
    pages this size they bought no speed and cost a third more CPU (370 against
    285 ms a page), taken from whatever else the machine runs: the other
    stations sharing a server, the review page.
    """

    def __init__(
        self, recognizer: Recognizer, engine: str, known: tuple[KnownLayout, ...], words: frozenset[str], workers: int
    ) -> None:
        self.recognizer, self.engine, self.known, self.words, self.workers = recognizer, engine, known, words, workers
        self.pool: Any = None
        self.threads: int | None = None

    def __enter__(self) -> _Readers:
        if self.workers == 1:
            import cv2

            self.threads = cv2.getNumThreads()
            cv2.setNumThreads(1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.threads is not None:
            import cv2

            cv2.setNumThreads(self.threads)
        if self.pool is not None:
            self.pool.terminate()  # after an interruption too: no worker outlives the run
            self.pool.join()

    def __call__(self, tasks: Sequence[PageTask]) -> Iterator[PageResult]:
        if self.workers == 1:
            for task in tasks:
                yield read_page(task, self.recognizer, self.known)
            return
        if self.pool is None:
            self.pool = worker_pool(self.workers, _init_worker, (self.engine, self.known, self.words))
        yield from self.pool.imap_unordered(_worker_task, tasks, chunksize=1)


BLAS_THREADS = "OPENBLAS_NUM_THREADS"
"""Read by numpy's OpenBLAS when a process imports numpy: how many threads it starts."""


def worker_pool(workers: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> Any:
    """A pool of fresh (spawned) worker processes whose numpy starts one BLAS thread, not one per core.

    Reading a page never multiplies large matrices, and OpenBLAS starting its
    threads costs a worker about 0.14 s of CPU while it imports numpy (timed
    at import on the 2-core machine). A value the user set is kept. The
    setting is in this process's environment only while the workers start.
    """
    ours = BLAS_THREADS not in os.environ
    if ours:
        os.environ[BLAS_THREADS] = "1"
    try:
        return multiprocessing.get_context("spawn").Pool(workers, initializer=initializer, initargs=initargs)
    finally:
        if ours:
            del os.environ[BLAS_THREADS]


def _store(conn: Any, res: PageResult, summary: ScanSummary) -> None:
    for name, seconds in res.stages:
        summary.stage_seconds[name] = summary.stage_seconds.get(name, 0.0) + seconds
    outcome = persist.store_page(conn, res)
    if outcome.kind in ("rejected", "foreign"):
        summary.rejected.append(Rejection(res.source_file, res.page, res.reason))
        summary.without_tesseract += res.reason.startswith(NO_TESSERACT)
        return
    if outcome.kind in ("same page", "same sheet"):
        summary.duplicates += 1
        return
    summary.pages_read += 1
    if outcome.kind == "copy":
        summary.copies.append(
            f"{Path(res.source_file).name} page {res.page}: sheet {outcome.serial} copy {outcome.copy_no}"
        )
    for r in res.rows:
        summary.rows += 1
        if r.status in ("auto", "needs_review", "unsigned") and r.name:
            summary.names += 1
        if r.status == "auto":
            summary.auto += 1
        elif r.status == "needs_review":
            summary.needs_review += 1
        elif r.status == "blank":
            summary.blank += 1
        elif r.status == "crossed_out":
            summary.crossed_out += 1
        elif r.status == "unsigned":
            summary.unsigned += 1


def _write_rejected(path: Path, rejected: Sequence[Rejection]) -> Path | None:
    """``file,page,reason`` for every page not read; written whole or not at all."""
    try:
        with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(("file", "page", "reason"))
            for r in rejected:
                writer.writerow((r.file, r.page or "", r.reason))
    except PetitionscanError as exc:
        log.warning("%s", exc.message)
        return None
    return path
