"""Scan test data, made once per session by the project's own generator and simulator."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from petitionscan.forms import generate
from petitionscan.simulate import PROFILES, simulate

SEED = 20240611


@dataclass(frozen=True)
class Corpus:
    """One simulated sheet per capture profile, each with its own serial."""

    scans: Path  # folder with the image files only
    truth: dict[tuple[str, int], dict[str, str]]  # (serial, row) -> truth.csv row
    sheets: dict[str, tuple[Path, Path]]  # profile -> (sheets pdf, layout json)
    seed: int = SEED


def _read_truth(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("scan-corpus")
    scans = root / "scans"
    scans.mkdir()
    truth: dict[tuple[str, int], dict[str, str]] = {}
    sheets: dict[str, tuple[Path, Path]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PETITIONSCAN_HOME", str(root / "home"))
        for i, profile in enumerate(PROFILES):
            pdf, layout = root / f"{profile}.pdf", root / f"{profile}.json"
            generate(None, sheets=1, out=pdf, layout_out=layout, with_appeal=False)
            sheets[profile] = (pdf, layout)
            out = root / f"sim-{profile}"
            result = simulate(pdf, layout, out, profile=profile, seed=SEED + i, fill=0.8)
            for name in result.files:
                (out / name).rename(scans / name)
            for row in _read_truth(result.truth):
                truth[(row["sheet_id"], int(row["row"]))] = row
    return Corpus(scans, truth, sheets)
