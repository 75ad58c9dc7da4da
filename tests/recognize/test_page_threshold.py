"""The page step of the calibration (training/page_threshold.py): which names it counts, and what it fits."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from .conftest import training_module


@pytest.fixture(scope="module")
def page_threshold() -> ModuleType:
    return training_module("page_threshold")


def _truth(folder: Path, names: list[tuple[str, str, str]]) -> list[list[Path]]:
    folder.mkdir()
    with (folder / "truth.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sheet_id", "row", "name", "first_name", "surname", "crossed_out"])
        for i, (first, surname, crossed) in enumerate(names, 1):
            w.writerow(["S1", i, f"{first} {surname}", first, surname, crossed])
    return [[folder]]


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
    field = page_threshold.NameField
    n = 1000
    assert page_threshold.MIN_ACCEPTED == 500
    draws = _truth(
        tmp_path / "flatbed", [("IVAN", "PETROV", "no")] * n + [("ANNA", "SMITH", "yes"), ("OLGA", "IVANOVA", "no")]
    )
    conf = np.linspace(0.999, 0.5, n)
    fields = []
    for i in range(n):
        surname = "PETRON" if i in (299, 700) else "PETROV"
        fields.append(field(0, "S1", i + 1, "first_name", "IVAN", 1.0, None, False, False))
        fields.append(field(0, "S1", i + 1, "surname", surname, float(conf[i]), None, False, False))
    fields.append(field(0, "S1", n + 1, "surname", "SMYTH", 1.0, None, False, False))  # crossed out on the sheet
    fields.append(field(0, "S1", n + 2, "surname", "IVANOVAI", 1.0, None, False, True))  # held for a person
    threshold, figures, listed = page_threshold.choose(page_threshold.name_rows(draws, fields), "latin", "names_model")
    assert listed is None
    assert threshold == pytest.approx(conf[699])
    assert figures["auto_names"] == 700
    assert figures["auto_wrong"] == 1
    assert figures["names"] == n + 1  # read, but not one the threshold decides


def test_listed_fields_are_judged_by_the_model_fitted_on_the_sheets(page_threshold: ModuleType, tmp_path: Path) -> None:
    """Surnames read right when the margin to the runner-up is wide: the fitted model says so,
    whatever the model in use said; a field with an unlisted word keeps the confidence it was read with."""
    field = page_threshold.NameField
    rng = np.random.default_rng(5)
    margins = rng.uniform(0.0, 8.0, 2000)
    right = margins + rng.normal(0.0, 0.7, len(margins)) > 2.0
    draws = _truth(tmp_path / "flatbed", [("IVAN", "PETROV", "no")] * len(margins))
    fields = []
    for i, (m, ok) in enumerate(zip(margins, right, strict=True)):
        features = [0.0] * len(page_threshold.FEATURES)
        features[page_threshold.FEATURES.index("margin")] = float(m)
        features[page_threshold.FEATURES.index("margin_if_all_known")] = float(m)
        fields.append(
            field(0, "S1", i + 1, "surname", "PETROV" if ok else "PETRON", 0.5, tuple(features), False, False)
        )
    _, _, listed = page_threshold.choose(page_threshold.name_rows(draws, fields), "latin", "listed_refit")
    assert listed is not None
    wide, narrow = (page_threshold._field_confidence(fields[int(np.argmax(margins * s))], listed) for s in (1, -1))
    assert wide > 0.99 > 0.2 > narrow
    unknown = [0.0] * len(page_threshold.FEATURES)
    unknown[page_threshold.FEATURES.index("unknown_words")] = 1.0
    f = field(0, "S1", 1, "surname", "PETRONI", 0.42, tuple(unknown), False, False)
    assert page_threshold._field_confidence(f, listed) == 0.42
    held = field(0, "S1", 1, "surname", "PETROV", 0.5, fields[int(np.argmax(margins))].features, True, False)
    assert page_threshold._field_confidence(held, listed) <= 0.9  # goes to a person: capped as the reader caps it
    assert not math.isnan(listed[1])


def test_stronger_evidence_never_lowers_a_listed_fields_confidence(page_threshold: ModuleType, tmp_path: Path) -> None:
    """Fields right when the margin is wide, their posterior drawn so that, beside the margin, it
    seems to count against them: the fit leaves the posterior out instead of weighing it negatively."""
    field = page_threshold.NameField
    rng = np.random.default_rng(7)
    n = 2000
    margins = rng.uniform(0.0, 8.0, n)
    right = margins + rng.normal(0.0, 0.7, n) > 2.0
    posterior = np.where(right, -1.0, 0.0) + rng.normal(0.0, 0.1, n)  # log posterior higher on wrong fields
    draws = _truth(tmp_path / "flatbed", [("IVAN", "PETROV", "no")] * n)
    fields = []
    for i in range(n):
        features = [0.0] * len(page_threshold.FEATURES)
        features[page_threshold.FEATURES.index("log_posterior")] = float(posterior[i])
        features[page_threshold.FEATURES.index("margin")] = float(margins[i])
        features[page_threshold.FEATURES.index("margin_if_all_known")] = float(margins[i])
        text = "PETROV" if right[i] else "PETRON"
        fields.append(field(0, "S1", i + 1, "surname", text, 0.5, tuple(features), False, False))
    coef, _ = page_threshold.fit_listed(page_threshold.name_rows(draws, fields))
    assert coef[page_threshold.FEATURES.index("log_posterior")] == 0.0
    assert coef[page_threshold.FEATURES.index("margin")] > 0.0


def test_too_few_names_to_judge_the_precision_stop_the_step(page_threshold: ModuleType, tmp_path: Path) -> None:
    """Under MIN_ACCEPTED names no set is judged, so every name would pass: the step stops instead."""
    field = page_threshold.NameField
    draws = _truth(tmp_path / "flatbed", [("IVAN", "PETROV", "no")] * 10)
    fields = [field(0, "S1", i + 1, "surname", "PETRON", 0.9, None, False, False) for i in range(10)]
    with pytest.raises(SystemExit, match="give more --pages"):
        page_threshold.choose(page_threshold.name_rows(draws, fields), "latin", "names_model")


def test_the_surprise_table_counts_what_the_network_saw_where_a_letter_was_meant(
    page_threshold: ModuleType, tmp_path: Path
) -> None:
    """In 100 PETROV surnames the network saw a U in the V box 30 times and an N twice: a U overruled
    into a V is common (about 1.2 nats), an N so overruled rare; a box the network never saw so is
    left out, and a field whose boxes do not match the name's letters counts for nothing."""
    field = page_threshold.NameField
    draws = _truth(tmp_path / "flatbed", [("IVAN", "PETROV", "no")] * 101)
    fields = []
    for i in range(100):
        seen = "PETROU" if i < 30 else "PETRON" if i < 32 else "PETROV"
        fields.append(field(0, "S1", i + 1, "surname", "PETROV", 0.5, None, False, False, (), seen))
    fields.append(field(0, "S1", 101, "surname", "PETROV", 0.5, None, False, False, (), "PETROVV"))
    table = page_threshold.surprise_table(page_threshold.name_rows(draws, fields))
    add, add_total = page_threshold.SURPRISE_SMOOTHING
    assert table["U>V"] == pytest.approx(-math.log((30 + add) / (100 + add_total)), abs=1e-4)
    assert table["U>V"] < table["N>V"] < page_threshold.SURPRISE_CAP
    assert "V>V" not in table and "W>V" not in table


