"""Printed sheets for the simulator tests, generated once by the project's own generator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from petitionscan.forms import generate


@dataclass(frozen=True)
class Sheets:
    pdf: Path
    layout: Path
    sheets: int
    appeal_pages: int


@pytest.fixture(scope="session")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> Sheets:
    """Two signature sheets of the default campaign, with its appeal pages in front."""
    folder = tmp_path_factory.mktemp("sheets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PETITIONSCAN_HOME", str(folder / "home"))
        result = generate(None, sheets=2, out=folder / "sheets.pdf", layout_out=folder / "layout.json")
    assert result.layout is not None
    return Sheets(result.pdf, result.layout, len(result.serials), result.appeal_pages)
