"""Cyrillic names downstream: stored, exported (UTF-8 and Excel), tallied, merged across scripts, printed."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from click.testing import CliRunner

from petitionscan.alphabets import KAZAKH
from petitionscan.cli import main

from .conftest import Corpus

NAMES = [  # (name, workplace, town); rows 2 and 3 are row 1's signer in Latin, two spellings
    ("АЙГҮЛ ҚАСЫМОВА", "АУРУХАНА", "АҚТАУ"),
    ("AIGUL KASYMOVA", "АУРУХАНА", ""),
    ("AYGUL QASYMOVA", "", "AKTAU"),
    ("ӘСЕЛ ҒАЛЫМҚЫЗЫ", "МЕКТЕП", "ЖАҢАӨЗЕН"),
    ("НҰРЛАН ӨТЕПОВ", "ПОРТ", "ЖАҢАӨЗЕН"),
    ("ІЛИЯС ШАҺАНОВ", "ПОРТ", "АҚТАУ"),
    ("ҮМІТ ЖҮСІПОВА", "МЕКТЕП", "АҚТАУ"),
    ("ФЁДОР ВОРОБЬЁВ", "ПОРТ", "АКТАУ"),
]


def _database(corpus: Callable[[str], Corpus]) -> Corpus:
    c = corpus("cyrillic.db")
    sheet, scan = c.sheet("K1", branch="Маңғыстау мұнайшылары")
    for row_no, (name, workplace, town) in enumerate(NAMES, start=1):
        c.row(sheet, scan, row_no, name, workplace=workplace, town=town)
    return c


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_export_keeps_every_letter(corpus: Callable[[str], Corpus], tmp_path: Path) -> None:
    c = _database(corpus)
    out = tmp_path / "rows.csv"
    _run("export", "--db", str(c.path), "--out", str(out))
    lines = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert [line["name"] for line in lines] == [n for n, _, _ in NAMES]
    assert lines[0]["branch"] == "Маңғыстау мұнайшылары"
    assert set(KAZAKH) <= set("".join(line["name"] + line["town"] for line in lines))


def test_excel_export_is_utf8_with_a_byte_order_mark(corpus: Callable[[str], Corpus], tmp_path: Path) -> None:
    """Excel opens a ';' CSV as UTF-8 only with the mark; without it Cyrillic turns to mojibake."""
    c = _database(corpus)
    out = tmp_path / "excel.csv"
    _run("export", "--db", str(c.path), "--excel", "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [line["name"] for line in lines] == [n for n, _, _ in NAMES]
    assert "ӘСЕЛ ҒАЛЫМҚЫЗЫ".encode() in raw


def test_one_signer_in_two_scripts_is_counted_once(corpus: Callable[[str], Corpus], tmp_path: Path) -> None:
    c = _database(corpus)
    unique, dupes = tmp_path / "unique.csv", tmp_path / "dupes.csv"
    _run("export", "--db", str(c.path), "--unique", "--out", str(unique), "--duplicates", str(dupes))
    signers = list(csv.DictReader(io.StringIO(unique.read_text(encoding="utf-8"), newline="")))
    assert len(signers) == len(NAMES) - 2
    assert signers[0]["name"] == "АЙГҮЛ ҚАСЫМОВА" and signers[0]["duplicates"] == "2"
    merged = list(csv.DictReader(io.StringIO(dupes.read_text(encoding="utf-8"), newline="")))
    assert {line["name"] for line in merged} == {"АЙГҮЛ ҚАСЫМОВА", "AIGUL KASYMOVA", "AYGUL QASYMOVA"}


def test_tally_by_town_prints_cyrillic(corpus: Callable[[str], Corpus], tmp_path: Path) -> None:
    c = _database(corpus)
    out = tmp_path / "tally.csv"
    printed = _run("tally", "--db", str(c.path), "--by", "town", "--out", str(out))
    assert "ЖАҢАӨЗЕН" in printed
    lines = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert "ЖАҢАӨЗЕН" in {line["town"] for line in lines}


def test_reports_print_kazakh_letters(corpus: Callable[[str], Corpus], tmp_path: Path) -> None:
    c = _database(corpus)
    for args, expected in (
        (["--signatories"], ["ІЛИЯС ШАҺАНОВ", "ҮМІТ ЖҮСІПОВА", "ФЁДОР ВОРОБЬЁВ", "ЖАҢАӨЗЕН"]),
        ([], ["Маңғыстау мұнайшылары"]),
    ):
        out = tmp_path / "r.pdf"
        _run("report", *args, "--db", str(c.path), "--out", str(out))
        pdf = pdfium.PdfDocument(out)
        try:
            text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        finally:
            pdf.close()
        for word in expected:
            assert word in text, word
