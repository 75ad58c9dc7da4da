"""PDF reports: the count with charts, and the signatory list with Cyrillic names."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from click.testing import CliRunner

from petitionscan.cli import main
from petitionscan.errors import UsageError

from .conftest import Corpus, Truth


def pdf_text(path: Path) -> tuple[int, str]:
    pdf = pdfium.PdfDocument(path)
    try:
        text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        return len(pdf), text
    finally:
        pdf.close()


def test_count_report(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, truth = planted
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(main, ["report", "--db", str(c.path), "--out", str(out), "--target", "500"])
    assert result.exit_code == 0, result.output
    pages, text = pdf_text(out)
    assert pages >= 1
    assert f"Unique signatures: {truth.unique}" in text
    assert "target 500" in text
    for branch in truth.unique_by_branch:
        assert branch in text


def test_signatory_list_has_every_signer_once(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, truth = planted
    out = tmp_path / "list.pdf"
    result = CliRunner().invoke(main, ["report", "--signatories", "--db", str(c.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    _, text = pdf_text(out)
    assert f"{truth.unique} unique signatories" in text
    assert "ЖАНАР ӘБЕНОВА" in text  # Cyrillic needs the embedded TrueType font
    assert "ZHANAR ABENOVA" not in text  # merged into the first spelling
    assert "PENDING REVIEWER" not in text  # needs review: not a signatory yet


def test_bad_target_is_a_usage_error(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, _ = planted
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(main, ["report", "--db", str(c.path), "--out", str(out), "--target", "0"])
    assert result.exit_code == UsageError.exit_code
    assert not out.exists()
