"""From a registered page to the letter boxes of every row.

The page is warped once onto the sheet's own millimetres at 8 px/mm. On a
colour scan the red channel is read: the boxes are printed in a drop-out
colour that vanishes there while blue and black ink stay dark. Photocopies
and faxes have grey or black box lines, so the lines are also removed where
the geometry says they are: a pixel on a line turns to paper unless ink
continues on both sides of it (a stroke crossing the line).

Registration is good to a few tenths of a millimetre over the page; paper
stretch and lens distortion are corrected per field by sliding the expected
box edges over the printed lines (1-D profiles, cheap).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from petitionscan import geometry
from petitionscan.scan.register import warp

PX_PER_MM = 8.0
"""Resolution of the registered page and of the field images handed to the recognizer."""
MARGIN_MM = 1.5
"""Room around a field's boxes: strokes may cross a box edge."""
JPEG_PX_PER_MM = 4.0
SEARCH_PX = 10
"""How far (pixels) a field's boxes may sit from where the homography puts them."""
LINE_HALF = 3
"""Half-width (pixels) of the band around a printed line that line removal rewrites."""
MIN_COMPONENT_PX = 12
BOX_INK_PX = 30
"""Ink pixels that make a box written (a hyphen has ~50, an apostrophe ~35)."""
SIGNATURE_INK_PX = 60
STRIKE_WIDTH_MM = 40.0
"""A single stroke this wide across a row is a strike-out; no capital letter is."""

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class FieldCut:
    """One lettered field of a row, cut out and cleaned for the recognizer.

    ``image`` is greyscale, ink dark on white, box lines removed; ``boxes_px``
    are the letter boxes inside it; ``blank`` says which boxes hold no ink.
    """

    key: str
    image: np.ndarray
    boxes_px: tuple[Box, ...]
    blank: tuple[bool, ...]

    @property
    def written(self) -> bool:
        return not all(self.blank)


@dataclass(frozen=True)
class RowCut:
    """What the page says about one row before recognition."""

    row: int
    fields: tuple[FieldCut, ...]
    signed: bool
    has_signature: bool
    crossed_out: bool
    crop_png: bytes

    def field(self, key: str) -> FieldCut | None:
        return next((f for f in self.fields if f.key == key), None)

    @property
    def name_written(self) -> bool:
        return any(f.written for f in self.fields if f.key in geometry.NAME_FIELDS)


@dataclass(frozen=True)
class PageCut:
    rows: tuple[RowCut, ...]
    page_jpeg: bytes
    colour: bool


def _px(v_mm: float) -> int:
    """Pixel index whose centre is nearest to ``v_mm``."""
    return round(v_mm * PX_PER_MM - 0.5)


def _rect_px(rect: geometry.Rect, dx: int = 0, dy: int = 0) -> Box:
    x0, y0, x1, y1 = rect
    return (_px(x0) + dx, _px(y0) + dy, _px(x1) + dx, _px(y1) + dy)


def registered_page(image: np.ndarray, matrix: np.ndarray, sheet: geometry.SheetGeometry) -> tuple[np.ndarray, np.ndarray, bool]:
    """The table part of the page at PX_PER_MM: (grey for lines and crops, ink channel, drop-out worked).

    Only the rows are warped (the costly step); the arrays still use whole-page
    coordinates, the area above the table is left white.
    """
    width, height = sheet.page_size_mm
    top = max(0.0, sheet.header_rect_mm[1] - 1.0)
    bottom = min(height, sheet.rows[-1].rect_mm[3] + 3.0)
    full_h = round(height * PX_PER_MM)
    full_w = round(width * PX_PER_MM)
    y0 = round(top * PX_PER_MM)
    rect = (0.0, y0 / PX_PER_MM, width, bottom)
    part = warp(image, matrix, PX_PER_MM, rect)
    y1 = min(full_h, y0 + part.shape[0])

    def placed(a: np.ndarray) -> np.ndarray:
        out = np.full((full_h, full_w), 255, np.uint8)
        out[y0:y1, : a.shape[1]] = a[: y1 - y0, :full_w]
        return out

    if image.ndim == 2:
        gray = placed(part)
        return gray, gray, False
    gray = placed(cv2.cvtColor(part, cv2.COLOR_RGB2GRAY))
    red = placed(part[:, :, 0])
    return gray, red, _dropout_works(gray, red, sheet)


