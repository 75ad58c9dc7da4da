"""Fixtures for the recognizer tests: real handwriting when the folder is there."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

from petitionscan.recognize import FieldImage
from petitionscan.recognize.render import Sample, load_stroke_file, render_field, writer_letters
from petitionscan.simulate.handwriting import handwriting_dir

HANDWRITING = handwriting_dir()
ROOT = Path(__file__).resolve().parents[2]
UJI = HANDWRITING / "uji1-strokes.jsonl.gz"


def training_module(name: str) -> ModuleType:
    """A script of ``training/`` loaded as a module (training code is not in the package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "training" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass of the script looks its module up while it is defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def uji_hands() -> dict[str, dict[str, list[Sample]]]:
    """UJI writers (held out of training), letters by writer; skip when absent."""
    if not UJI.exists():
        pytest.skip("real handwriting folder not present")
    return writer_letters(load_stroke_file(UJI))


def write_name(
    hand: dict[str, list[Sample]], text: str, rng: np.random.Generator, boxes: int = 10, degrade: bool = False
) -> FieldImage:
    """A field with ``text`` written in one hand (space = blank box)."""
    letters: list[Sample | None] = [hand[ch][0] if ch != " " else None for ch in text]
    letters += [None] * (boxes - len(letters))
    img, bx, blank = render_field(letters, rng, degrade=degrade)
    return FieldImage(text, img, bx, blank, 8.0)


def hershey_field(text: str, boxes: int = 8) -> FieldImage:
    """A synthetic field: capitals drawn with OpenCV's stroke font, one per box."""
    from petitionscan.recognize.render import field_layout

    w, h, bx = field_layout(boxes)
    img = np.full((h, w), 255, np.uint8)
    for ch, (x0, y0, x1, y1) in zip(text, bx, strict=False):
        if ch == " ":
            continue
        (tw, th), _ = cv2.getTextSize(ch, cv2.FONT_HERSHEY_SIMPLEX, 1.3, 3)
        org = ((x0 + x1 - tw) // 2, (y0 + y1 + th) // 2)
        cv2.putText(img, ch, org, cv2.FONT_HERSHEY_SIMPLEX, 1.3, 0, 3, cv2.LINE_AA)
    blank = tuple(i >= len(text) or text[i] == " " for i in range(boxes))
    return FieldImage(text, img, tuple(bx), blank, 8.0)
