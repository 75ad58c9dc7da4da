"""The Tesseract engine: the baseline the network engine is measured against.

Tesseract reads lines of text, not isolated boxes, so each field's glyphs are
re-set as one clean line (letters scaled to one height, a wide gap where a
blank box separates words) and read in a single call with the alphabet
limited to capitals, space, hyphen and apostrophe and the dictionaries off.
The hOCR output gives a box and a confidence per character, which are mapped
back to the letter boxes by position.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from petitionscan.errors import TESSERACT_INSTALL, RecognizerError
from petitionscan.recognize import FieldImage, LetterReading, Reading
from petitionscan.recognize.glyph import (
    KIND_DASH,
    KIND_LETTER,
    KIND_TICK,
    Glyph,
    extract_glyphs,
    words_of,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-'"

LINE_HEIGHT = 40
"""Cap height of the re-set line: Tesseract works best at 30-40 px capitals."""

_CONFIG = (
    "--psm 7 --oem 1 "
    f'-c "tessedit_char_whitelist={ALPHABET}" '
    "-c load_system_dawg=0 -c load_freq_dawg=0 -c hocr_char_boxes=1"
)
_CHAR_RE = re.compile(
    r"<span class=['\"]ocrx_cinfo['\"] title=['\"]x_bboxes (\d+) (\d+) (\d+) (\d+); "
    r"x_conf ([\d.]+)['\"]>([^<]*)</span>"
)


def _unescape(text: str) -> str:
    return (
        text.replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&quot;", '"')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


@dataclass
class TesseractRecognizer:
    """Reads each field with one Tesseract call (pytesseract)."""

    name: str = "tesseract"
    version: str = ""
    auto_threshold: float = 0.9

    def __post_init__(self) -> None:
        if shutil.which("tesseract") is None:
            raise RecognizerError(
                f"the tesseract program was not found: install Tesseract OCR ({TESSERACT_INSTALL}) or use --engine cnn"
            )
        if not self.version:
            try:
                import pytesseract

                self.version = "tesseract-" + str(pytesseract.get_tesseract_version())
            except Exception as exc:  # pytesseract missing or the binary fails
                raise RecognizerError(f"Tesseract cannot run ({exc}); reinstall it or use --engine cnn") from exc

    def read(self, fields: Sequence[FieldImage]) -> list[Reading]:
        return [self._read_field(f) for f in fields]

    def _line_image(
        self, glyphs: Sequence[Glyph], words: Sequence[Sequence[int]], box_h: float
    ) -> tuple[np.ndarray, dict[int, tuple[int, int]]]:
        """Set the glyphs as one line; returns it and each box's x-span in it."""
        pad = LINE_HEIGHT // 2
        letter_gap = LINE_HEIGHT // 4
        word_gap = LINE_HEIGHT
        pieces: list[tuple[int, np.ndarray, int]] = []  # (box, ink patch, y offset)
        for w, word in enumerate(words):
            for b in word:
                g = glyphs[b]
                if g.kind == KIND_LETTER and g.image is not None:
                    patch = _crop_ink(g.image)
                    scale = LINE_HEIGHT / patch.shape[0]
                    nw = max(2, round(patch.shape[1] * scale))
                    pieces.append((b, cv2.resize(patch, (nw, LINE_HEIGHT)), 0))
                elif g.kind == KIND_DASH:
                    dash = np.zeros((max(3, LINE_HEIGHT // 10), LINE_HEIGHT // 2), np.float32)
                    dash[:] = 1.0
                    pieces.append((b, dash, LINE_HEIGHT // 2))
                elif g.kind == KIND_TICK:
                    tick = np.zeros((LINE_HEIGHT // 3, max(3, LINE_HEIGHT // 10)), np.float32)
                    tick[:] = 1.0
                    pieces.append((b, tick, 0))
            if w < len(words) - 1:
                pieces.append((-1, np.zeros((1, word_gap), np.float32), 0))
        width = 2 * pad + sum(p.shape[1] + letter_gap for _, p, _ in pieces)
        line = np.zeros((LINE_HEIGHT + 2 * pad, width), np.float32)
        spans: dict[int, tuple[int, int]] = {}
        x = pad
        for b, p, dy in pieces:
            if b >= 0:
                y = pad + dy
                line[y : y + p.shape[0], x : x + p.shape[1]] = p
                spans[b] = (x, x + p.shape[1])
            x += p.shape[1] + letter_gap
        img = (255.0 * (1.0 - np.clip(line, 0.0, 1.0))).astype(np.uint8)
        return img, spans

    def _read_field(self, field: FieldImage) -> Reading:
        glyphs = extract_glyphs(field.image, field.boxes_px, field.blank, field.px_per_mm)
        words = words_of(glyphs, field.blank)
        if not words:
            return Reading("", (), 1.0, self.name)
        box_h = float(np.median([b[3] - b[1] for b in field.boxes_px]))
        img, spans = self._line_image(glyphs, words, box_h)
        chars = self._ocr(img)
        letters: list[LetterReading] = []
        confidence = 1.0
        for word in words:
            for b in word:
                x0, x1 = spans[b]
                best: tuple[str, float] | None = None
                hits = 0
                for cx, ch, conf in chars:
                    if x0 - 4 <= cx <= x1 + 4:
                        hits += 1
                        if best is None or conf > best[1]:
                            best = (ch, conf)
                if best is None:
                    best = ("?", 0.0)
                elif hits > 1 or glyphs[b].split:
                    best = (best[0], best[1] * 0.5)
                letters.append(LetterReading(b, best[0], (best,)))
                confidence *= best[1]
        text = " ".join("".join(_char_of(letters, b) for b in word) for word in words)
        return Reading(text, tuple(letters), float(confidence), self.name)

    def _ocr(self, img: np.ndarray) -> list[tuple[float, str, float]]:
        """Run Tesseract once: (x centre, character, probability) per character."""
        import pytesseract

        try:
            raw = pytesseract.image_to_pdf_or_hocr(img, extension="hocr", config=_CONFIG)
        except pytesseract.TesseractNotFoundError as exc:
            raise RecognizerError(
                "the tesseract program was not found: install Tesseract OCR or use --engine cnn"
            ) from exc
        except pytesseract.TesseractError as exc:
            raise RecognizerError(f"Tesseract failed ({exc}); check its installation") from exc
        hocr = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        out: list[tuple[float, str, float]] = []
        for m in _CHAR_RE.finditer(hocr):
            ch = _unescape(m.group(6))
            if len(ch) != 1 or ch not in ALPHABET:
                continue
            cx = (int(m.group(1)) + int(m.group(3))) / 2.0
            out.append((cx, ch, min(1.0, float(m.group(5)) / 100.0)))
        return out


def _char_of(letters: Sequence[LetterReading], box: int) -> str:
    for lr in letters:
        if lr.box == box:
            return lr.char
    return "?"


def _crop_ink(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img > 0.15)
    if ys.size == 0:
        return img
    return img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
