"""The threshold chosen on validation sheets (training/page_threshold.py): which names it counts."""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from .conftest import training_module


@pytest.fixture(scope="module")
def page_threshold() -> ModuleType:
    return training_module("page_threshold")


def _truth(folder: Path, names: list[tuple[str, str]]) -> None:
    folder.mkdir()
    with (folder / "truth.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sheet_id", "row", "name", "crossed_out"])
        for i, (name, crossed) in enumerate(names, 1):
            w.writerow(["S1", i, name, crossed])


def test_the_rule_of_the_calibration_on_the_names_a_sheet_may_accept(
    page_threshold: ModuleType, tmp_path: Path
) -> None:
    """1,000 listed names by falling confidence, the 300th and the 701st read wrong.

    The first mistake comes before 500 names are accepted, where one mistake
    cannot be told from the precision asked (MIN_ACCEPTED); at the second,
    699 of 701 right breaks 99.8 %, so the threshold stops just above it. A
    wrong name the scan stage sends to a person anyway (ink beyond its
    letters) and a row crossed out on the sheet take no part, however sure.
    """
    n = 1000
    assert page_threshold.MIN_ACCEPTED == 500
    names = [("IVAN PETROV", "no")] * n + [("ANNA SMITH", "yes"), ("OLGA IVANOVA", "no")]
    _truth(tmp_path / "flatbed", names)
    conf = np.linspace(0.999, 0.5, n)
    rows = [("S1", i + 1, "IVAN PETROV", float(conf[i]), True) for i in range(n)]
    for i in (299, 700):
        rows[i] = ("S1", i + 1, "IVAN PETRON", float(conf[i]), True)
    rows.append(("S1", n + 1, "ANNA SMYTH", 1.0, True))  # crossed out on the sheet: not counted
    rows.append(("S1", n + 2, "OLGA IVANOVAI", 1.0, False))  # sent to a person whatever its confidence
    threshold, figures = page_threshold.choose([tmp_path / "flatbed"], rows, "latin")
    assert threshold == pytest.approx(conf[699])
    assert figures["auto_names"] == 700
    assert figures["auto_wrong"] == 1
    assert figures["names"] == n + 1  # read, but not one the threshold decides
