"""The calibration's threshold rule (training/calibrate.py): a campaign's mix of listed and unlisted names."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from .conftest import training_module


@pytest.fixture(scope="module")
def calibrate() -> ModuleType:
    return training_module("calibrate")


def test_mix_weights_give_the_unlisted_names_their_share(calibrate: ModuleType) -> None:
    unlisted = np.array([True] * 50 + [False] * 50)
    w = calibrate.mix_weights(unlisted, 0.25)
    assert w[unlisted].sum() / w.sum() == pytest.approx(0.25)
    assert np.all(calibrate.mix_weights(np.zeros(4, dtype=bool), 0.25) == 1)  # nothing to weigh


def test_the_threshold_holds_the_precision_on_the_weighed_names_and_the_promise_as_drawn(
    calibrate: ModuleType,
) -> None:
    """1,000 names by falling confidence, every other one unlisted; the 302nd, 402nd and 452nd
    are unlisted and wrong. As drawn, the first of them already breaks 99.8 % (301 of 302 right);
    weighed to a quarter unlisted, the second does; weighed to a twentieth, the weighed precision
    holds past all three and the promise of 99.5 % as drawn stops it at the third."""
    n = 1000
    c = np.linspace(1.0, 0.0, n, endpoint=False)
    unlisted = np.arange(n) % 2 == 1
    ok = np.ones(n, dtype=bool)
    ok[[301, 401, 451]] = False
    assert calibrate.threshold_for(c, ok, 0.998) == c[300]
    assert calibrate.threshold_for(c, ok, 0.998, calibrate.mix_weights(unlisted, 0.25)) == c[400]
    assert calibrate.threshold_for(c, ok, 0.998, calibrate.mix_weights(unlisted, 0.05)) == c[450]
    ok[:] = True
    assert calibrate.threshold_for(c, ok, 0.998, calibrate.mix_weights(unlisted, 0.25)) == c[-1]


def test_draws_are_read_with_their_own_seeds(calibrate: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--draws 3`` reads three draws, seeds 11, 12 and 13, each cached under its own seed."""
    import argparse

    seen: list[int] = []

    def fake_collect(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list]:
        seen.append(args.seed)
        return [(f"NAME{args.seed}", "SURNAME")], [[]]

    monkeypatch.setattr(calibrate, "collect", fake_collect)
    args = argparse.Namespace(seed=11, draws=3, jobs=1, names=1, script="latin")
    draws = calibrate.collect_draws(args)
    assert seen == [11, 12, 13]
    assert [d[0][0][0] for d in draws] == ["NAME11", "NAME12", "NAME13"]
    assert args.seed == 11  # the caller's options are left as they were


def test_an_interrupted_calibration_leaves_the_metadata_as_it_was(
    calibrate: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The run writes an unfinished file before reading the names; Ctrl+C then puts the old one back."""
    meta = tmp_path / "letters.json"
    meta.write_text(calibrate.META.read_text(encoding="utf-8"), encoding="utf-8")
    before = meta.read_bytes()
    written: list[float] = []

    def interrupted(args: object) -> None:
        written.append(json.loads(meta.read_text(encoding="utf-8"))["auto_threshold"])
        raise KeyboardInterrupt

    monkeypatch.setattr(calibrate, "META", meta)
    monkeypatch.setattr(calibrate, "collect_draws", interrupted)
    monkeypatch.setattr(sys, "argv", ["calibrate.py", "--train-json", str(tmp_path / "none.json")])
    with pytest.raises(KeyboardInterrupt):
        calibrate.main()
    assert written == [1.0]  # the unfinished file was there while the names were read
    assert meta.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))
