"""The project's own exceptions.

Every error a user can cause is one of these. Each carries the exit code the
command line returns and a message that says what happened and what to do.
Only ``cli.main`` turns them into exit codes; the library never exits.
"""

from __future__ import annotations

TESSERACT_INSTALL = (
    "Windows: winget install UB-Mannheim.TesseractOCR; macOS: brew install tesseract; "
    "Linux: apt-get install tesseract-ocr"
)
"""How to install Tesseract on each system, for every message that needs it."""


class PetitionscanError(Exception):
    """Base class: a one-line message for the user and an exit code."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(PetitionscanError):
    """A command was called with options that cannot work together."""

    exit_code = 2


class CampaignError(PetitionscanError):
    """A campaign file is missing, unreadable or has a wrong key."""

    exit_code = 3


class InputFileError(PetitionscanError):
    """An input file is missing, unreadable, corrupt or of an unknown kind."""

    exit_code = 4


class OutputError(PetitionscanError):
    """An output file could not be written (no permission, disk full...)."""

    exit_code = 5


class DatabaseError(PetitionscanError):
    """The campaign database is unreadable, locked, or from a newer version."""

    exit_code = 6


class FontMissing(PetitionscanError):
    """The Unicode font that every PDF embeds is not installed."""

    exit_code = 8


class PagesRejected(PetitionscanError):
    """Some pages of a batch were rejected; the rest were read and stored."""

    exit_code = 10


class NothingRead(PetitionscanError):
    """No page of the batch could be read."""

    exit_code = 11


class RecognizerError(PetitionscanError):
    """The recognizer engine cannot run (missing weights, missing Tesseract)."""

    exit_code = 7


class Interrupted(PetitionscanError):
    """The run was interrupted; what was stored is complete and resumable."""

    exit_code = 130