def test_a_listed_field_is_judged_by_how_unlikely_its_overrules_were(
    page_threshold: ModuleType, tmp_path: Path
) -> None:
    """Surnames with one letter overruled: where the network often sees that letter for the one chosen
    (U for V) the list was right; where it seldom does (N for V) the list was wrong half the time. The
    model that weighs the overrules' surprise tells the two apart, which the overruled nats alone
    cannot (both cost the same nats); the cross-check keeps it where it accepts more."""
    field = page_threshold.NameField
    rng = np.random.default_rng(11)
    n = 3000
    kinds = rng.choice(["none", "common", "rare"], n, p=[0.6, 0.3, 0.1])
    margins = rng.uniform(4.0, 12.0, n)
    right = np.where(kinds == "rare", rng.random(n) < 0.5, margins + rng.normal(0.0, 1.0, n) > 5.0)
    draws = _truth(tmp_path / "flatbed", [("IVAN", "PETROV", "no")] * n)
    fields = []
    for i in range(n):
        features = [0.0] * len(page_threshold.FEATURES)
        for name in ("margin", "margin_if_all_known"):
            features[page_threshold.FEATURES.index(name)] = float(margins[i])
        over: tuple[tuple[str, str], ...] = ()
        seen = "PETROV"
        if kinds[i] != "none":
            features[page_threshold.FEATURES.index("overruled")] = 2.0
            seen = "PETROU" if kinds[i] == "common" else "PETRON"
            over = ((seen[-1], "V"),)
        text = "PETROV" if right[i] else "PETROF"
        fields.append(field(0, "S1", i + 1, "surname", text, 0.5, tuple(features), False, False, over, seen))
    rows = page_threshold.name_rows(draws, fields)
    _, _, listed = page_threshold.choose(rows, "latin", "listed_overrules")
    assert listed is not None and listed[2] is not None
    assert len(listed[0]) == len(page_threshold.LISTED_FEATURES)
    best = int(np.argmax(np.where(kinds == "none", margins, -1)))
    common = next(i for i in range(n) if kinds[i] == "common" and margins[i] > 11.0)
    rare = next(i for i in range(n) if kinds[i] == "rare" and margins[i] > 11.0)
    conf = {
        k: page_threshold._field_confidence(fields[i], listed)
        for k, i in (("best", best), ("common", common), ("rare", rare))
    }
    assert conf["rare"] < 0.9 < conf["common"] and conf["rare"] < conf["best"]
    assert page_threshold.best_way(
        {"names_model": [0.5, 1], "listed_refit": [0.6, 1], "listed_overrules": [0.6, 1]}
    ) == ("listed_refit")
    assert page_threshold.best_way(
        {"names_model": [0.5, 1], "listed_refit": [0.6, 1], "listed_overrules": [0.65, 1]}
    ) == ("listed_overrules")
    assert page_threshold.best_way(None) == "listed_overrules"
