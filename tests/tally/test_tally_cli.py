"""The tally and export commands: tables, CSV files, stdout, safe cells, atomic writes, errors."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from petitionscan import export
from petitionscan.cli import main
from petitionscan.errors import DatabaseError, OutputError

from .conftest import Corpus, Truth


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def read_csv(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_tally_prints_table_and_writes_csv(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, truth = planted
    out = tmp_path / "tally.csv"
    code, stdout, _ = run("tally", "--db", str(c.path), "--by", "branch", "--out", str(out))
    assert code == 0
    assert "unique" in stdout and "TOTAL" in stdout
    lines = read_csv(out.read_text(encoding="utf-8"))
    total = next(line for line in lines if line["branch"] == "TOTAL")
    assert int(total["unique signatures"]) == truth.unique
    assert int(total["needs review"]) == truth.statuses["needs_review"]
    for branch, expected in truth.unique_by_branch.items():
        assert int(next(x for x in lines if x["branch"] == branch)["unique signatures"]) == expected


def test_tally_to_stdout_is_only_csv(planted: tuple[Corpus, Truth]) -> None:
    c, truth = planted
    code, stdout, _ = run("tally", "--db", str(c.path), "--out", "-")
    assert code == 0
    lines = read_csv(stdout)
    assert [line["group"] for line in lines] == ["TOTAL"]
    assert int(lines[0]["unique signatures"]) == truth.unique


def test_export_rows_header_and_one_line_per_row(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, truth = planted
    out = tmp_path / "rows.csv"
    code, _, _ = run("export", "--db", str(c.path), "--out", str(out))
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("sheet_id,row,name,status,confidence,signed,branch,source_file,page,")
    lines = read_csv(text)
    assert len(lines) == sum(truth.statuses.values())
    assert {line["sheet_id"] for line in lines} >= {"S0001", "S0002"}


def test_export_unique_and_duplicates(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, truth = planted
    out, dupes = tmp_path / "signatures.csv", tmp_path / "dupes.csv"
    code, _, _ = run("export", "--db", str(c.path), "--unique", "--out", str(out), "--duplicates", str(dupes))
    assert code == 0
    people = read_csv(out.read_text(encoding="utf-8"))
    assert len(people) == truth.unique
    merged = sum(len(p["duplicate_row_ids"].split()) for p in people)
    assert merged == truth.counted_rows - truth.unique
    groups = read_csv(dupes.read_text(encoding="utf-8"))
    assert len([g for g in groups if g["kept"] == "no"]) == merged
    assert all(g["reason"] for g in groups if g["kept"] == "no")
    # Each group is one planted person.
    by_group: dict[str, set[int]] = {}
    for g in groups:
        by_group.setdefault(g["group"], set()).add(truth.row_person[int(g["row_id"])])
    assert all(len(p) == 1 for p in by_group.values())


def test_export_to_stdout(planted: tuple[Corpus, Truth]) -> None:
    c, truth = planted
    code, stdout, _ = run("export", "--db", str(c.path), "--unique", "--out", "-")
    assert code == 0
    assert len(read_csv(stdout)) == truth.unique


def test_csv_injection_is_neutralised(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = corpus("inj.db")
    sheet, scan = c.sheet("S1", branch='=HYPERLINK("http://x")')
    dangerous = ["=CMD()", "+SUM(A1)", "-2+3", "@IMPORT", "\tTAB", "\rCR"]
    for i, name in enumerate(dangerous, start=1):
        c.row(sheet, scan, i, name, workplace=name)
    c.row(sheet, scan, 10, "ANNA SMITH-JONES", workplace="A=B")
    out = tmp_path / "rows.csv"
    assert run("export", "--db", str(c.path), "--out", str(out))[0] == 0
    lines = read_csv(out.read_bytes().decode("utf-8"))
    for line in lines:
        for column in ("name", "workplace", "branch"):
            assert not line[column].startswith(("=", "+", "-", "@", "\t", "\r")), line[column]
    assert [line["name"] for line in lines[: len(dangerous)]] == ["'" + d for d in dangerous]
    assert lines[-1]["name"] == "ANNA SMITH-JONES" and lines[-1]["workplace"] == "A=B"
    assert lines[-1]["confidence"] == "0.97"


def test_excel_flavour(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, truth = planted
    out = tmp_path / "excel.csv"
    assert run("export", "--db", str(c.path), "--unique", "--excel", "--out", str(out))[0] == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = read_csv(raw.decode("utf-8-sig"), delimiter=";")
    assert len(lines) == truth.unique and "name" in lines[0]


def test_failed_write_leaves_nothing(planted: tuple[Corpus, Truth], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    c, _ = planted
    out = tmp_path / "rows.csv"
    out.write_text("old content\n", encoding="utf-8")

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    code, _, stderr = run("export", "--db", str(c.path), "--out", str(out))
    assert code == OutputError.exit_code
    assert "error" in stderr
    assert out.read_text(encoding="utf-8") == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".rows")) == []


def test_unwritable_folder_is_output_error(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    c, _ = planted
    code, _, stderr = run("export", "--db", str(c.path), "--out", str(tmp_path / "no" / "such" / "rows.csv"))
    assert code == OutputError.exit_code and stderr.count("\n") == 1


def test_missing_database(tmp_path: Path) -> None:
    for command in (["tally"], ["export", "--out", "-"], ["report", "--out", str(tmp_path / "r.pdf")]):
        code, stdout, stderr = run(*command, "--db", str(tmp_path / "missing.db"))
        assert code == DatabaseError.exit_code, command
        assert "missing.db" in stderr and stdout == ""
    assert not (tmp_path / "missing.db").exists()


def test_neutralize_leaves_other_values() -> None:
    assert export.neutralize("SMITH-JONES") == "SMITH-JONES"
    assert export.neutralize("-X") == "'-X"
    assert export.neutralize(-3) == -3


def test_control_characters_in_branch_names_never_reach_the_terminal(
    corpus: Callable[[str], Corpus],
) -> None:
    c = corpus("escape.db")
    sheet, scan = c.sheet("S1", branch="\x1b[2J\x1b[31mDepot\u202e7")
    c.row(sheet, scan, 1, "ANNA KARIMOVA")
    code, out, _ = run("tally", "--db", str(c.path), "--by", "branch")
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out and "[2J[31mDepot7" in out


def test_exports_are_owner_only_and_never_replace_a_link(planted: tuple[Corpus, Truth], tmp_path: Path) -> None:
    import stat

    c, _ = planted
    out, dupes = tmp_path / "signatures.csv", tmp_path / "dupes.csv"
    code, _, _ = run("export", "--db", str(c.path), "--unique", "--out", str(out), "--duplicates", str(dupes))
    assert code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(dupes.stat().st_mode) == 0o600
    link = tmp_path / "rows.csv"
    link.symlink_to(out)
    code, _, stderr = run("export", "--db", str(c.path), "--out", str(link))
    assert code == OutputError.exit_code
    assert stderr.count("\n") == 1 and "symbolic link" in stderr
    assert link.is_symlink() and out.read_text(encoding="utf-8").startswith("name")


def test_tally_fits_80_columns_and_the_csv_keeps_every_column(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from petitionscan.tally import COLUMNS

    c = corpus("campaign.db")
    long_branch = "Mangystau regional branch of the oil and gas workers' union, Zhanaozen"
    sheet, scan = c.sheet("AAAAA-AAAAA-A", branch=long_branch)
    c.row(sheet, scan, 1, "ZHANAR ABENOVA")
    c.close()
    out = tmp_path / "tally.csv"
    code, stdout, _ = run("tally", "--db", str(c.path), "--by", "branch", "--out", str(out))
    assert code == 0, stdout
    lines = stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, stdout
    assert any(line.startswith("Mangystau regional") and "\u2026" in line for line in lines)
    assert "--out keeps every column" in stdout
    header = read_csv(out.read_text(encoding="utf-8"))[0]
    assert list(header) == ["branch", *COLUMNS]
    assert next(iter(header.values())) == long_branch


def test_every_command_uses_campaign_db_here_or_petitionscan_db(
    planted: tuple[Corpus, Truth], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, truth = planted
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, stderr = run("tally")
    assert code == DatabaseError.exit_code and "campaign.db" in stderr  # ./campaign.db, none here
    monkeypatch.setenv("PETITIONSCAN_DB", str(c.path))
    code, stdout, _ = run("tally", "--out", "-")
    assert code == 0 and read_csv(stdout)[-1]["unique signatures"] == str(truth.unique)
    monkeypatch.setenv("PETITIONSCAN_TALLY_BY", "branch")  # any option, through the prefix
    code, stdout, _ = run("tally", "--out", "-")
    assert code == 0 and "branch" in read_csv(stdout)[0]
    monkeypatch.delenv("PETITIONSCAN_DB")
    (elsewhere / "campaign.db").symlink_to(c.path)
    code, stdout, _ = run("export", "--out", "-")
    assert code == 0 and len(read_csv(stdout)) == sum(truth.statuses.values())
