"""Recognizers: turn the cleaned letter boxes of a field into text.

The scan stage hands every engine the same input, a :class:`FieldImage`, and
gets back a :class:`Reading`. Engines are swappable by name (``--engine``).
All types here are small frozen dataclasses, picklable, free of handles, so
pages can be read in worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class FieldImage:
    """One handwritten field of a row, registered and with its box lines removed.

    ``image`` is greyscale uint8, dark ink on white, covering the field's boxes
    plus a margin (strokes may cross a box edge). ``boxes_px`` gives each letter
    box inside ``image`` as (x0, y0, x1, y1) pixels, in writing order. ``blank``
    is the scan stage's ink decision per box. ``px_per_mm`` is the resolution.
    ``alphabet`` is the campaign's (:mod:`petitionscan.alphabets`): the
    letters the field may hold. ``row`` says whose name it is: the fields of
    one row are one signer's, written in one script.
    """

    key: str
    image: np.ndarray
    boxes_px: tuple[tuple[int, int, int, int], ...]
    blank: tuple[bool, ...]
    px_per_mm: float
    alphabet: str = "latin"
    row: int | None = None


@dataclass(frozen=True)
class LetterReading:
    """The reading of one written box: best character and top alternatives.

    ``alternatives`` holds (character, probability) pairs, best first, the best
    one included; probabilities are calibrated.
    """

    box: int
    char: str
    alternatives: tuple[tuple[str, float], ...]

    @property
    def probability(self) -> float:
        return self.alternatives[0][1] if self.alternatives else 0.0


@dataclass(frozen=True)
class Reading:
    """The text of a field, its letters and a calibrated confidence in [0, 1].

    Blank boxes between letters become one space; leading and trailing blanks
    are dropped. ``confidence`` is the probability that ``text`` is exactly right.
    """

    text: str
    letters: tuple[LetterReading, ...]
    confidence: float
    engine: str
    script: str = "latin"
    """The script the text is in (an engine reading one script only says "latin")."""


class Recognizer(Protocol):
    """What every engine offers. ``read`` takes all fields of a page at once."""

    name: str
    version: str

    def read(self, fields: Sequence[FieldImage]) -> list[Reading]:
        """Read every field; one batch per page, not one call per letter."""
        ...


DEFAULT_ENGINE = "cnn"
ENGINES = ("cnn", "tesseract")


def get_engine(name: str = DEFAULT_ENGINE) -> Recognizer:
    """The engine called ``name``; cheap enough to call once per worker process.

    Raises ``UsageError`` for an unknown name and ``RecognizerError`` when the
    engine cannot run here (weights or the Tesseract program missing).
    """
    from petitionscan.errors import UsageError

    if name == "cnn":
        from petitionscan.recognize.cnn import CnnRecognizer

        return CnnRecognizer()
    if name == "tesseract":
        from petitionscan.recognize.tesseract import TesseractRecognizer

        return TesseractRecognizer()
    raise UsageError(f"unknown recognizer engine {name!r}: use one of {', '.join(ENGINES)}")


def name_confidence(readings: Sequence[Reading]) -> float:
    """Probability that every field of a name (first name, surname) is right.

    The fields are read independently, so their confidences multiply; compare
    the result with the engine's ``auto_threshold``.
    """
    p = 1.0
    for r in readings:
        p *= r.confidence
    return p
