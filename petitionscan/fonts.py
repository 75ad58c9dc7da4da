"""The TrueType fonts embedded in every PDF the tool writes.

PDF's built-in fonts have no Cyrillic, so a Kazakh heading would print as
boxes. DejaVu Sans covers Latin with diacritics, Cyrillic and all Kazakh
letters; its regular and bold faces ship inside the package
(``petitionscan/fontfiles``, with their licence), so no system font is needed
on Windows, macOS or Linux.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib import resources
from pathlib import Path

from petitionscan.errors import FontMissing

REGULAR = "PetitionSans"
BOLD = "PetitionSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_FILES_PACKAGE = "petitionscan.fontfiles"
_opened = ExitStack()
atexit.register(_opened.close)


@cache
def font_path(file_name: str) -> Path:
    """A file system path to one of the package's fonts (extracted once if the package is zipped)."""
    item = resources.files(_FILES_PACKAGE) / file_name
    if not item.is_file():
        raise FontMissing(
            f"the font {file_name} is missing from the petitionscan package; reinstall it (pip install --force-reinstall petitionscan)"
        )
    return _opened.enter_context(resources.as_file(item))


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
