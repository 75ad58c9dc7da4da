"""Simulated signers: one real writer's glyphs, a personal style and a pen.

A person's capitals are consistent (same hand, size, slant and pen for the
whole row) but never identical from box to box, so each letter gets small
random changes around the signer's own habits. Letters may cross the box edge
or touch a neighbour, but stay inside the gap between boxes and the outer
eighth of the neighbouring box: a blank box keeps a clean centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from petitionscan.simulate.handwriting import (
    Glyph,
    Pen,
    WriterHand,
    draw_glyph,
    rule_glyph,
)

PenBox = tuple[float, float, float, float]

BALLPOINT_BLUE = (20, 40, 140)
BALLPOINT_BLACK = (25, 25, 30)


@dataclass(frozen=True)
class Style:
    """A signer's writing habits, as fractions of the box size."""

    size: float  # letter height / box height
    aspect: float  # horizontal stretch of the writer's letters
    slant: float  # shear; positive leans right
    dx: float  # habitual offset inside the box
    dy: float
    jitter: float  # box-to-box variation
    sprawl: float  # chance that a letter is oversized (crosses an edge, touches a neighbour)


@dataclass(frozen=True, eq=False)
class Signer:
    hand: WriterHand
    donors: tuple[WriterHand, ...]  # other held-out writers, for letters this one never wrote
    style: Style
    pen: Pen


def random_pen(rng: np.random.Generator) -> Pen:
    """Mostly blue or black ballpoints, sometimes a felt pen."""
    felt = rng.random() < 0.15
    blue = rng.random() < 0.6
    base = np.array(BALLPOINT_BLUE if blue else BALLPOINT_BLACK, dtype=float)
    color = np.clip(base + rng.normal(0, 8, 3), 0, 255)
    if felt:
        return Pen("felt", (int(color[0]), int(color[1]), int(color[2])), float(rng.uniform(0.6, 0.95)), 1.0)
    width = float(rng.uniform(0.3, 0.5))
    pressure = float(rng.uniform(0.75, 1.0))
    return Pen("ballpoint", (int(color[0]), int(color[1]), int(color[2])), width, pressure)


def random_style(rng: np.random.Generator) -> Style:
    return Style(
        size=float(np.clip(rng.normal(0.72, 0.1), 0.5, 0.95)),
        aspect=float(np.clip(rng.normal(1.0, 0.1), 0.8, 1.25)),
        slant=float(np.clip(rng.normal(0.08, 0.1), -0.15, 0.35)),
        dx=float(rng.normal(0, 0.05)),
        dy=float(rng.normal(0.02, 0.06)),
        jitter=float(rng.uniform(0.02, 0.07)),
        sprawl=float(rng.choice([0.02, 0.05, 0.15])),
    )


def random_signer(hands: tuple[WriterHand, ...], rng: np.random.Generator, pen: Pen | None = None) -> Signer:
    """One writer's hand for the whole row; the other hands of the same source fill gaps."""
    idx = int(rng.integers(len(hands)))
    hand = hands[idx]
    donors = tuple(h for h in hands if h.source == hand.source and h is not hand) or tuple(
        h for h in hands if h is not hand
    )
    return Signer(hand, donors, random_style(rng), pen or random_pen(rng))


def pick_glyph(signer: Signer, char: str, rng: np.random.Generator) -> Glyph:
    """A sample of this writer's letter; if they never wrote it, another held-out writer's."""
    if char in "-'":
        return rule_glyph(char, rng)
    samples = signer.hand.glyphs.get(char)
    if not samples:
        have = [h for h in signer.donors if char in h.glyphs]
        if not have:
            raise ValueError(f"no held-out writer has the letter {char!r}")
        # The same donor for the same letter within a row keeps the signer consistent.
        donor = have[sum(map(ord, signer.hand.writer_id + char)) % len(have)]
        samples = donor.glyphs[char]
    return samples[int(rng.integers(len(samples)))]


