"""The TrueType fonts embedded in every PDF the tool writes.

PDF's built-in fonts have no Cyrillic, so a Kazakh heading would print as
boxes. DejaVu Sans covers Latin with diacritics and all Kazakh letters; it comes
from the Debian package ``fonts-dejavu-core`` that the set-up installs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from petitionscan.errors import FontMissing

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/usr/share/fonts"),
)
REGULAR = "PetitionSans"
BOLD = "PetitionSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}


def font_path(file_name: str) -> Path:
    for folder in FONT_DIRS:
        hits = [folder / file_name] if (folder / file_name).exists() else sorted(folder.rglob(file_name))
        if hits:
            return hits[0]
    raise FontMissing(
        f"the font {file_name} is not installed; run the set-up (make setup) or 'apt-get install fonts-dejavu-core'"
    )


@cache
def register_fonts() -> tuple[str, str]:
    """Register the regular and bold fonts with reportlab once per process."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, file_name in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(font_path(file_name))))
    from reportlab.lib.fonts import addMapping

    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR, BOLD