def _dropout_works(gray: np.ndarray, red: np.ndarray, sheet: geometry.SheetGeometry) -> bool:
    """True when the printed boxes are dark in grey but gone in red (a real colour scan)."""
    row = sheet.rows[0]
    ys: list[int] = []
    xs: list[int] = []
    for f in row.fields:
        for b in f.boxes_mm:
            x0, y0, x1, _ = _rect_px(b)
            xs.extend(range(x0 + 4, x1 - 4))
            ys.extend([y0] * max(0, x1 - x0 - 8))
    if not xs:
        return False
    yy = np.clip(np.array(ys), 0, gray.shape[0] - 1)
    xx = np.clip(np.array(xs), 0, gray.shape[1] - 1)
    # The line may sit a pixel or two off: take the darkest of a few rows.
    g = np.min(np.stack([gray[np.clip(yy + d, 0, gray.shape[0] - 1), xx] for d in range(-3, 4)]), axis=0)
    r = np.min(np.stack([red[np.clip(yy + d, 0, gray.shape[0] - 1), xx] for d in range(-3, 4)]), axis=0)
    return float(np.median(r.astype(np.int32) - g.astype(np.int32))) > 35.0


def _profile_shift(profile: np.ndarray, positions: list[int], search: int) -> int:
    """Shift (within +-search) that puts most darkness under the expected line positions."""
    n = profile.shape[0]
    smooth = np.convolve(profile, np.ones(3, np.float32), mode="same")
    best_shift, best_score = 0, -1.0
    scores: list[float] = []
    pos = np.array(positions)
    for s in range(-search, search + 1):
        p = pos + s
        p = p[(p >= 0) & (p < n)]
        score = float(smooth[p].sum()) if p.size else 0.0
        scores.append(score)
        if score > best_score:
            best_shift, best_score = s, score
    median = float(np.median(scores))
    zero = scores[search]
    # Lines not visible (drop-out on a bitonal scan): keep the homography.
    if best_score <= 0 or best_score < 1.25 * median or best_score < zero * 1.02:
        return 0
    return best_shift


def _align(gray: np.ndarray, rect: geometry.Rect, boxes: tuple[geometry.Rect, ...]) -> tuple[int, int]:
    """(dx, dy) in pixels that puts this field's boxes (or rectangle) on the printed lines."""
    x0, y0, x1, y1 = _rect_px(rect)
    h, w = gray.shape
    s = SEARCH_PX
    ya, yb = max(0, y0 - s - 2), min(h, y1 + s + 3)
    xa, xb = max(0, x0 - s - 2), min(w, x1 + s + 3)
    if yb <= ya or xb <= xa:
        return 0, 0
    dark = 255.0 - gray[ya:yb, xa:xb].astype(np.float32)
    inner_cols = dark[:, max(0, x0 - xa) : max(0, x1 - xa)]
    dy = _profile_shift(inner_cols.sum(axis=1), [y0 - ya, y1 - ya], s)
    inner_rows = dark[max(0, y0 + dy - ya) : max(0, y1 + dy - ya), :]
    edges: list[int] = []
    for b in boxes or (rect,):
        bx0, _, bx1, _ = _rect_px(b)
        edges += [bx0 - xa, bx1 - xa]
    dx = _profile_shift(inner_rows.sum(axis=0), edges, s)
    return dx, dy


def _erasable_floor(ink: np.ndarray, sheet: geometry.SheetGeometry) -> int:
    """Grey level below which a pixel on a printed line is ink, not line.

    Ink over a grey photocopied line is darker than the line; on a bitonal
    fax both are black and everything on a line may be erased.
    """
    ys: list[int] = []
    xs: list[int] = []
    for row in sheet.rows[:3]:
        for f in row.fields:
            for b in f.boxes_mm:
                x0, y0, x1, y1 = _rect_px(b)
                for y in (y0, y1):
                    xs.extend(range(x0 + 4, x1 - 4, 2))
                    ys.extend([y] * len(range(x0 + 4, x1 - 4, 2)))
    if not xs:
        return 0
    yy, xx = np.array(ys), np.array(xs)
    hh, ww = ink.shape
    line = np.min(np.stack([ink[np.clip(yy + d, 0, hh - 1), np.clip(xx, 0, ww - 1)] for d in (-1, 0, 1)]), axis=0)
    level = float(np.median(line))
    paper = float(np.percentile(ink[:: 7, :: 7], 90))
    return int(max(0.0, level - 0.35 * max(0.0, paper - level)))


