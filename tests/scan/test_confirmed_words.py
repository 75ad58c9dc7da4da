"""Names a person confirmed in the campaign are handed to the recognizer of the
next scan, in the main process and in every worker; the recognizer's own
``auto`` readings are not."""

from __future__ import annotations

import shutil
import signal
import sqlite3
from pathlib import Path
from typing import Any

import cv2
import pytest

from petitionscan.recognize import Recognizer
from petitionscan.scan import pipeline, scan_paths


def _two_scans(corpus: Any, tmp_path: Path) -> tuple[Path, Path]:
    files = sorted(p for p in corpus.scans.iterdir() if p.is_file())
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(files[0], first)
    shutil.copy(files[1], second)
    return first, second


def _confirm_one(db: Path, first: str, surname: str) -> set[str]:
    """A reviewer's confirmation, as the review page stores it; returns the auto rows' names."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            row_id = conn.execute("SELECT id FROM rows WHERE status IN ('auto', 'needs_review') LIMIT 1").fetchone()[0]
            conn.execute(
                "UPDATE rows SET status = 'confirmed', first_name = ?, surname = ?, name = ? WHERE id = ?",
                (first, surname, f"{first} {surname}", row_id),
            )
        return {str(r[0]) for r in conn.execute("SELECT name FROM rows WHERE status = 'auto'")}
    finally:
        conn.close()


def test_confirmed_names_reach_the_recognizer_of_the_next_scan(
    corpus: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _two_scans(corpus, tmp_path)
    db = tmp_path / "campaign.db"
    seen: list[frozenset[str]] = []
    read_page = pipeline.read_page

    def recording(task: Any, engine: Recognizer, known: Any = ()) -> Any:
        seen.append(frozenset(getattr(engine, "known_words", frozenset())))
        return read_page(task, engine, known)

    monkeypatch.setattr(pipeline, "read_page", recording)
    scan_paths([first], db=db, jobs=1)
    assert seen and seen[0] == frozenset()  # a new campaign: nothing confirmed yet

    auto_names = _confirm_one(db, "Žanar", "Zhaksybek-Ulı")
    assert auto_names  # the first scan accepted names on its own; they must not count
    seen.clear()
    summary = scan_paths([second], db=db, jobs=1)
    assert summary.pages_read == 1
    assert seen == [frozenset({"ZANAR", "ZHAKSYBEK", "ULI"})]


def test_each_worker_gets_the_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "_engine", None)
    threads = cv2.getNumThreads()
    handler = signal.getsignal(signal.SIGINT)
    try:
        pipeline._init_worker("cnn", (), frozenset({"ZHAKSYBEK"}))
    finally:
        signal.signal(signal.SIGINT, handler)
        cv2.setNumThreads(threads)
    assert getattr(pipeline._engine, "known_words", None) == {"ZHAKSYBEK"}


def test_an_engine_without_a_lexicon_is_left_as_it_is() -> None:
    tesseract = pipeline.load_engine("tesseract")
    assert pipeline.with_known_words(tesseract, frozenset({"ZHAKSYBEK"})) is tesseract
