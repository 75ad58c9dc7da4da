"""Atomic outputs: regular files only, and owner-only files for names."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from petitionscan.errors import OutputError
from petitionscan.fileio import atomic_output


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