def _glyph_matrix(
    glyph: Glyph,
    box: PenBox,
    style: Style,
    gap_px: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Affine map from the glyph's unit square to page pixels for one box."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    big = rng.random() < style.sprawl
    height = bh * style.size * (1 + rng.normal(0, 0.06)) * (rng.uniform(1.15, 1.35) if big else 1.0)
    if glyph.char == "'":
        height = bh * style.size
    elif glyph.char == "-":
        height = bh * style.size * rng.uniform(0.9, 1.1)
    height = float(np.clip(height, 0.35 * bh, 1.35 * bh))
    sx = style.aspect * (1 + rng.normal(0, 0.05))
    width = glyph.width * height * sx
    max_w = bw * (1.3 if big else 1.12)
    if width > max_w:  # people squeeze wide letters (M, W) into the box
        sx *= max_w / width
    slant = style.slant + rng.normal(0, 0.04)
    angle = math.radians(rng.normal(0, 2.0))
    # unit glyph -> scaled, slanted, centred on the origin
    gw = glyph.width
    a = np.array([[height * sx, -slant * height, 0.0], [0.0, height, 0.0], [0.0, 0.0, 1.0]])
    centre = a @ np.array([gw / 2, 0.5, 1.0])
    a[0, 2] -= centre[0]
    a[1, 2] -= centre[1]
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    m = rot @ a
    # Offsets are capped: people miss the centre of a box, never the box itself.
    if glyph.char == "'":
        ox, oy = float(np.clip(rng.normal(0, 0.05), -0.12, 0.12)), float(np.clip(rng.normal(0, 0.04), -0.08, 0.08))
    else:
        ox = float(np.clip(style.dx + rng.normal(0, style.jitter), -0.18, 0.18))
        oy = float(np.clip(style.dy + rng.normal(0, style.jitter), -0.2, 0.2))
    cx, cy = (x0 + x1) / 2 + ox * bw, (y0 + y1) / 2 + oy * bh
    m[0, 2] += cx
    m[1, 2] += cy
    # Keep the pen line within the gap and the outer 12 % of a neighbouring box.
    corners = np.array([[0, 0, 1], [gw, 0, 1], [0, 1, 1], [gw, 1, 1]]) @ m[:2].T
    lo_x, hi_x = corners[:, 0].min(), corners[:, 0].max()
    lo_y, hi_y = corners[:, 1].min(), corners[:, 1].max()
    limit = gap_px + 0.12 * bw
    left, right = x0 - limit, x1 + limit
    if hi_x - lo_x > right - left:
        k = (right - left) / (hi_x - lo_x)
        m[:, :2] *= k
        m[0, 2] = cx - k * (cx - m[0, 2])
        m[1, 2] = cy - k * (cy - m[1, 2])
        corners = np.array([[0, 0, 1], [gw, 0, 1], [0, 1, 1], [gw, 1, 1]]) @ m[:2].T
        lo_x, hi_x = corners[:, 0].min(), corners[:, 0].max()
        lo_y, hi_y = corners[:, 1].min(), corners[:, 1].max()
    if lo_x < left:
        m[0, 2] += left - lo_x
    elif hi_x > right:
        m[0, 2] -= hi_x - right
    top, bottom = y0 - 0.2 * bh, y1 + 0.15 * bh
    if lo_y < top:
        m[1, 2] += top - lo_y
    elif hi_y > bottom:
        m[1, 2] -= hi_y - bottom
    return m[:2]


def write_in_boxes(
    alpha: np.ndarray,
    text: str,
    boxes_px: list[PenBox],
    signer: Signer,
    px_per_mm: float,
    rng: np.random.Generator,
) -> list[int]:
    """Write ``text`` one character per box (a space leaves a box blank); returns inked boxes."""
    if len(text) > len(boxes_px):
        raise ValueError(f"{text!r} needs {len(text)} boxes, the field has {len(boxes_px)}")
    gap_px = max(0.0, boxes_px[1][0] - boxes_px[0][2]) if len(boxes_px) > 1 else px_per_mm
    inked = []
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        glyph = pick_glyph(signer, ch, rng)
        m = _glyph_matrix(glyph, boxes_px[i], signer.style, gap_px, rng)
        draw_glyph(alpha, glyph, m, signer.pen, px_per_mm, rng)
        inked.append(i)
    return inked
