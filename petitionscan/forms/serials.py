"""Sheet serials: unique per campaign across runs, machines and branches.

Branches print on their own laptops with no shared counter, so a serial is
random (10 base-32 characters: two branches printing 10,000 sheets each
share a serial with odds of about one in eight million) plus a check
character, in Crockford's base-32 alphabet that has no I, L, O or U to
misread. About a quarter of random serials are left out: those with a valid
twin two commonly misread characters away
(:func:`~petitionscan.sheetcode.confusable_twins`), which a damaged QR code's
printed-serial fallback could otherwise take for the sheet. A local ledger
of issued serials makes repeats on one machine impossible, not just unlikely.
"""

from __future__ import annotations

import os
import random
import secrets
from pathlib import Path

from petitionscan.errors import OutputError
from petitionscan.fileio import user_data_dir
from petitionscan.sheetcode import ALPHABET as ALPHABET
from petitionscan.sheetcode import CHECK_ALPHABET as CHECK_ALPHABET
from petitionscan.sheetcode import check_char as check_char
from petitionscan.sheetcode import confusable_twins
from petitionscan.sheetcode import format_serial as format_serial
from petitionscan.sheetcode import is_valid_serial as is_valid_serial

_RANDOM_CHARS = 10


def ledger_path(campaign_id: str) -> Path:
    """Where issued serials are remembered: ``serials/<campaign>.txt`` in :func:`user_data_dir`."""
    return user_data_dir() / "serials" / f"{campaign_id}.txt"


def issued(campaign_id: str) -> set[str]:
    path = ledger_path(campaign_id)
    try:
        return set(path.read_text(encoding="ascii").split())
    except FileNotFoundError:
        return set()


def new_serials(count: int, campaign_id: str, seed: int | None = None) -> list[str]:
    """``count`` fresh serials, none issued before on this machine.

    ``seed``: drawn from that seed instead, the ledger not consulted, so the
    same serials come every time. Only for simulated sheets that must come
    out alike on every run (the validation sheets the threshold is chosen on,
    benchmark corpora): a serial is printed in the QR code and under it, so a
    random one changes the page's pixels and, now and then, a reading. Sheets
    to print never use it: branches print with no shared counter.
    """
    seen = issued(campaign_id) if seed is None else set()
    choice = secrets.choice if seed is None else random.Random(seed).choice
    out: list[str] = []
    while len(out) < count:
        body = "".join(choice(ALPHABET) for _ in range(_RANDOM_CHARS))
        serial = format_serial(body)
        if serial not in seen and not confusable_twins(serial):
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
