"""PDF reports: the count with charts, and the signatory list with Cyrillic names."""

from __future__ import annotations

from collections.abc import Callable
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


def _image_objects(path: Path) -> int:
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(path)
    try:
        return sum(len(list(pdf[i].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))) for i in range(len(pdf)))
    finally:
        pdf.close()


def test_markup_in_branch_and_names_is_printed_as_text(corpus: Callable[[str], Corpus], tmp_path: Path) -> None:
    """Branch names come from sheets anyone can print: they must never become images, links or a crash."""
    picture = tmp_path / "local.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(picture), np.zeros((9, 9), np.uint8))
    hostile = [
        f'<img src="{picture}" width="9" height="9"/>',
        '<a href="http://example.invalid/">click</a>',
        "<img src=x onerror=alert(1)>",
        "Depot\x07 \u202eevil",
    ]
    c = corpus("hostile.db")
    for i, branch in enumerate(hostile):
        sheet, scan = c.sheet(f"S{i}", branch=branch)
        c.row(sheet, scan, 1, f"ANNA <b>KARIMOVA{i}", workplace='<font size="90">big</font>', town="<i>")
    for signatories in (False, True):
        out = tmp_path / f"report-{signatories}.pdf"
        args = ["report", "--db", str(c.path), "--out", str(out), "--title", "<a href='x'>T</a>"]
        result = CliRunner().invoke(main, args + (["--signatories"] if signatories else []))
        assert result.exit_code == 0, result.output
        assert _image_objects(out) == 0
        assert b"/URI" not in out.read_bytes() and b"/Link" not in out.read_bytes()
        _, text = pdf_text(out)
        assert "<a href='x'>T</a>" in text
        if signatories:
            assert '<font size="90">big</font>' in text
        else:
            assert "<img src=x onerror=alert(1)>" in text
            assert "\x07" not in text and "\u202e" not in text


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
