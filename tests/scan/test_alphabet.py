"""The sheet's alphabet reaches the reader from the layout code alone, without the campaign file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from petitionscan.forms import generate
from petitionscan.recognize import FieldImage, LetterReading, Reading
from petitionscan.scan.pipeline import read_page
from petitionscan.scan.results import PageTask
from petitionscan.simulate import simulate

CAMPAIGNS = Path(__file__).resolve().parents[2] / "petitionscan" / "forms" / "campaigns"


class RecordingEngine:
    """Reads every field as one letter and remembers what it was asked: plumbing only."""

    name = "recording"
    version = "1"

    def __init__(self) -> None:
        self.fields: list[FieldImage] = []

    def read(self, fields: Sequence[FieldImage]) -> list[Reading]:
        self.fields.extend(fields)
        return [Reading("Ж", (LetterReading(0, "Ж", (("Ж", 0.9),)),), 0.9, self.name) for _ in fields]


@pytest.mark.parametrize(("campaign", "alphabet"), [("mangystau-kk", "cyrillic"), ("mangystau", "latin")])
def test_fields_are_read_in_the_sheets_alphabet(
    campaign: str, alphabet: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PETITIONSCAN_HOME", str(tmp_path / "home"))
    pdf, layout = tmp_path / "s.pdf", tmp_path / "s.json"
    generate(CAMPAIGNS / f"{campaign}.toml", sheets=1, out=pdf, layout_out=layout, with_appeal=False)
    result = simulate(pdf, layout, tmp_path / "scans", seed=3, fill=1.0)
    engine = RecordingEngine()
    page = read_page(PageTask(str(result.out_dir / result.files[0]), "pdf", 1, "x"), engine)
    assert page.status == "read", page.reason
    assert engine.fields and {f.alphabet for f in engine.fields} == {alphabet}
    assert any(r.name for r in page.rows)
