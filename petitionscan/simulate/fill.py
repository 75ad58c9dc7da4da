"""Filling one signature sheet: who signed which row, in which hand and pen.

Returned sheets are rarely full: some are half empty, some rows are skipped,
some names have no signature, some rows are struck out. The truth of every
row is recorded from what was actually drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from petitionscan.simulate.handwriting import Pen, WriterHand, draw_polylines
from petitionscan.simulate.layout import PageLayout, Rect, RowLayout
from petitionscan.simulate.names import DEFAULT_LOCALES, extra_text, person_for_row
from petitionscan.simulate.writers import random_pen, random_signer, write_in_boxes

EXTRA_FIELDS = ("workplace", "town", "union")
P_CYRILLIC = 0.5
"""On a sheet that allows Latin or Cyrillic, the share of signers who write Cyrillic."""
P_SIGNED = 0.92
P_CROSSED = 0.04
P_EXTRA = 0.75


@dataclass(frozen=True)
class RowTruth:
    """What was written on one row (empty name: the row was left blank)."""

    row: int
    first_name: str
    surname: str
    signed: bool
    crossed_out: bool
    extras: tuple[tuple[str, str], ...] = ()  # (field key, text) for workplace, town ...
    inked_boxes: tuple[int, ...] = ()  # indices into the row's name boxes that got a letter
    script: str = ""  # "latin" or "cyrillic" for a written row

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.surname}" if self.first_name else ""

    def extra(self, key: str) -> str:
        return dict(self.extras).get(key, "")


@dataclass(frozen=True)
class SheetTruth:
    sheet_id: str
    rows: tuple[RowTruth, ...]


def _px(rect: Rect, scale: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = rect
    return (x0 * scale, y0 * scale, x1 * scale, y1 * scale)


def _filled_rows(n_rows: int, fill: float, rng: np.random.Generator) -> set[int]:
    """Row indices with a signer; the share per sheet varies around ``fill``."""
    if fill <= 0 or n_rows == 0:
        return set()
    share = 1.0 if fill >= 1 else float(rng.beta(fill * 3.0, (1 - fill) * 3.0))
    n = int(rng.binomial(n_rows, share))
    if rng.random() < 0.8:  # signers usually take the next free row
        rows = list(range(n))
        if n and n < n_rows and rng.random() < 0.3:  # ... but someone skipped one
            rows[int(rng.integers(n))] = int(rng.integers(n, n_rows))
        return set(rows)
    return {int(i) for i in rng.choice(n_rows, size=n, replace=False)}


def _catmull_rom(points: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """A smooth curve through the control points, as a hand moves through them."""
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        )
    out.append(p[-2:-1])
    return np.vstack(out).astype(np.float32)


def scribble(rect_px: tuple[float, float, float, float], rng: np.random.Generator) -> list[np.ndarray]:
    """A signature: a tall opening letter, then fast humps and loops, sometimes underlined."""
    x0, y0, x1, y1 = rect_px
    w, h = x1 - x0, y1 - y0
    start = x0 + w * rng.uniform(0.04, 0.25)
    length = w * rng.uniform(0.3, 0.65)
    k = int(rng.integers(8, 22))
    steps = rng.normal(length / k, length / k * 0.7, k)
    xs = start + np.concatenate([[0.0], np.cumsum(steps)])
    mid = (y0 + y1) / 2 + rng.normal(0, h * 0.05)
    amp = h * rng.uniform(0.12, 0.32) * (1 + 0.4 * rng.standard_normal(k + 1))
    ys = mid + np.where(np.arange(k + 1) % 2 == 0, 1, -1) * np.abs(amp)
    ys[0] = mid + h * rng.uniform(0.15, 0.35)
    ys[1] = mid - h * rng.uniform(0.3, 0.55)  # the initial's tall stroke
    ys += np.linspace(0, rng.normal(0, h * 0.12), k + 1)  # the baseline drifts
    pts = _catmull_rom(np.stack([xs, ys], axis=1))
    n = len(pts)
    if rng.random() < 0.4:  # looped letters: the pen swings back at each hump
        t = np.linspace(0, k / 2, n)
        pts[:, 0] += length / k * rng.uniform(0.6, 1.2) * np.sin(2 * np.pi * t + rng.uniform(0, np.pi))
    # Stay in the signature box (a real flourish may leave it, but must not land in a letter box).
    lo, hi = float(pts[:, 1].min()), float(pts[:, 1].max())
    top, bottom = y0 + 0.08 * h, y1 - 0.08 * h
    if lo < top or hi > bottom:
        shrink = min(1.0, (bottom - top) / max(hi - lo, 1e-6))
        pts[:, 1] = top + (pts[:, 1] - lo) * shrink + max(0.0, ((bottom - top) - (hi - lo) * shrink) / 2)
    pts[:, 0] = np.clip(pts[:, 0], x0 + 0.02 * w, x1 - 0.02 * w)
    cuts = sorted(int(c) for c in rng.integers(n // 5, n - n // 5, size=int(rng.integers(0, 3))))
    lines = [p for p in np.split(pts, cuts) if len(p) > 1]
    if rng.random() < 0.4:
        uy = min(y1 - 0.1 * h, mid + h * rng.uniform(0.25, 0.4))
        ux = np.linspace(xs.min() - w * 0.02, xs.max() * rng.uniform(0.9, 1.05), 20)
        uyy = uy + np.linspace(0, rng.normal(0, h * 0.08), 20)
        lines.append(np.stack([ux, uyy], axis=1).astype(np.float32))
    return lines


def crossout(rect_px: tuple[float, float, float, float], rng: np.random.Generator) -> list[np.ndarray]:
    """A line or a zigzag across the row, as when a signature is withdrawn."""
    x0, y0, x1, y1 = rect_px
    w, h = x1 - x0, y1 - y0
    left, right = x0 + w * rng.uniform(0.0, 0.05), x1 - w * rng.uniform(0.0, 0.25)
    if rng.random() < 0.6:
        lines = []
        for _ in range(int(rng.integers(1, 3))):
            xs = np.linspace(left, right, 30)
            bow = rng.normal(0, h * 0.06)
            ys = (
                (y0 + y1) / 2
                + rng.normal(0, h * 0.12)
                + np.linspace(rng.normal(0, h * 0.1), rng.normal(0, h * 0.1), 30)
            )
            ys += bow * np.sin(np.linspace(0, np.pi, 30))
            lines.append(np.stack([xs, ys], axis=1).astype(np.float32))
        return lines
    peaks = int(rng.integers(4, 12))
    xs = np.linspace(left, right, 2 * peaks + 1)
    ys = np.where(np.arange(2 * peaks + 1) % 2 == 0, y0 + h * 0.15, y1 - h * 0.15) + rng.normal(
        0, h * 0.05, 2 * peaks + 1
    )
    return [np.stack([xs, ys], axis=1).astype(np.float32)]


def _composite(page: np.ndarray, alpha: np.ndarray, pen: Pen, region: tuple[int, int, int, int]) -> None:
    """Multiply ink into the page: ink over printed lines darkens them, as on paper."""
    x0, y0, x1, y1 = region
    a = alpha[y0:y1, x0:x1]
    absorb = 1.0 - np.array(pen.color, np.float32) / 255.0
    factor = cv2.merge([1.0 - float(c) * a for c in absorb])
    page[y0:y1, x0:x1] = cv2.multiply(page[y0:y1, x0:x1], factor, dtype=cv2.CV_8U)


def _flush(page: np.ndarray, alpha: np.ndarray, ink: np.ndarray, pen: Pen, region: tuple[int, int, int, int]) -> None:
    """Put one pen's ink on the page, keep it in the ink record, clear the scratch layer."""
    _composite(page, alpha, pen, region)
    sub = (slice(region[1], region[3]), slice(region[0], region[2]))
    np.maximum(ink[sub], alpha[sub], out=ink[sub])
    alpha[sub] = 0


