"""The command line as a newcomer meets it (python -m, shipped campaigns, the demo), and its one place for errors."""

from __future__ import annotations

import csv
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from petitionscan import __version__
from petitionscan.cli import main
from petitionscan.errors import CampaignError, OutputError


def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "petitionscan", *args], capture_output=True, text=True, cwd=tmp_path, check=False
        )

    done = run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"petitionscan, version {__version__}"
    done = run("demo", "d", "--sheets", "2", "--jobs", "2")  # with scan workers, which are spawned processes
    assert done.returncode == 0, done.stderr
    assert "read 2 pages" in done.stdout


def test_shipped_campaigns_are_listed_printed_and_used_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    listed = CliRunner().invoke(main, ["campaigns"])
    assert listed.exit_code == 0
    assert any(line.startswith("mangystau (default): en,") for line in listed.stdout.splitlines())
    assert any(line.startswith("mangystau-ru: ru,") for line in listed.stdout.splitlines())
    printed = CliRunner().invoke(main, ["campaigns", "mangystau-ru"])
    assert printed.exit_code == 0 and 'language = "ru"' in printed.stdout
    (tmp_path / "mine.toml").write_text(printed.stdout.replace('id = "mangystau-ru"', 'id = "mine"'), "utf-8")
    for args in ([], ["mangystau-ru"], ["mine.toml"]):
        result = CliRunner().invoke(main, ["generate", *args, "--out", "s.pdf"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("wrote s.pdf")
    unknown = CliRunner().invoke(main, ["campaigns", "nowhere"])
    assert unknown.exit_code == CampaignError.exit_code and "mangystau-ru" in unknown.stderr
    missing = CliRunner().invoke(main, ["generate", "forms/nowhere.toml", "--out", "s.pdf"])
    assert missing.exit_code == CampaignError.exit_code and "shipped campaign" in missing.stderr


def test_demo_runs_the_whole_workflow_into_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", str(folder), "--sheets", "2", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "handwriting: real pen strokes" in result.stdout
    for name in ("sheets.pdf", "layout.json", "campaign.db", "tally.csv", "rows.csv", "signatures.csv",
                 "duplicates.csv", "report.pdf", "signatories.pdf", "scans/truth.csv"):  # fmt: skip
        assert (folder / name).is_file(), name
    with (folder / "scans" / "truth.csv").open(encoding="utf-8", newline="") as fh:
        written = [r for r in csv.DictReader(fh)]
    with (folder / "rows.csv").open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(written)  # every row written was read
    for name in ("campaign.db", "rows.csv", "signatures.csv", "report.pdf", "signatories.pdf"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    again = CliRunner().invoke(main, ["demo", str(folder)])
    assert again.exit_code == OutputError.exit_code and "not an empty folder" in again.stderr


def test_an_unexpected_failure_is_one_line_without_verbose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import petitionscan.forms.pdf as pdf

    def bug(*_args: object, **_kwargs: object) -> int:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(pdf, "write_pdf", bug)
    out = str(tmp_path / "s.pdf")
    quiet = CliRunner().invoke(main, ["generate", "--out", out])
    assert quiet.exit_code == 1
    assert quiet.output.strip() == (
        "petitionscan: error: unexpected failure (ZeroDivisionError: division by zero); run with -v for details"
    )
    verbose = CliRunner().invoke(main, ["-v", "generate", "--out", out])
    assert verbose.exit_code == 1 and "Traceback" in verbose.output
    assert list(tmp_path.iterdir()) == []
