"""Atomic output: a file appears whole or not at all.

Every file the tool writes goes to a temp file in the target's folder (same
file system, so the rename is atomic), then replaces the target. A failure,
a full disk or Ctrl-C leaves the old file (or none) and no temp file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from petitionscan.errors import OutputError


@contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temp path beside ``target``; rename it onto ``target`` if the block succeeds."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{target}: the folder {folder} does not exist; create it or choose another path")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write there ({exc.strerror}); choose another path") from exc
    os.close(fd)
    tmp = Path(name)
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
