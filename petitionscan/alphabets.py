"""The alphabets signers write in, as a campaign names them.

One home for the letter sets, so the sheet, the reader, the name model and
the simulator agree on what a Cyrillic capital is.
"""

from __future__ import annotations

LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
RUSSIAN = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
KAZAKH = "ӘҒҚҢӨҰҮҺІ"
"""The nine letters Kazakh adds to the Russian alphabet."""
CYRILLIC = RUSSIAN + KAZAKH
SEPARATORS = "-'"

ALPHABETS = ("latin", "cyrillic", "latin+cyrillic")
"""What a campaign's ``alphabet`` may be; sheets without one are Latin."""
DEFAULT_ALPHABET = "latin"


def letters_of(alphabet: str) -> str:
    """The capitals of an alphabet name (``latin+cyrillic``: both)."""
    if alphabet not in ALPHABETS:
        raise ValueError(f"unknown alphabet {alphabet!r}; one of {', '.join(ALPHABETS)}")
    return {"latin": LATIN, "cyrillic": CYRILLIC, "latin+cyrillic": LATIN + CYRILLIC}[alphabet]


def scripts_of(alphabet: str) -> tuple[str, ...]:
    """The scripts a field of this alphabet may be written in, each read on its own."""
    letters_of(alphabet)
    return tuple(alphabet.split("+"))
