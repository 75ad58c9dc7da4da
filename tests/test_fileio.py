"""Atomic output: temp files of killed runs are removed, those of running ones kept."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from petitionscan.fileio import STALE_UNTAGGED_SECONDS, atomic_output, remove_stale_temps


def test_only_temps_of_finished_processes_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    dead = tmp_path / f".out.pdf.{dead_pid.pid}.abc123.tmp"
    alive = tmp_path / f".out.pdf.{os.getppid()}.def456.tmp"
    old_untagged = tmp_path / ".out.pdf.k2j3h4.tmp"
    new_untagged = tmp_path / ".out.pdf.z9y8x7.tmp"
    other_target = tmp_path / f".other.pdf.{dead_pid.pid}.abc.tmp"
    for path in (dead, alive, old_untagged, new_untagged, other_target):
        path.write_bytes(b"half")
    past = time.time() - STALE_UNTAGGED_SECONDS - 10
    os.utime(old_untagged, (past, past))
    assert sorted(remove_stale_temps(target)) == sorted([dead, old_untagged])
    assert alive.exists() and new_untagged.exists() and other_target.exists()


def test_an_interrupted_write_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
