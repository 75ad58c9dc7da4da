"""Capture profiles: what scanners, fax machines, copiers and phones do to a sheet.

Every profile takes the filled page (RGB, :data:`WORK_DPI`) and a seeded
generator and returns the image as the device would store it, with the
resolution it would record. Transforms are the ones that break naive readers:
skew and scale, pages fed upside down or sideways, perspective and shadows,
bitonal fax, copier contrast loss where the drop-out colour turns grey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

WORK_DPI = 300
PROFILES = ("flatbed", "feeder", "phone", "fax", "photocopy")
FAX_DPI = 200


@dataclass(frozen=True, eq=False)
class Capture:
    """One captured page: pixels as stored, resolution and how the device labels it."""

    image: np.ndarray  # uint8: HxW (grey), HxWx3 (RGB) or HxW bool (bitonal)
    dpi: float
    profile: str
    orientation: int = 1  # EXIF orientation tag a reader must honour (phone JPEGs)
    rotation: int = 0  # degrees the page was turned before capture (feeder)
    jpeg_quality: int = 85


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _affine(angle_deg: float, scale: float, shift: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    w, h = size
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, scale)
    m[0, 2] += shift[0]
    m[1, 2] += shift[1]
    return m


def _noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Sensor noise, one field shared by the colour channels (as after JPEG chroma)."""
    h, w = img.shape[:2]
    # Drawn at half resolution and interpolated: sensor noise is correlated after demosaicing.
    half = rng.standard_normal((h // 2 + 1, w // 2 + 1), dtype=np.float32) * (sigma * 1.4)
    n = cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)
    if img.ndim == 3:
        n = cv2.merge([n, n, n])
    return cv2.add(img, n, dtype=cv2.CV_8U)


def _low_freq(shape: tuple[int, int], rng: np.random.Generator, cells: int, amp: float) -> np.ndarray:
    """A smooth random field around 1.0 (uneven light, paper tone)."""
    h, w = shape
    small = rng.normal(0, amp, (cells, max(2, round(cells * w / h)))).astype(np.float32)
    return 1.0 + cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def flatbed(rgb: np.ndarray, rng: np.random.Generator) -> Capture:
    """300 dpi grey, the page laid by hand on the glass: skew up to 1 degree, scale 2 %."""
    g = _grey(rgb)
    h, w = g.shape
    px_mm = WORK_DPI / 25.4
    m = _affine(
        float(rng.uniform(-1, 1)),
        float(rng.uniform(0.98, 1.02)),
        (float(rng.normal(0, 1.5 * px_mm)), float(rng.normal(0, 1.5 * px_mm))),
        (w, h),
    )
    lid = int(rng.integers(225, 250))
    g = cv2.warpAffine(g, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=lid)
    tone = float(rng.uniform(0.94, 1.0))
    g = _noise(g, rng, float(rng.uniform(1.5, 3.0)))  # sensor noise, softened by the optics
    g = cv2.GaussianBlur(g, (0, 0), float(rng.uniform(0.5, 0.9)))
    g = cv2.convertScaleAbs(g, alpha=tone, beta=float(rng.uniform(-4, 4)))
    return Capture(g, WORK_DPI, "flatbed", jpeg_quality=int(rng.integers(80, 92)))


def feeder(rgb: np.ndarray, rng: np.random.Generator) -> Capture:
    """Sheet feeder: pages upside down or sideways, skew up to 3 degrees, stronger JPEG."""
    colour = bool(rng.random() < 0.4)
    img = rgb if colour else _grey(rgb)
    h, w = img.shape[:2]
    m = _affine(float(rng.uniform(-3, 3)), float(rng.uniform(0.985, 1.015)), (0.0, float(rng.normal(0, 10))), (w, h))
    border = (int(rng.integers(20, 60)),) * 3  # the feeder's dark backing shows round the page
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)
    if rng.random() < 0.15:  # dust on the scanner's glass strip: a thin line along the page
        x = int(rng.integers(w // 10, w - w // 10))
        img[:, x : x + int(rng.integers(1, 4))] = int(rng.integers(60, 160))
    img = cv2.GaussianBlur(_noise(img, rng, float(rng.uniform(2, 4))), (0, 0), 0.7)
    turn = int(rng.choice([0, 180, 90, 270], p=[0.62, 0.26, 0.06, 0.06]))
    img = np.ascontiguousarray(np.rot90(img, k=turn // 90))
    return Capture(img, WORK_DPI, "feeder", rotation=turn, jpeg_quality=int(rng.integers(60, 80)))


def _table(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The surface under the page: a plain colour with a soft grain, as uint8 RGB."""
    h, w = shape
    base = np.array(
        [(130, 92, 58), (96, 96, 100), (205, 200, 190), (60, 58, 55), (160, 130, 95)][int(rng.integers(5))],
        np.float32,
    )
    sh, sw = h // 8, w // 8
    texture = _low_freq((sh, sw), rng, 24, 0.08)
    grain = cv2.resize(rng.normal(0, 0.05, (sh, max(2, w // 40))).astype(np.float32), (sw, sh))
    small = np.clip((texture + grain)[..., None] * base, 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def phone(rgb: np.ndarray, rng: np.random.Generator) -> Capture:
    """A photo of the page on a table: perspective, uneven light, a shadow, colour JPEG."""
    out_w = int(rng.integers(2000, 3001))
    out_h = round(out_w * 4 / 3)
    ph, pw = rgb.shape[:2]
    page_w = out_w * float(rng.uniform(0.74, 0.88))
    page_h = page_w * ph / pw
    if page_h > out_h * 0.93:
        page_h = out_h * 0.93
        page_w = page_h * pw / ph
    cx = out_w / 2 + rng.uniform(-0.04, 0.04) * out_w
    cy = out_h / 2 + rng.uniform(-0.03, 0.03) * out_h
    dst = np.array(
        [[cx - page_w / 2, cy - page_h / 2], [cx + page_w / 2, cy - page_h / 2],
         [cx + page_w / 2, cy + page_h / 2], [cx - page_w / 2, cy + page_h / 2]],
        np.float32,
    )  # fmt: skip
    # Perspective: the phone is tilted, so one side of the page looks shorter.
    tilt = rng.uniform(-0.08, 0.08, 2) * out_w
    dst[0, 0] += max(0.0, tilt[0]) + rng.normal(0, 0.01 * out_w)
    dst[1, 0] -= max(0.0, tilt[0]) + rng.normal(0, 0.01 * out_w)
    dst[3, 0] += max(0.0, -tilt[0]) + rng.normal(0, 0.01 * out_w)
    dst[2, 0] -= max(0.0, -tilt[0]) + rng.normal(0, 0.01 * out_w)
    dst[:, 1] += rng.normal(0, 0.012 * out_w, 4)
    angle = math.radians(float(rng.normal(0, 2.5)))
    c, s = math.cos(angle), math.sin(angle)
    centre = dst.mean(axis=0)
    dst = ((dst - centre) @ np.array([[c, s], [-s, c]], np.float32) + centre).astype(np.float32)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    hmat = cv2.getPerspectiveTransform(src, dst)
    page = cv2.warpPerspective(rgb, hmat, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=(0, 0, 0))
    mask = cv2.warpPerspective(np.full((ph // 4, pw // 4), 255, np.uint8), hmat @ np.diag([4.0, 4.0, 1.0]),
                               (out_w, out_h), flags=cv2.INTER_LINEAR)  # fmt: skip
    a = mask.astype(np.float32) / 255.0
    img = cv2.blendLinear(page, _table((out_h, out_w), rng), a, 1.0 - a)
    # Light: a broad gradient, blotches and a soft shadow of the phone or a hand.
    sh, sw = out_h // 8, out_w // 8
    light = _low_freq((sh, sw), rng, 4, 0.06)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    gdir = rng.normal(0, 1, 2)
    light *= 1 + 0.12 * ((xx / sw - 0.5) * gdir[0] + (yy / sh - 0.5) * gdir[1])
    if rng.random() < 0.7:
        shadow = np.zeros((sh, sw), np.float32)
        side = int(rng.integers(4))
        depth = float(rng.uniform(0.15, 0.45))
        k = rng.uniform(0.15, 0.45)
        pts = {
            0: [[0, 0], [sw * k, 0], [sw * k * rng.uniform(0.5, 1.5), sh], [0, sh]],
            1: [[sw, 0], [sw * (1 - k), 0], [sw * (1 - k * rng.uniform(0.5, 1.5)), sh], [sw, sh]],
            2: [[0, 0], [sw, 0], [sw, sh * k], [0, sh * k * rng.uniform(0.5, 1.5)]],
            3: [[0, sh], [sw, sh], [sw, sh * (1 - k)], [0, sh * (1 - k * rng.uniform(0.5, 1.5))]],
        }[side]
        cv2.fillPoly(shadow, [np.array(pts, np.int32)], 1.0)
        soft = np.asarray(cv2.GaussianBlur(shadow, (0, 0), float(rng.uniform(6, 20))), np.float32)
        light = light * (1 - depth * soft)
    light *= float(rng.uniform(0.85, 1.05))
    cast = np.array([rng.uniform(0.95, 1.05), 1.0, rng.uniform(0.88, 1.02)], np.float32)
    light_full = cv2.resize(light, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    img = cv2.multiply(
        img, cv2.merge([light_full * cast[0], light_full * cast[1], light_full * cast[2]]), dtype=cv2.CV_8U
    )
    # Phones denoise and sharpen: what is left is soft, low-amplitude grain.
    img = cv2.GaussianBlur(_noise(img, rng, float(rng.uniform(2.0, 4.0))), (0, 0), float(rng.uniform(0.8, 1.4)))
    orientation = 1
    r = rng.random()
    if r < 0.2:  # held in portrait but stored as the sensor saw it: the tag says turn it
        img, orientation = np.rot90(img, k=1), 6
    elif r < 0.3:
        img, orientation = np.rot90(img, k=-1), 8
    elif r < 0.35:
        img, orientation = np.rot90(img, k=2), 3
    return Capture(
        np.ascontiguousarray(img), 72, "phone", orientation=orientation, jpeg_quality=int(rng.integers(82, 93))
    )


def fax(rgb: np.ndarray, rng: np.random.Generator) -> Capture:
    """200 dpi bitonal: thresholded with noise, a little skew, the odd dropped line."""
    g = _grey(rgb)
    h, w = g.shape
    nw, nh = round(w * FAX_DPI / WORK_DPI), round(h * FAX_DPI / WORK_DPI)
    m = _affine(float(rng.uniform(-0.8, 0.8)), FAX_DPI / WORK_DPI * float(rng.uniform(0.99, 1.01)), (0.0, 0.0), (w, h))
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2
    small = cv2.warpAffine(g, m, (nw, nh), flags=cv2.INTER_AREA, borderValue=255).astype(np.float32)
    small += rng.standard_normal(small.shape, dtype=np.float32) * float(rng.uniform(8, 18))
    black = small < float(rng.uniform(135, 175))
    speck = rng.random(black.shape, dtype=np.float32) < float(rng.uniform(0.0001, 0.0006))
    black |= speck
    for _ in range(int(rng.poisson(1.0))):  # a line lost on the telephone line
        y = int(rng.integers(0, nh))
        black[y : y + int(rng.integers(1, 3))] = rng.random() < 0.3
    return Capture(~black, FAX_DPI, "fax")


def _copy_once(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = g.shape
    m = _affine(float(rng.uniform(-0.8, 0.8)), float(rng.uniform(0.985, 1.0)), tuple(rng.normal(0, 12, 2)), (w, h))
    lid_open = rng.random() < 0.3
    g = cv2.warpAffine(g, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=25 if lid_open else 250)
    lo, hi = float(rng.uniform(25, 70)), float(rng.uniform(185, 225))
    floor, top = float(rng.uniform(20, 60)), float(rng.uniform(228, 248))
    # Copier contrast: dark greys go black, light ones white, then the toner's range is narrower.
    levels = np.clip((np.arange(256, dtype=np.float32) - lo) / (hi - lo), 0, 1) * (top - floor) + floor
    g = cv2.LUT(g, np.round(levels).astype(np.uint8))
    g = cv2.GaussianBlur(g, (0, 0), float(rng.uniform(0.5, 0.9)))
    toner = rng.random(g.shape, dtype=np.float32) < float(rng.uniform(0.0002, 0.001))
    g[toner] = (g[toner] * 0.3).astype(np.uint8)
    return g


def photocopy(rgb: np.ndarray, rng: np.random.Generator) -> Capture:
    """A copy of a copy, scanned: the drop-out colour turns grey or black, contrast is lost."""
    # Copiers see red-orange through their green and blue response: the boxes go dark.
    weight = float(rng.uniform(0.0, 0.15))
    img = cv2.transform(rgb, np.array([[weight, 0.85 - weight, 0.15]], np.float32))
    if rng.random() < 0.5:
        img = cv2.min(img, cv2.convertScaleAbs(cv2.min(rgb[..., 1], rgb[..., 2]), alpha=0.9, beta=10))
    for _ in range(2):
        img = _copy_once(img, rng)
    h, w = img.shape
    if rng.random() < 0.4:  # a corner folded or off the glass: clipped
        px_mm = WORK_DPI / 25.4
        a, bb = (rng.uniform(10, 35, 2) * px_mm).astype(int)
        cx, cy = (0, w)[int(rng.integers(2))], (0, h)[int(rng.integers(2))]
        sx, sy = (1 if cx == 0 else -1), (1 if cy == 0 else -1)
        tri = np.array([[cx, cy], [cx + sx * a, cy], [cx, cy + sy * bb]], np.int32)
        cv2.fillPoly(img, [tri], int(rng.choice([20, 245])))
    img = cv2.GaussianBlur(_noise(img, rng, float(rng.uniform(2, 4))), (0, 0), 0.6)
    return Capture(img, WORK_DPI, "photocopy", jpeg_quality=int(rng.integers(70, 88)))


CAPTURE = {"flatbed": flatbed, "feeder": feeder, "phone": phone, "fax": fax, "photocopy": photocopy}


def capture(profile: str, rgb: np.ndarray, rng: np.random.Generator) -> Capture:
    return CAPTURE[profile](rgb, rng)
