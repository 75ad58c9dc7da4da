"""Atomic output: a file appears whole or not at all.

Every file the tool writes goes to a temp file in the target's folder (same
file system, so the rename is atomic), then replaces the target. A failure,
a full disk or Ctrl-C leaves the old file (or none) and no temp file behind.
Only regular files are ever replaced: a symlink, FIFO or device at the target
is refused, since renaming over it would silently break what it stands for.
Files that hold signers' names are made readable by their owner only.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from petitionscan.errors import OutputError


def check_target(target: Path) -> None:
    """Refuse an output path that exists and is not a regular file (symlink, FIFO, device, folder)."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{target}: cannot check the output path ({exc.strerror}); choose another path") from exc
    if stat.S_ISREG(mode):
        return
    kind = (
        "a symbolic link" if stat.S_ISLNK(mode)
        else "a folder" if stat.S_ISDIR(mode)
        else "a FIFO" if stat.S_ISFIFO(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )  # fmt: skip
    raise OutputError(f"{target}: is {kind}, which is never replaced; give the path of a regular file")


@contextmanager
def atomic_output(target: Path, *, private: bool = False) -> Iterator[Path]:
    """Yield a temp path beside ``target``; rename it onto ``target`` if the block succeeds.

    ``private`` files (names of signers) are created with mode 0600, like the
    database; others get what a plain open() would.
    """
    check_target(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{target}: the folder {folder} does not exist; create it or choose another path")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write there ({exc.strerror}); choose another path") from exc
    os.close(fd)
    tmp = Path(name)
    if not private:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give what a plain open() would
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"{target}: writing failed ({exc.strerror}); nothing was written: free some space or choose another path"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
