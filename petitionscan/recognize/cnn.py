"""The default engine: a small convolutional network over each letter box.

The network (``letters.onnx``, trained by training/train_letters.py on real
pen strokes of several hundred writers) runs with OpenCV's dnn module, one
forward pass for all written boxes of a page. Its softmax is temperature
scaled on held-out writers, so a letter's probability means what it says;
:mod:`petitionscan.recognize.names` then picks between close alternatives
with what names look like and gives the field's confidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from petitionscan.errors import RecognizerError
from petitionscan.recognize import FieldImage, LetterReading, Reading
from petitionscan.recognize.glyph import (
    KIND_DASH,
    KIND_LETTER,
    KIND_TICK,
    Glyph,
    extract_glyphs,
    words_of,
)
from petitionscan.recognize.names import choose

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "letters.onnx"
META = HERE / "letters.json"

SPLIT_FACTOR = 0.3
"""Probability kept by a box that seems to hold two letters."""
SPILL_FACTOR = 0.85
"""Probability kept by a glyph with much of its ink outside its box."""
SHAPE_RULE_P = 0.97
"""Probability given to a hyphen or apostrophe recognised by its shape."""


@dataclass
class CnnRecognizer:
    """Reads boxes with the shipped network; loads it once per process, lazily."""

    weights: Path = WEIGHTS
    meta_path: Path = META
    name: str = "cnn"
    version: str = ""
    auto_threshold: float = 0.0
    classes: str = ""
    temperature: float = 1.0
    input_size: int = 32
    field_power: float = 1.0
    _net: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            digest = hashlib.sha256(self.weights.read_bytes()).hexdigest()[:12]
        except (OSError, ValueError) as exc:
            raise RecognizerError(f"the letter model is missing or unreadable ({exc}); reinstall petitionscan") from exc
        self.classes = str(meta["classes"])
        self.temperature = float(meta["temperature"])
        self.auto_threshold = float(meta["auto_threshold"])
        self.input_size = int(meta["input_size"])
        self.field_power = float(meta.get("field_power", 1.0))
        self.version = f"cnn-{digest}"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_net"] = None  # the OpenCV net is rebuilt in each worker
        return state

    def _network(self) -> Any:
        if self._net is None:
            try:
                self._net = cv2.dnn.readNetFromONNX(str(self.weights))
            except cv2.error as exc:
                raise RecognizerError(f"the letter model cannot be loaded ({exc}); reinstall petitionscan") from exc
        return self._net

    def probabilities(self, glyphs: Sequence[np.ndarray]) -> np.ndarray:
        """Calibrated class probabilities for a batch of glyph images."""
        if not glyphs:
            return np.zeros((0, len(self.classes)), np.float32)
        batch = np.stack(glyphs).astype(np.float32)[:, None, :, :]
        net = self._network()
        net.setInput(batch)
        logits = np.asarray(net.forward(), np.float64).reshape(len(glyphs), -1)
        z = logits / self.temperature
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def read(self, fields: Sequence[FieldImage]) -> list[Reading]:
        per_field = [extract_glyphs(f.image, f.boxes_px, f.blank, f.px_per_mm) for f in fields]
        images = [g.image for gs in per_field for g in gs if g.kind == KIND_LETTER and g.image is not None]
        probs = self.probabilities(images)
        readings: list[Reading] = []
        k = 0
        for f, glyphs in zip(fields, per_field, strict=False):
            dists: dict[int, list[tuple[str, float]]] = {}
            for g in glyphs:
                if g.kind == KIND_LETTER:
                    dists[g.box] = self._distribution(g, probs[k])
                    k += 1
                elif g.kind in (KIND_DASH, KIND_TICK):
                    dists[g.box] = _shape_rule(g)
            readings.append(self._field_reading(f, glyphs, dists))
        return readings

    def _distribution(self, g: Glyph, p: np.ndarray) -> list[tuple[str, float]]:
        order = np.argsort(-p)
        factor = 1.0
        if g.split:
            factor *= SPLIT_FACTOR
        if g.spill > 0.35:
            factor *= SPILL_FACTOR
        return [(self.classes[int(i)], float(p[int(i)]) * factor) for i in order]

    def _field_reading(
        self, f: FieldImage, glyphs: Sequence[Glyph], dists: dict[int, list[tuple[str, float]]]
    ) -> Reading:
        words = words_of(glyphs, f.blank)
        if not words:
            return Reading("", (), 1.0, self.name)
        chosen, confidence = choose([[dists[b] for b in word] for word in words])
        continuation = any(
            g.kind != KIND_LETTER and g.kind not in (KIND_DASH, KIND_TICK) and not f.blank[g.box] for g in glyphs
        )
        if continuation:
            confidence *= SPILL_FACTOR  # a box with ink but no letter of its own
        # The beam's posterior is monotone but under-confident on validation
        # names; a power fitted there (training/calibrate.py) makes it honest.
        confidence = confidence**self.field_power
        letters: list[LetterReading] = []
        for word, chars in zip(words, chosen, strict=False):
            for b, ch in zip(word, chars, strict=False):
                dist = dists[b]
                top = [(ch, _prob_of(dist, ch))]
                top += [(c, p) for c, p in dist if c != ch][:2]
                letters.append(LetterReading(b, ch, tuple(top)))
        text = " ".join("".join(chars) for chars in chosen)
        return Reading(text, tuple(letters), float(min(1.0, confidence)), self.name)


def _prob_of(dist: Sequence[tuple[str, float]], ch: str) -> float:
    for c, p in dist:
        if c == ch:
            return p
    return 0.0


def _shape_rule(g: Glyph) -> list[tuple[str, float]]:
    if g.kind == KIND_DASH:
        return [("-", SHAPE_RULE_P), ("I", (1 - SHAPE_RULE_P) / 2), ("'", (1 - SHAPE_RULE_P) / 2)]
    return [("'", SHAPE_RULE_P), ("I", (1 - SHAPE_RULE_P) / 2), ("-", (1 - SHAPE_RULE_P) / 2)]