def _erase_hline(img: np.ndarray, y: int, xa: int, xb: int, floor: int = 0) -> None:
    """Turn a printed horizontal line to paper unless ink runs on through it."""
    h, w = img.shape
    b = LINE_HALF
    if y - b - 1 < 0 or y + b + 1 >= h:
        return
    xa, xb = max(0, xa), min(w, xb)
    if xb <= xa:
        return
    keep = np.minimum(img[y - b - 1, xa:xb], img[y + b + 1, xa:xb])
    band = img[y - b : y + b + 1, xa:xb]
    np.copyto(band, np.maximum(band, keep[None, :]), where=band >= floor)


def _erase_vline(img: np.ndarray, x: int, ya: int, yb: int, floor: int = 0) -> None:
    h, w = img.shape
    b = LINE_HALF
    if x - b - 1 < 0 or x + b + 1 >= w:
        return
    ya, yb = max(0, ya), min(h, yb)
    if yb <= ya:
        return
    keep = np.minimum(img[ya:yb, x - b - 1], img[ya:yb, x + b + 1])
    band = img[ya:yb, x - b : x + b + 1]
    np.copyto(band, np.maximum(band, keep[:, None]), where=band >= floor)


def _erase_box_lines(img: np.ndarray, boxes: list[Box], floor: int) -> None:
    for x0, y0, x1, y1 in boxes:
        _erase_hline(img, y0, x0 - LINE_HALF, x1 + LINE_HALF + 1, floor)
        _erase_hline(img, y1, x0 - LINE_HALF, x1 + LINE_HALF + 1, floor)
        _erase_vline(img, x0, y0 - LINE_HALF, y1 + LINE_HALF + 1, floor)
        _erase_vline(img, x1, y0 - LINE_HALF, y1 + LINE_HALF + 1, floor)


