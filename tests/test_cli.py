"""The command line's one place for errors: one line, the traceback only with -v."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_an_unexpected_failure_is_one_line_without_verbose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import petitionscan.forms as forms
    from petitionscan.cli import main

    def bug(*_args: object, **_kwargs: object) -> int:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(forms, "write_pdf", bug)
    out = str(tmp_path / "s.pdf")
    quiet = CliRunner().invoke(main, ["generate", "--out", out])
    assert quiet.exit_code == 1
    assert quiet.output.strip() == (
        "petitionscan: error: unexpected failure (ZeroDivisionError: division by zero); run with -v for details"
    )
    verbose = CliRunner().invoke(main, ["-v", "generate", "--out", out])
    assert verbose.exit_code == 1 and "Traceback" in verbose.output
    assert list(tmp_path.iterdir()) == []
