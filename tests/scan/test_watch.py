"""``petitionscan scan --watch``: files read as a scanner finishes them, Ctrl+C, resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEADLINE_S = 240.0  # a loaded two-core machine reads a page in seconds; the start-up takes longer


def _wait(what: str, ready: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    end = time.monotonic() + DEADLINE_S
    while not ready():
        assert proc.poll() is None, f"the watcher exited ({proc.returncode}) before {what}"
        assert time.monotonic() < end, f"no {what} after {DEADLINE_S:.0f} s"
        time.sleep(0.3)


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # the watcher is still creating the database
        return 0


def _watch(folder: Path, db: Path, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "petitionscan", "scan", "--watch", str(folder), "--db", str(db), "--jobs", "1"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w", encoding="utf-8"),
        text=True,
        env={**os.environ},
        # A suite started in the background ignores Ctrl+C, and children inherit
        # that; the watcher gets the terminal's usual Ctrl+C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_watch_reads_files_as_they_are_finished_and_resumes(corpus: Any, tmp_path: Path) -> None:
    scans = sorted(p for p in corpus.scans.iterdir() if p.suffix.lower() in (".pdf", ".tif", ".tiff", ".jpg"))[:2]
    folder, db, log = tmp_path / "feeder", tmp_path / "campaign.db", tmp_path / "watch.log"
    folder.mkdir()
    read = "SELECT count(*) FROM scans WHERE status = 'read'"
    proc = _watch(folder, db, log)
    try:
        _wait("database", lambda: _count(db, "SELECT count(*) FROM sqlite_master") > 0, proc)
        # The first file arrives in pieces, as a scanner writes it: never read half-written.
        data = scans[0].read_bytes()
        target = folder / scans[0].name
        with target.open("wb") as fh:
            for start in range(0, len(data), len(data) // 3 + 1):
                fh.write(data[start : start + len(data) // 3 + 1])
                fh.flush()
                time.sleep(0.2)
        _wait("first page", lambda: _count(db, read) == 1, proc)
        (folder / scans[1].name).write_bytes(scans[1].read_bytes())
        _wait("second page", lambda: _count(db, read) == 2, proc)
        assert _stop(proc) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "2 pages read" in log.read_text(encoding="utf-8")
    assert _count(db, "SELECT count(*) FROM scans WHERE status = 'rejected'") == 0
    rows = _count(db, "SELECT count(*) FROM rows")

    # A restart finds both files stored and reads nothing twice.
    proc = _watch(folder, db, log)
    try:
        _wait("restart", lambda: "2 already stored" in log.read_text(encoding="utf-8"), proc)
        assert _stop(proc) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _count(db, read) == 2 and _count(db, "SELECT count(*) FROM rows") == rows
