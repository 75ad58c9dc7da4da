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


def test_report_to_stdout_is_the_pdf_alone(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, truth = planted
    result = CliRunner().invoke(main, ["report", "--db", str(c.path), "--out", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"%PDF-") and result.stdout_bytes.rstrip().endswith(b"%%EOF")
    (tmp_path / "piped.pdf").write_bytes(result.stdout_bytes)
    assert f"Unique signatures: {truth.unique}" in pdf_text(tmp_path / "piped.pdf")[1]


def test_reports_are_owner_only_and_never_replace_a_link(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    import os
    import stat

    c, _ = planted
    for args in (["report"], ["report", "--signatories"]):
        out = tmp_path / f"{len(args)}.pdf"
        result = CliRunner().invoke(main, [*args, "--db", str(c.path), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    link = tmp_path / "link.pdf"
    link.symlink_to(tmp_path / "1.pdf")
    result = CliRunner().invoke(main, ["report", "--db", str(c.path), "--out", str(link)])
    assert result.exit_code == 5
    assert result.stderr.count("\n") == 1 and "symbolic link" in result.stderr
    assert os.readlink(link) == str(tmp_path / "1.pdf")


def test_report_progress_counts_pages(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    from petitionscan.report import report_database

    c, _ = planted
    seen: list[int] = []
    report_database(c.path, tmp_path / "list.pdf", signatories=True, progress=seen.append)
    pages, _ = pdf_text(tmp_path / "list.pdf")
    assert seen and max(seen) == pages
