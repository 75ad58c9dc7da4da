"""The README's example commands run as written, in order, in an empty folder."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent  # the environment petitionscan is installed in


def readme_commands() -> list[str]:
    """Every line of a ``sh`` block that runs petitionscan (install and make lines are for people)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.startswith("petitionscan ")]


def test_the_readme_shows_the_first_run_and_the_workflow() -> None:
    commands = readme_commands()
    assert commands[:2] == ["petitionscan demo my-demo", "petitionscan review --db my-demo/campaign.db"]
    verbs = {c.split()[1] for c in commands}
    assert verbs >= {"demo", "generate", "simulate", "scan", "review", "tally", "export", "report", "merge", "purge"}


def _review(line: str, cwd: Path, env: dict[str, str]) -> None:
    """A review line as written: it serves until Ctrl+C, so start it, wait for the address, press Ctrl+C."""
    proc = subprocess.Popen(
        ["bash", "-c", f"exec {line}"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        # Ctrl+C as a terminal gives it, even when this run was started in the background (SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
    finally:  # never leave the server running
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert first.startswith("review page: http://127.0.0.1:"), first
    assert proc.returncode == 0 and "every decision is saved" in rest


@pytest.mark.skipif(not (BIN / "petitionscan").is_file(), reason="petitionscan is not installed beside this Python")
def test_the_readme_commands_run_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "BROWSER": "true"}
    for line in readme_commands():
        if line.startswith("petitionscan review"):
            _review(line, tmp_path, env)
            continue
        done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
    assert (tmp_path / "signatories.pdf").read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "campaign.db").is_file() and (tmp_path / "report.pdf").is_file()


def test_shell_completion_as_documented(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    assert "_PETITIONSCAN_COMPLETE=bash_source petitionscan" in text
    env = {**os.environ, "_PETITIONSCAN_COMPLETE": "bash_source"}
    done = subprocess.run([str(BIN / "petitionscan")], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "complete " in done.stdout and "_PETITIONSCAN_COMPLETE" in done.stdout
