"""Atomic output: a file appears whole or not at all.

Every file the tool writes goes to a temp file in the target's folder (same
file system, so the rename is atomic), then replaces the target. A failure,
a full disk, Ctrl-C or SIGTERM leaves the old file (or none) and no temp file
behind. A run killed outright (SIGKILL, power cut) cannot clean up: its temp
file names carry its process id, and the next write of the same target
removes those whose process is gone. Only regular files are ever replaced: a
symlink, FIFO or device at the target is refused, since renaming over it would
silently break what it stands for. Files that hold signers' names are made
readable by their owner only.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from petitionscan.errors import OutputError

HOME_ENV = "PETITIONSCAN_HOME"


def user_data_dir() -> Path:
    """petitionscan's folder for this user: ``$PETITIONSCAN_HOME``, else the platform's user-data folder.

    Windows ``%LOCALAPPDATA%\\petitionscan``, macOS ``~/Library/Application
    Support/petitionscan``, elsewhere ``$XDG_DATA_HOME/petitionscan``
    (``~/.local/share/petitionscan``).
    """
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env)
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "petitionscan"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "petitionscan"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "petitionscan"


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
    remove_stale_temps(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write there ({exc.strerror}); choose another path") from exc
    tmp = Path(name)
    try:  # from the file's creation on: a Ctrl+C or SIGTERM while it is set up removes it too
        os.close(fd)
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give what a plain open() would
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


STALE_UNTAGGED_SECONDS = 3600.0
"""Temp files without a process id (older versions) are removed after an hour."""


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove temp files of ``target`` left by runs that were killed; returns what went.

    A temp file whose process still runs is left alone: another run may be
    writing the same target right now.
    """
    folder = target.parent if str(target.parent) else Path(".")
    prefix = f".{target.name}."
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return removed
    for name in names:
        path = folder / name
        middle = name[len(prefix) : -len(".tmp")]
        pid_text = middle.split(".", 1)[0]
        try:
            if pid_text.isdigit() and "." in middle:
                if _alive(int(pid_text)):
                    continue
            elif time.time() - path.stat().st_mtime < STALE_UNTAGGED_SECONDS:
                continue
            path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