def _row_region(row: RowLayout, scale: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = _px(row.rect, scale)
    for f in row.fields:
        if f.rect is not None:
            fx0, fy0, fx1, fy1 = _px(f.rect, scale)
            x0, y0, x1, y1 = min(x0, fx0), min(y0, fy0), max(x1, fx1), max(y1, fy1)
    pad = 12 * 72 / 25.4 * scale  # 12 mm of room for strokes crossing the row's edges
    return (
        max(0, int(x0 - pad)),
        max(0, int(y0 - pad)),
        min(shape[1], int(x1 + pad)),
        min(shape[0], int(y1 + pad)),
    )


def fill_page(
    page: np.ndarray,
    layout: PageLayout,
    hands: tuple[WriterHand, ...],
    rng: np.random.Generator,
    fill: float = 0.8,
    locales: tuple[tuple[str, float], ...] = DEFAULT_LOCALES,
    cyrillic_hands: tuple[WriterHand, ...] = (),
) -> tuple[np.ndarray, SheetTruth]:
    """Write names, signatures and strike-outs onto ``page`` (RGB, modified in place).

    The sheet's alphabet decides the script: a Cyrillic sheet is written in
    ``cyrillic_hands``, a Latin one in ``hands``; on a Latin-or-Cyrillic
    sheet each signer writes one of the two (:data:`P_CYRILLIC`). Returns the
    ink density (float32, 0..1, same size as the page) and the truth.
    """
    if layout.alphabet != "latin" and not cyrillic_hands:
        raise ValueError(f"a {layout.alphabet} sheet needs Cyrillic hands")
    h, w = page.shape[:2]
    scale = w / layout.page_size[0]  # pixels per point
    px_per_mm = scale * 72 / 25.4
    ink = np.zeros((h, w), np.float32)
    alpha = np.zeros((h, w), np.float32)
    stand_pen = random_pen(rng)  # the pen on the petition table, used by many
    filled = _filled_rows(len(layout.rows), fill, rng)
    truths = []
    for idx, row in enumerate(layout.rows):
        name_f, first_f, sur_f = row.field("name"), row.field("first_name"), row.field("surname")
        if idx not in filled or name_f is None or not name_f.boxes:
            truths.append(RowTruth(row.row, "", "", False, False))
            continue
        script = layout.alphabet
        if script == "latin+cyrillic":  # drawn only here, so Latin sheets keep their random stream
            script = "cyrillic" if rng.random() < P_CYRILLIC else "latin"
        pen = stand_pen if rng.random() < 0.5 else None
        signer = random_signer(cyrillic_hands if script == "cyrillic" else hands, rng, pen)
        split = first_f is not None and sur_f is not None
        person = person_for_row(
            rng,
            len(first_f.boxes) if first_f is not None and split else None,
            len(sur_f.boxes) if sur_f is not None and split else None,
            len(name_f.boxes),
            script=script,
        )
        region = _row_region(row, scale, (h, w))
        inked: list[int] = []
        if split and first_f is not None and sur_f is not None:
            inked += write_in_boxes(
                alpha, person.first_name, [_px(b, scale) for b in first_f.boxes], signer, px_per_mm, rng
            )
            off = len(first_f.boxes)
            got = write_in_boxes(alpha, person.surname, [_px(b, scale) for b in sur_f.boxes], signer, px_per_mm, rng)
            inked += [off + i for i in got]
        else:
            inked += write_in_boxes(alpha, person.name, [_px(b, scale) for b in name_f.boxes], signer, px_per_mm, rng)
        extras = []
        for key in EXTRA_FIELDS:
            f = row.field(key)
            if f is None or not f.boxes or rng.random() > P_EXTRA:
                continue
            text = extra_text(key, len(f.boxes), rng, script)
            if text:
                write_in_boxes(alpha, text, [_px(b, scale) for b in f.boxes], signer, px_per_mm, rng)
                extras.append((key, text))
        sig_f = row.field("signature")
        signed = sig_f is not None and sig_f.rect is not None and rng.random() < P_SIGNED
        if signed and sig_f is not None and sig_f.rect is not None:
            draw_polylines(alpha, scribble(_px(sig_f.rect, scale), rng), signer.pen, px_per_mm, rng)
        _flush(page, alpha, ink, signer.pen, region)
        crossed = bool(rng.random() < P_CROSSED)
        if crossed:
            x0, y0, _, y1 = _px(name_f.boxes[0], scale)
            band = (x0, y0, _px(row.rect, scale)[2], y1)
            cross_pen = signer.pen if rng.random() < 0.5 else random_pen(rng)
            draw_polylines(alpha, crossout(band, rng), cross_pen, px_per_mm, rng)
            _flush(page, alpha, ink, cross_pen, region)
        extras_t = tuple(extras)
        truths.append(
            RowTruth(row.row, person.first_name, person.surname, signed, crossed, extras_t, tuple(inked), script)
        )
    return ink, SheetTruth(layout.sheet_id or "", tuple(truths))
