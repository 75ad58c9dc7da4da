"""What a sheet says about itself: the QR code's payload and the serial's check character.

Both the sheet generator and the reader need these few functions; they live
apart from :mod:`petitionscan.forms` so that a page reader never imports the
PDF toolkit that draws sheets.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

QR_PREFIX = "PSC1"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"


def qr_payload(campaign_id: str, serial: str, layout_code: str, branch: str) -> str:
    """What the QR code carries: enough to read the sheet without its PDF.

    The branch goes in as UTF-8 text, with only ``%``, ``;`` and unprintable
    characters percent-escaped: a Cyrillic letter then takes two bytes, not
    six, and the code stays coarse enough for phone photos. Sheets printed
    with every character escaped read the same (``unquote`` undoes both).
    """
    escaped = "".join(quote(c, safe="") if c in "%;" or not c.isprintable() else c for c in branch)
    return ";".join((QR_PREFIX, campaign_id, serial, layout_code, escaped))


def parse_qr_payload(payload: str) -> tuple[str, str, str, str] | None:
    """(campaign id, serial, layout code, branch), or None for a foreign code."""
    parts = payload.strip().split(";")
    if len(parts) != 5 or parts[0] != QR_PREFIX:
        return None
    return parts[1], parts[2], parts[3], unquote(parts[4])


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


# Characters Tesseract mistakes for one another in the printed serial.
CONFUSABLE = {
    "O": "0DQ", "0": "DQ", "D": "0", "Q": "0", "Y": "9V", "9": "Y", "V": "Y", "8": "B", "B": "8",
    "5": "S", "S": "5", "2": "Z", "Z": "2", "6": "G", "G": "6", "1": "T", "T": "1", "I": "1T",
}  # fmt: skip


def confused_once(serial: str) -> set[str]:
    """``serial`` with one commonly confused character replaced (body only), valid or not."""
    body, _, check = serial.rpartition("-")
    out = set()
    for i, ch in enumerate(body):
        for other in CONFUSABLE.get(ch, ""):
            out.add(f"{body[:i]}{other}{body[i + 1 :]}-{check}")
    return out


def confusable_twins(serial: str) -> set[str]:
    """Valid serials two commonly confused characters away from ``serial`` (body only).

    The check character catches any one wrong character, but two can cancel
    out: a printed serial misread twice the same way (5 as S and 0 as D) is
    then another valid serial. New serials are drawn without such twins, so
    that a misreading of this kind never passes the check.
    """
    return {
        twin
        for once in confused_once(serial)
        for twin in confused_once(once)
        if twin != serial and is_valid_serial(twin)
    }
