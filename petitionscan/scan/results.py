"""What reading a page produces: small frozen records, passed from the workers to the store.

They live apart from the pipeline that makes them and the module that stores
them (:mod:`.persist`), so neither of those imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from petitionscan.recognize import LetterReading
from petitionscan.scan.register import Registration


@dataclass(frozen=True)
class FieldRead:
    """The reading of one lettered field of a row."""

    key: str
    text: str
    confidence: float
    blank: tuple[bool, ...]
    letters: tuple[LetterReading, ...]


@dataclass(frozen=True)
class RowResult:
    """One row as read: decisions, text, confidence and the crop for review."""

    row: int
    status: str
    name: str
    confidence: float | None
    signed: bool
    crossed_out: bool
    crop: bytes
    fields: tuple[FieldRead, ...]

    def text(self, key: str) -> str:
        return next((f.text for f in self.fields if f.key == key), "")


@dataclass(frozen=True)
class PageTask:
    """What a worker is given: a file, a page of it, and the file's hash."""

    source_file: str
    kind: str
    page: int
    file_hash: str


@dataclass(frozen=True)
class PageResult:
    """Everything a worker learnt about one page; the main process stores it.

    ``status`` is ``read``, ``foreign`` or ``rejected``.
    """

    source_file: str
    page: int
    file_hash: str
    page_hash: str
    status: str
    reason: str
    registration: Registration | None
    rows: tuple[RowResult, ...]
    page_jpeg: bytes
    engine: str
    engine_version: str
    seconds: float
    stages: tuple[tuple[str, float], ...] = ()
    """CPU seconds of this process per stage (decode, register, fields, recognize): where a page's time goes."""
