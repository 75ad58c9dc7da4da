"""Sheet serials: unique per campaign across runs, machines and branches.

Branches print on their own laptops with no shared counter, so a serial is
random (50 bits: two printings of a million sheets collide with odds below one
in two million) plus a check character, in Crockford's base-32 alphabet that
has no I, L, O or U to misread. A local ledger of issued serials makes repeats
on one machine impossible, not just unlikely.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from petitionscan.errors import OutputError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
_RANDOM_CHARS = 10


def check_char(body: str) -> str:
    """Crockford's mod-37 check symbol over the base-32 digits."""
    value = 0
    for ch in body:
        value = value * 32 + ALPHABET.index(ch)
    return CHECK_ALPHABET[value % 37]


def format_serial(body: str) -> str:
    return f"{body[:5]}-{body[5:]}-{check_char(body)}"


def is_valid_serial(serial: str) -> bool:
    """True for a well-formed serial whose check character matches."""
    parts = serial.strip().upper().split("-")
    if len(parts) != 3 or len(parts[0]) != 5 or len(parts[1]) != 5 or len(parts[2]) != 1:
        return False
    body = parts[0] + parts[1]
    return all(c in ALPHABET for c in body) and check_char(body) == parts[2]


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


def ledger_path(campaign_id: str) -> Path:
    """Where issued serials are remembered: ``serials/<campaign>.txt`` in :func:`user_data_dir`."""
    return user_data_dir() / "serials" / f"{campaign_id}.txt"


def issued(campaign_id: str) -> set[str]:
    path = ledger_path(campaign_id)
    try:
        return set(path.read_text(encoding="ascii").split())
    except FileNotFoundError:
        return set()


def new_serials(count: int, campaign_id: str) -> list[str]:
    """``count`` fresh serials, none issued before on this machine."""
    seen = issued(campaign_id)
    out: list[str] = []
    while len(out) < count:
        body = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_CHARS))
        serial = format_serial(body)
        if serial not in seen:
            seen.add(serial)
            out.append(serial)
    return out


def record_serials(campaign_id: str, serials: list[str]) -> None:
    """Append to the ledger once the PDF is safely written."""
    path = ledger_path(campaign_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="ascii") as fh:
            fh.write("".join(s + "\n" for s in serials))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise OutputError(f"{path}: cannot record issued serials ({exc.strerror}); check the folder") from exc
