"""Shared test set-up: keep every test's serial ledger out of the user's home."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("petitionscan-home")
    monkeypatch.setenv("PETITIONSCAN_HOME", str(home))
    monkeypatch.delenv("PETITIONSCAN_DB", raising=False)  # every test names its database or its folder
    return home
