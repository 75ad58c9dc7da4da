"""User text on its way into reportlab: the one place it is made safe.

reportlab's ``Paragraph`` reads its text as markup: ``<img src=...>`` embeds
a local file, ``<a href=...>`` makes a live link, a broken tag stops the
build. Branch names travel in the sheets' QR codes (whoever prints a sheet
chooses them), names and places come from handwriting, campaign text from a
file: every such string passes through :func:`para` before it reaches a
``Paragraph``, and through :func:`printable` before it is drawn as a plain
string, so it is printed as the characters it is and nothing else.
"""

from __future__ import annotations

import re

# C0 and C1 controls (tab and line breaks are whitespace), and the bidirectional
# overrides that would make printed text read differently from the stored text.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"[\r\n\t]+")


def printable(text: str) -> str:
    """The text without control or direction-override characters, on one line."""
    return _NEWLINES.sub(" ", CONTROL.sub("", text))


def para(text: str) -> str:
    """``text`` as literal characters in reportlab Paragraph markup."""
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def first_control(text: str) -> str | None:
    """The first control or direction-override character of ``text`` as ``U+XXXX``, or None."""
    found = CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"