def _flatten(region: np.ndarray) -> np.ndarray:
    """Divide out uneven lighting (phone shadows): paper becomes ~255 everywhere.

    The paper level is the local brightest value over ~4 mm (wider than any
    stroke), taken on a quarter-size copy and smoothed: a few milliseconds a row.
    """
    h, w = region.shape
    if h < 8 or w < 8:
        return region
    small = cv2.resize(region, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((9, 9), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    flat = region.astype(np.float32) * (255.0 / np.maximum(paper, 40.0))
    return np.clip(flat, 0, 255).astype(np.uint8)


def _ink_mask(region: np.ndarray) -> tuple[np.ndarray, int]:
    """Ink pixels of a row (a threshold relative to this row's paper, specks removed)
    and the width of its widest ink component."""
    sample = region[::3, ::3]
    paper = float(np.percentile(sample, 90))
    darkest = float(region.min()) if sample.size < 100 else float(np.percentile(sample, 0.3))
    thr = paper - max(60.0, 0.5 * (paper - darkest))
    mask = (region < thr).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask, 0
    keep = stats[:, cv2.CC_STAT_AREA] >= MIN_COMPONENT_PX
    keep[0] = False
    mask = keep.astype(np.uint8)[labels]
    return mask, int(stats[keep, cv2.CC_STAT_WIDTH].max(initial=0))


def _written_boxes(mask: np.ndarray, boxes: list[Box], origin: tuple[int, int]) -> list[bool]:
    """Which boxes hold a letter of their own.

    Each ink component is shared out to the boxes by columns (a gap goes to
    its nearer box); a box is written when it holds a good share of some
    component. A neighbour's letter spilling over its edge gives only a small
    share, a letter hugging its own box edges (L, J) still a large one.
    """
    n = len(boxes)
    if n == 0:
        return []
    ox, oy = origin
    h, w = mask.shape
    reach = round(1.0 * PX_PER_MM)
    ya = max(0, min(b[1] for b in boxes) - oy - reach)
    yb = min(h, max(b[3] for b in boxes) - oy + reach)
    xa = max(0, boxes[0][0] - ox - reach)
    xb = min(w, boxes[-1][2] - ox + reach)
    band = mask[ya:yb, xa:xb]
    if yb <= ya or xb <= xa or not band.any():
        return [False] * n
    count, labels, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    # A thin stroke through the whole band and beyond is another row's ink passing by.
    passing = (
        (stats[:, cv2.CC_STAT_TOP] == 0)
        & (stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] >= band.shape[0])
        & (stats[:, cv2.CC_STAT_WIDTH] <= 2 * PX_PER_MM)
    )
    owner = np.zeros(xb - xa, np.int64)
    mids = [(boxes[i][2] + boxes[i + 1][0]) // 2 - ox - xa for i in range(n - 1)]
    for i, m in enumerate(mids):
        owner[max(0, m) :] = i + 1
    ys, xs = np.nonzero(band)
    lab = labels[ys, xs].astype(np.int64)
    counts = np.bincount(lab * n + owner[xs], minlength=count * n).reshape(count, n)
    totals = counts.sum(axis=1, keepdims=True)
    share = counts >= np.maximum(BOX_INK_PX, 0.25 * totals)
    share[0] = False
    share[passing] = False
    return [bool(v) for v in share.any(axis=0)]


def _own_ink(sub: np.ndarray) -> int:
    """Ink pixels of an area, leaving out thin strokes that run right through it
    (another row's letter or strike passing by)."""
    if sub.size == 0 or not sub.any():
        return 0
    _, _, stats, _ = cv2.connectedComponentsWithStats(sub, connectivity=8)
    top = stats[1:, cv2.CC_STAT_TOP]
    bottom = top + stats[1:, cv2.CC_STAT_HEIGHT]
    passing = (top == 0) & (bottom >= sub.shape[0]) & (stats[1:, cv2.CC_STAT_WIDTH] <= 2 * PX_PER_MM)
    return int(stats[1:, cv2.CC_STAT_AREA][~passing].sum())


def _struck(mask: np.ndarray, widest: int, boxes: list[Box], origin: tuple[int, int]) -> bool:
    """A strike-out: ink in nearly every gap between boxes, or in most of them
    together with one stroke far wider than any letter."""
    if not boxes:
        return False
    ox, oy = origin
    inked = 0
    gaps = 0
    for a, b in itertools.pairwise(boxes):
        gx0, gx1 = a[2] + 2 - ox, b[0] - 2 - ox
        if gx1 <= gx0:
            continue
        gaps += 1
        sub = mask[max(0, a[1] - oy) : max(0, a[3] - oy), gx0:gx1]
        inked += int(sub.sum() >= 3)
    if gaps < 8:
        return False
    wide = widest >= STRIKE_WIDTH_MM * PX_PER_MM
    return inked >= (0.5 if wide else 0.8) * gaps


def cut_page(image: np.ndarray, matrix: np.ndarray, sheet: geometry.SheetGeometry) -> PageCut:
    """Every row of a registered page: cleaned fields, ink decisions, crop."""
    gray, ink, dropout = registered_page(image, matrix, sheet)
    ink = ink.copy() if ink is gray else ink
    h, w = gray.shape
    # Printed things near the fields that are not handwriting: headings, row numbers.
    printed: list[Box] = []
    for rect in [sheet.header_rect_mm, *(r.number_rect_mm for r in sheet.rows)]:
        x0, y0, x1, y1 = _rect_px(rect)
        printed.append((max(0, x0 - 4), max(0, y0), max(0, x1 + 1), max(0, y1 + 2)))
    margin = round(MARGIN_MM * PX_PER_MM)
    floor = 0 if dropout else _erasable_floor(ink, sheet)
    rows: list[RowCut] = []
    for row in sheet.rows:
        placed: list[tuple[geometry.FieldGeometry, list[Box], Box]] = []
        for f in row.fields:
            dx, dy = _align(gray, f.rect_mm, f.boxes_mm)
            boxes = [_rect_px(b, dx, dy) for b in f.boxes_mm] or [_rect_px(f.rect_mm, dx, dy)]
            placed.append((f, boxes, _rect_px(f.rect_mm, dx, dy)))
            if not dropout:
                _erase_box_lines(ink, boxes, floor)
        rx0, _, rx1, ry1 = row.rect_mm
        _erase_hline(ink, _px(ry1 + 1.0), _px(rx0) - 2, _px(rx1) + 2, floor)
        ry0 = max(0, min(r[1] for _, _, r in placed) - margin)
        ry1p = min(h, max(r[3] for _, _, r in placed) + margin)
        rxa = max(0, min(r[0] for _, _, r in placed) - margin)
        rxb = min(w, max(r[2] for _, _, r in placed) + margin)
        region = _flatten(ink[ry0:ry1p, rxa:rxb])
        for x0, y0, x1, y1 in printed:  # after flattening: a white patch would fool the paper estimate
            xa, ya = max(x0, rxa) - rxa, max(y0, ry0) - ry0
            xb, yb = min(x1, rxb) - rxa, min(y1, ry1p) - ry0
            if xb > xa and yb > ya:
                region[ya:yb, xa:xb] = 255
        mask, widest = _ink_mask(region)
        origin = (rxa, ry0)
        cuts: list[FieldCut] = []
        signed = False
        has_signature = False
        struck = False
        name_boxes: list[Box] = []
        other_boxes: list[Box] = []
        for f, boxes, frect in placed:
            if not f.boxes_mm:
                has_signature = has_signature or f.key == "signature"
                x0, y0, x1, y1 = frect
                inset = round(1.2 * PX_PER_MM)
                sub = mask[max(0, y0 + inset - ry0) : max(0, y1 - inset - ry0), max(0, x0 + inset - rxa) : max(0, x1 - inset - rxa)]
                if f.key == "signature":
                    signed = _own_ink(sub) >= SIGNATURE_INK_PX
                continue
            (name_boxes if f.key in geometry.NAME_FIELDS else other_boxes).extend(boxes)
            blank = tuple(not v for v in _written_boxes(mask, boxes, origin))
            fx0, fy0, fx1, fy1 = frect
            cx0, cy0 = max(rxa, fx0 - margin), max(ry0, fy0 - margin)
            cx1, cy1 = min(rxb, fx1 + margin), min(ry1p, fy1 + margin)
            field_img = np.ascontiguousarray(region[cy0 - ry0 : cy1 - ry0, cx0 - rxa : cx1 - rxa])
            boxes_px = tuple((x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0) for x0, y0, x1, y1 in boxes)
            cuts.append(FieldCut(f.key, field_img, boxes_px, blank))
        # A strike goes through the name; the second band's tight handwriting inks its gaps too often.
        struck = _struck(mask, widest, name_boxes or other_boxes, origin)
        crop_png = _name_crop(gray, name_boxes, margin)
        rows.append(RowCut(row.row, tuple(cuts), signed, has_signature, struck, crop_png))
    page_gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    width, height = sheet.page_size_mm
    small = warp(page_gray, matrix, JPEG_PX_PER_MM, (0.0, 0.0, width, height), cv2.INTER_AREA)
    return PageCut(tuple(rows), encode_jpeg(small), dropout)


def _name_crop(gray: np.ndarray, boxes: list[Box], margin: int) -> bytes:
    """The name band as scanned (registered, lines kept), for the review page."""
    if not boxes:
        return b""
    h, w = gray.shape
    x0 = max(0, min(b[0] for b in boxes) - margin)
    y0 = max(0, min(b[1] for b in boxes) - margin)
    x1 = min(w, max(b[2] for b in boxes) + margin)
    y1 = min(h, max(b[3] for b in boxes) + margin)
    ok, data = cv2.imencode(".png", gray[y0:y1, x0:x1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return data.tobytes() if ok else b""


def encode_jpeg(gray: np.ndarray, quality: int = 70) -> bytes:
    ok, data = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else b""


def preview_jpeg(image: np.ndarray, long_side: int = 1200) -> bytes:
    """A small grey picture of a page that could not be registered (foreign pages)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    scale = min(1.0, long_side / max(gray.shape))
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return encode_jpeg(gray)
