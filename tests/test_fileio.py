"""Atomic outputs: regular files only, owner-only files for names, temp files of killed runs removed."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from petitionscan.errors import OutputError
from petitionscan.fileio import STALE_UNTAGGED_SECONDS, atomic_output, remove_stale_temps


def _write(target: Path, *, private: bool = False) -> None:
    with atomic_output(target, private=private) as tmp:
        tmp.write_text("new")


def test_a_symlink_is_refused_and_left_alone(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(OutputError, match="symbolic link"):
        _write(link)
    assert link.is_symlink() and real.read_text() == "old"
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    with pytest.raises(OutputError, match="symbolic link"):
        _write(dangling)
    assert dangling.is_symlink() and not (tmp_path / "nowhere.csv").exists()


def test_a_fifo_and_a_device_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="FIFO"):
        _write(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OutputError, match="device"):
        _write(Path(os.devnull))
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)
    assert not list(tmp_path.glob(".*.tmp"))


def test_private_files_are_for_their_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        _write(tmp_path / "names.csv", private=True)
        _write(tmp_path / "sheets.pdf")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "names.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "sheets.pdf").stat().st_mode) == 0o644
    (tmp_path / "names.csv").chmod(0o644)  # an old, readable file is replaced by an owner-only one
    _write(tmp_path / "names.csv", private=True)
    assert stat.S_IMODE((tmp_path / "names.csv").stat().st_mode) == 0o600


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
