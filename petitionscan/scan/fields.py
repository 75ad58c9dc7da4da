"""From a registered page to the letter boxes of every row.

The page is warped once onto the sheet's own millimetres at 8 px/mm. On a
colour scan the red channel is read: the boxes are printed in a drop-out
colour that vanishes there while blue and black ink stay dark. Photocopies
and faxes have grey or black box lines, so the lines are also removed where
the geometry says they are, and only there: the exact rows (columns) a line
occupies are found near its expected place, a pixel on them turns to paper
unless it is darker than the line (pen over a grey line) or ink continues on
both sides of it (a stroke crossing). Ink lying next to a line (the foot of
an L on the bottom edge) is never touched. This is the only place lines are
removed; the recognizer's cutter drops only faint leftovers.

Registration is good to a few tenths of a millimetre over the page; paper
stretch and lens distortion are corrected per field by sliding the expected
box edges over the printed lines (1-D profiles, cheap).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from petitionscan import geometry
from petitionscan.recognize.glyph import components, is_line_remnant
from petitionscan.scan.register import warp

PX_PER_MM = 8.0
"""Resolution of the registered page and of the field images handed to the recognizer."""
MARGIN_MM = 1.5
"""Room around a field's boxes: strokes may cross a box edge."""
JPEG_PX_PER_MM = 4.0
"""The page picture in review: the whole sheet zoomable, its handwriting legible."""
PAGE_JPEG_QUALITY = 60
"""The page picture: 114 kB a simulated page against 133 at quality 70 (the printed appeal
is most of its bytes); its text and handwriting read the same at review's zoom."""
CROP_JPEG_QUALITY = 70
"""Name crops, at the reader's full resolution: 115 kB a page for nine crops (163 at quality
85; a fast PNG, 2.5 times that); the strokes' edges move by a few grey levels, which no
eye sees at the size review shows them."""
SEARCH_PX = 10
"""How far (pixels) a field's boxes may sit from where the homography puts them."""
LINE_HALF = 3
"""Half-width (pixels) of the band around an expected line position where line removal looks."""
LINE_COVER = 0.5
"""Share of a strip a line offset must be dark along to be taken for the printed line."""
MIN_COMPONENT_PX = 12
FAINT_INK_DROP = 50.0
"""How far below the paper a faint stroke still counts as ink when it joins darker ink."""
FAINT_LETTER_MM = 3.0
"""Height of a faint blob that counts as a letter on its own."""
BOX_INK_PX = 30
"""Ink pixels that make a box written (a hyphen has ~50, an apostrophe ~35)."""
INNER_INSET_MM = 1.5
"""Margin of a box left out when looking for a letter in its middle."""
INNER_INK_PX = 110
"""Ink pixels in a box's middle that make it written even when joined to its neighbours."""
SIGNATURE_INK_PX = 60
DROP_ONE_BY_ONE = 24
"""Up to this many specks in a row are cleared one by one (cheaper than relabelling the whole row)."""
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
    crop: bytes
    """The name band as a greyscale JPEG, for a person to check the reading against."""

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


def registered_page(
    image: np.ndarray, matrix: np.ndarray, sheet: geometry.SheetGeometry
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The table part of the page at PX_PER_MM: (grey for lines and crops, ink channel, drop-out worked).

    Only the rows are warped (the costly step); the arrays still use whole-page
    coordinates, the area above the table is left white.
    """
    width, height = sheet.page_size_mm
    full_h = round(height * PX_PER_MM)
    full_w = round(width * PX_PER_MM)
    y0, y1 = _table_rows_px(sheet)
    part = warp(image, matrix, PX_PER_MM, (0.0, y0 / PX_PER_MM, width, y1 / PX_PER_MM))

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


@lru_cache(maxsize=8)
def _table_rows_px(sheet: geometry.SheetGeometry) -> tuple[int, int]:
    """Pixel rows (first, end) at PX_PER_MM of the band :func:`registered_page` warps:
    the column headings to just under the last row."""
    height = sheet.page_size_mm[1]
    top = max(0.0, sheet.header_rect_mm[1] - 1.0)
    bottom = min(height, sheet.rows[-1].rect_mm[3] + 3.0)
    y0 = round(top * PX_PER_MM)
    return y0, min(round(height * PX_PER_MM), y0 + round((bottom - y0 / PX_PER_MM) * PX_PER_MM))


def _dropout_works(gray: np.ndarray, red: np.ndarray, sheet: geometry.SheetGeometry) -> bool:
    """True when the printed boxes are dark in grey but gone in red (a real colour scan)."""
    ys, xs = _edge_samples(sheet, 1, False, 1)  # the first row's box tops
    if not xs.size:
        return False
    yy = np.clip(ys, 0, gray.shape[0] - 1)
    xx = np.clip(xs, 0, gray.shape[1] - 1)
    # The line may sit a pixel or two off: take the darkest of a few rows.
    g = np.min(np.stack([gray[np.clip(yy + d, 0, gray.shape[0] - 1), xx] for d in range(-3, 4)]), axis=0)
    r = np.min(np.stack([red[np.clip(yy + d, 0, gray.shape[0] - 1), xx] for d in range(-3, 4)]), axis=0)
    return float(np.median(r.astype(np.int32) - g.astype(np.int32))) > 35.0


_ONES3 = np.ones(3, np.float32)


def _profile_shift(profile: np.ndarray, positions: list[int], search: int) -> int:
    """Shift (within +-search) that puts most darkness under the expected line positions."""
    n = profile.shape[0]
    smooth = np.convolve(profile, _ONES3, mode="same")
    at = np.add.outer(np.arange(-search, search + 1), positions)
    if positions and min(positions) >= search and max(positions) < n - search:
        score_arr = smooth[at].sum(axis=1)  # every position shifted stays on the profile
    else:
        score_arr = np.where((at >= 0) & (at < n), smooth[np.clip(at, 0, n - 1)], 0.0).sum(axis=1)
    best = int(np.argmax(score_arr))  # first maximum: the most negative shift on a tie
    best_shift, best_score = best - search, float(score_arr[best])
    scores = score_arr.tolist()
    median = sorted(scores)[search]  # the middle one of the 2 * search + 1
    zero = scores[search]
    # Lines not visible (drop-out on a bitonal scan): keep the homography.
    if best_score <= 0 or best_score < 1.25 * median or best_score < zero * 1.02:
        return 0
    return best_shift


def _align(gray: np.ndarray, rect: Box, boxes: list[Box]) -> tuple[int, int]:
    """(dx, dy) in pixels that puts this field's boxes (or its rectangle, pixels where
    the homography puts them) on the printed lines."""
    x0, y0, x1, y1 = rect
    h, w = gray.shape
    s = SEARCH_PX
    ya, yb = max(0, y0 - s - 2), min(h, y1 + s + 3)
    xa, xb = max(0, x0 - s - 2), min(w, x1 + s + 3)
    if yb <= ya or xb <= xa:
        return 0, 0
    area = gray[ya:yb, xa:xb]
    dy = _profile_shift(_darkness(area[:, max(0, x0 - xa) : max(0, x1 - xa)], 1), [y0 - ya, y1 - ya], s)
    edges: list[int] = []
    for bx0, _, bx1, _ in boxes or [rect]:
        edges += [bx0 - xa, bx1 - xa]
    dx = _profile_shift(_darkness(area[max(0, y0 + dy - ya) : max(0, y1 + dy - ya), :], 0), edges, s)
    return dx, dy


def _darkness(gray: np.ndarray, axis: int) -> np.ndarray:
    """Sum of 255 - grey along ``axis``, as float32 (whole numbers: exact, as summed in float32)."""
    if gray.size == 0:
        return np.zeros(gray.shape[1 - axis], np.float32)
    # OpenCV's reduction in 32-bit integers: exact (a line of 8 million pixels would overflow it).
    sums = cv2.reduce(gray, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    return (255 * gray.shape[axis] - sums).astype(np.float32)


@lru_cache(maxsize=16)
def _edge_samples(sheet: geometry.SheetGeometry, rows: int, bottoms: bool, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of every ``step``-th pixel along the box tops (and bottoms) of the first ``rows`` rows.

    Four pixels at each end of an edge are left out (the corners, where the
    sides meet it). Worked out once a layout; the arrays are read-only.
    """
    ys: list[int] = []
    xs: list[int] = []
    for row in sheet.rows[:rows]:
        for f in row.fields:
            for b in f.boxes_mm:
                x0, y0, x1, y1 = _rect_px(b)
                span = range(x0 + 4, x1 - 4, step)
                for y in (y0, y1) if bottoms else (y0,):
                    xs.extend(span)
                    ys.extend([y] * len(span))
    yy, xx = np.array(ys, np.int64), np.array(xs, np.int64)
    yy.flags.writeable = False
    xx.flags.writeable = False
    return yy, xx


@lru_cache(maxsize=8)
def _layout_px(
    sheet: geometry.SheetGeometry,
) -> tuple[tuple[Box, ...], tuple[tuple[tuple[tuple[Box, ...], Box], ...], ...]]:
    """Where the layout puts things, in pixels of the registered page, worked out once a layout:
    the printed things near the fields that are not handwriting (headings, row numbers, with
    room for their ink), and per row, per field, its boxes and its rectangle."""
    printed: list[Box] = []
    for rect in [sheet.header_rect_mm, *(r.number_rect_mm for r in sheet.rows)]:
        x0, y0, x1, y1 = _rect_px(rect)
        printed.append((max(0, x0 - 4), max(0, y0), max(0, x1 + 1), max(0, y1 + 2)))
    rows = tuple(
        tuple((tuple(_rect_px(b) for b in f.boxes_mm), _rect_px(f.rect_mm)) for f in row.fields) for row in sheet.rows
    )
    return tuple(printed), rows


def _line_levels(ink: np.ndarray, sheet: geometry.SheetGeometry) -> tuple[int, float]:
    """(floor, cut): grey levels that tell the printed lines from ink and paper.

    A pixel on a line darker than ``floor`` is ink (ink over a grey
    photocopied line is darker than the line; on a bitonal fax both are black
    and the floor is 0). ``cut`` lies between the line and the paper: it finds
    where a line actually runs.
    """
    yy, xx = _edge_samples(sheet, 3, True, 2)  # the first three rows' tops and bottoms
    if not xx.size:
        return 0, 128.0
    hh, ww = ink.shape
    line = np.min(np.stack([ink[np.clip(yy + d, 0, hh - 1), np.clip(xx, 0, ww - 1)] for d in (-1, 0, 1)]), axis=0)
    level = float(np.median(line))
    paper = float(np.percentile(ink[::7, ::7], 90))
    return int(max(0.0, level - 0.35 * max(0.0, paper - level))), (level + paper) / 2.0


def _clean_strips(strips: np.ndarray, floor: int, cut: float) -> np.ndarray:
    """Printed lines removed from strips across them, shape (lines, across, along).

    Only the offsets where the line really runs are rewritten (found as the
    offsets darker than ``cut`` along most of the strip), one pixel either
    side for blur; ink lying next to the line stays whatever its darkness. A
    rewritten pixel becomes the lighter of the pixels just outside the line
    on either side, so a stroke crossing the line stays joined; ink darker
    than ``floor`` is kept as it is (pen over a grey line). Each offset's
    pixels lie side by side in memory, so the counts run along rows.
    """
    n, width, along = strips.shape
    runs = np.count_nonzero(strips < cut, axis=2) >= LINE_COVER * along
    runs[:, :2] = False
    runs[:, width - 2 :] = False
    has = runs.any(axis=1)
    first = runs.argmax(axis=1)
    last = width - 1 - runs[:, ::-1].argmax(axis=1)
    lo = np.maximum(first - 1, 1)
    hi = np.minimum(last + 1, width - 2)
    k = np.arange(width)
    rewrite = has[:, None] & (k[None, :] >= lo[:, None]) & (k[None, :] <= hi[:, None])
    idx = np.arange(n)
    keep = np.minimum(strips[idx, lo - 1], strips[idx, hi + 1])[:, None, :]
    return np.where(rewrite[:, :, None] & (strips >= floor), np.maximum(strips, keep), strips)


def _erase_hlines(img: np.ndarray, ys: list[int], xa: int, xb: int, floor: int, cut: float) -> None:
    """Remove printed horizontal lines at rows ``ys`` (expected) between columns xa and xb."""
    h, w = img.shape
    xa, xb = max(0, xa), min(w, xb)
    offs = np.arange(-LINE_HALF - 1, LINE_HALF + 2)
    ys = [y for y in ys if y - LINE_HALF - 1 >= 0 and y + LINE_HALF + 1 < h]
    if xb <= xa or not ys:
        return
    rows = np.array(ys)[:, None] + offs[None, :]  # (lines, across)
    img[rows, xa:xb] = _clean_strips(img[rows, xa:xb], floor, cut)  # strips (lines, across, along)


def _erase_vlines(img: np.ndarray, xs: list[int], ya: int, yb: int, floor: int, cut: float) -> None:
    """Remove printed upright lines at columns ``xs`` (expected) between rows ya and yb."""
    _erase_hlines(img.T, xs, ya, yb, floor, cut)  # the transpose is a view: the lines are erased in ``img``


def _erase_box_lines(img: np.ndarray, boxes: list[Box], floor: int, cut: float) -> None:
    """Remove the printed outlines of one field's boxes (they share their top and bottom rows)."""
    if not boxes:
        return
    y0, y1 = boxes[0][1], boxes[0][3]
    _erase_hlines(img, [y0, y1], boxes[0][0] - LINE_HALF, boxes[-1][2] + LINE_HALF + 1, floor, cut)
    xs = sorted({b[0] for b in boxes} | {b[2] for b in boxes})
    _erase_vlines(img, xs, y0 - LINE_HALF, y1 + LINE_HALF + 1, floor, cut)


_SQUARE9 = np.ones((9, 9), np.uint8)
_BRIGHTEN = np.float32(255.0) / np.maximum(np.arange(256, dtype=np.float32), np.float32(40.0))
"""What a pixel is multiplied by where the paper has each grey level (float32, as per pixel)."""


def _flatten(region: np.ndarray) -> np.ndarray:
    """Divide out uneven lighting (phone shadows): paper becomes ~255 everywhere.

    The paper level is the local brightest value over ~4 mm (wider than any
    stroke), taken on a quarter-size copy and smoothed: a few milliseconds a row.
    """
    h, w = region.shape
    if h < 8 or w < 8:
        return region
    small = cv2.resize(region, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, _SQUARE9)
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = region.astype(np.float32)
    flat *= cv2.LUT(paper, _BRIGHTEN)  # the paper level is whole: its factor looked up
    np.minimum(flat, 255.0, out=flat)  # never below 0: grey and factor are not
    return flat.astype(np.uint8)


def _ink_mask(region: np.ndarray) -> tuple[np.ndarray, int]:
    """Ink pixels of a row, their components and the width of the widest one.

    The threshold sits halfway between this row's paper and its darkest ink.
    A faint letter next to dark ones (a photocopy, a pen running dry) would
    fall apart into specks there, so ink is grown by hysteresis: lighter
    pixels count where they join dark ink, or where they form a blob of a
    letter's size on their own. Specks are dropped.
    """
    sample = region[::3, ::3]
    hist = cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel().cumsum()
    paper = float(np.searchsorted(hist, 0.9 * hist[-1]))
    darkest = float(region.min()) if sample.size < 100 else float(np.searchsorted(hist, 0.003 * hist[-1]))
    thr = paper - max(60.0, 0.5 * (paper - darkest))
    weak_thr = max(thr, paper - FAINT_INK_DROP)
    strong = region < thr
    weak = (region < weak_thr).astype(np.uint8)
    count, labels, stats = components(weak)
    if count <= 1:
        return weak, 0
    anchored = np.bincount(labels[strong], minlength=count) >= MIN_COMPONENT_PX
    side = round(FAINT_LETTER_MM * PX_PER_MM)
    area = stats[:, cv2.CC_STAT_AREA]
    height = stats[:, cv2.CC_STAT_HEIGHT]
    width = stats[:, cv2.CC_STAT_WIDTH]
    # Not a hairline: a scanner streak is as long but one or two pixels thin,
    # and upright. A letter in a fine, faint pen is as thin but spreads
    # sideways (an A of 124 pixels, 30 wide and 50 high, was dropped and
    # VIKTORIYA read VIKTORIY).
    letter_sized = (
        (height >= side) & (area >= 4 * MIN_COMPONENT_PX) & ((area >= 2.5 * height) | (width >= 0.4 * height))
    )
    keep = (anchored | letter_sized) & (area >= MIN_COMPONENT_PX)
    keep[0] = False
    widest = int(stats[keep, cv2.CC_STAT_WIDTH].max(initial=0))
    dropped = np.flatnonzero(~keep[1:]) + 1
    if dropped.size > DROP_ONE_BY_ONE:
        return keep.astype(np.uint8)[labels], widest
    for c in dropped.tolist():  # a few specks: cleared where they lie
        x, y, w, h = (int(v) for v in stats[c, :4])
        weak[y : y + h, x : x + w][labels[y : y + h, x : x + w] == c] = 0
    return weak, widest


def _written_boxes(mask: np.ndarray, boxes: list[Box], origin: tuple[int, int]) -> list[bool]:
    """Which boxes hold a letter of their own.

    Each ink component is shared out to the boxes by columns (a gap
    goes to its nearer box); a box is written when it holds a good share of
    some component (next to its share in the box holding most of it). A
    neighbour's letter spilling over its edge gives only a small share, a
    letter hugging its own box edges (L, J) or joined to its neighbours still
    a large one.
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
    # Components of the band alone: a stroke of another row or a scanner streak
    # running through it is cut at the band's edges and shows as passing.
    _, labels, stats = components(band)
    passing = (
        (stats[:, cv2.CC_STAT_TOP] == 0)
        & (stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] >= band.shape[0])
        & (stats[:, cv2.CC_STAT_WIDTH] <= 2 * PX_PER_MM)
    )
    passing |= _edge_remnants(
        labels, stats, [(x0 - ox - xa, y0 - oy - ya, x1 - ox - xa, y1 - oy - ya) for x0, y0, x1, y1 in boxes]
    )
    owner = np.zeros(xb - xa, np.int64)
    mids = [(boxes[i][2] + boxes[i + 1][0]) // 2 - ox - xa for i in range(n - 1)]
    for i, m in enumerate(mids):
        owner[max(0, m) :] = i + 1
    counts = _box_counts(labels, stats, owner, n)
    # A component over two boxes is a letter and maybe its spill: a share is
    # measured against the whole. Over three or more it is a chain of touching
    # letters, each a box's worth: a share counts next to the biggest one.
    totals = counts.sum(axis=1, keepdims=True)
    chain = (counts >= BOX_INK_PX).sum(axis=1, keepdims=True) >= 3
    ref = np.where(chain, counts.max(axis=1, keepdims=True), totals)
    share = counts >= np.maximum(BOX_INK_PX, 0.25 * ref)
    share[0] = False
    share[passing] = False
    written = share.any(axis=0)
    # Letters touching their neighbours make one big component, of which a
    # box's own letter may be a small share (a T between an S and an E): a box
    # whose middle holds a letter's worth of ink, tall like a letter, is written
    # whatever it is joined to. A neighbour's spill reaches only its edge.
    inset = round(INNER_INSET_MM * PX_PER_MM)
    inked = counts[1:][~passing[1:]].sum(axis=0) >= INNER_INK_PX
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        if written[i] or not inked[i]:
            continue
        middle = labels[
            max(0, y0 - oy - ya) : max(0, y1 - oy - ya), max(0, x0 + inset - ox - xa) : max(0, x1 - inset - ox - xa)
        ]
        inner = (middle > 0) & ~passing[middle]
        if inner.sum() < INNER_INK_PX:
            continue
        rows = np.flatnonzero(inner.any(axis=1))
        written[i] = rows[-1] - rows[0] + 1 >= 0.45 * (y1 - y0)
    return [bool(v) for v in written]


def _edge_remnants(labels: np.ndarray, stats: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """Per component: a piece of a printed line rather than of a letter.

    What is left of a box line where erasing it missed (a fax's dotted
    outline, a photocopy's dark line), alone in a blank box, made the box
    written, and the glyph cutter then read whatever was left there as a
    letter (SEYITOV read "SEYITOV E" on a fax). Such a piece is:

    - thin (at most ``band`` + 1 pixels, 0.6 mm, across, twice as long) with
      its middle within ``band`` (0.5 mm) of a box edge, as the glyph cutter's
      own test for a remnant;
    - or small (at most three boxes' worth of ink, ``BOX_INK_PX``) and all
      within ``band`` of the box outlines: a corner's L, a broken edge;
    - or low and long: under a quarter of a box high and over one and a half
      boxes wide (a row's rule, a noisy fax scan line, a strike through the
      empty boxes after a name). No letter, nor a chain of joined letters,
      is so flat; a hyphen is shorter;
    - or a hairline a tenth taller than a box (under 2.5 pixels wide on
      average, as ``_ink_mask`` tells a streak from a letter): dust on a
      feeder's glass draws one down the page, and where it touches a letter
      it is not ``passing`` (IVANNA read IVANNAI).

    A pen stroke written on a line is one component with the rest of its
    letter, and larger.
    """
    band = max(2, round(0.5 * PX_PER_MM))
    w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    box_w = max(b[2] - b[0] for b in boxes)
    box_h = max(b[3] - b[1] for b in boxes)
    thin_v, thin_h = w <= band + 1, h <= band + 1
    flat = (h < 0.25 * box_h) & (w > 1.5 * box_w)
    maybe = thin_v | thin_h | flat | (area <= 3 * BOX_INK_PX) | (h >= 1.1 * box_h)
    maybe[0] = False
    out = np.zeros(len(stats), bool)
    if not maybe.any():
        return out
    v_list = sorted({b[0] for b in boxes} | {b[2] for b in boxes})
    h_list = sorted({b[1] for b in boxes} | {b[3] for b in boxes})
    v_edges, h_edges = np.array(v_list, np.float64), np.array(h_list, np.float64)
    for c in np.flatnonzero(maybe).tolist():
        cx, cy, cw, ch, ca = (int(v) for v in stats[c])
        if is_line_remnant(cx, cy, cw, ch, v_list, h_list, band):
            out[c] = True  # thin, along an edge: the glyph cutter's own test
        elif flat[c]:
            out[c] = True  # a rule or a scan line
        elif ch >= 1.1 * box_h and ca < 2.5 * ch:
            out[c] = True  # a streak
        elif ca <= 3 * BOX_INK_PX:
            ys, xs = np.nonzero(labels[cy : cy + ch, cx : cx + cw] == c)
            near_v = np.abs((xs + cx)[:, None] - v_edges[None, :]).min(axis=1) <= band
            near_h = np.abs((ys + cy)[:, None] - h_edges[None, :]).min(axis=1) <= band
            out[c] = bool((near_v | near_h).all())  # all on the outlines: a corner, a broken edge
    return out


def _box_counts(labels: np.ndarray, stats: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Pixels of each component (rows) in the columns of each box (``owner``: the box of a column).

    A component within one box's columns counts its area there, read off its
    statistics; only one spread over several boxes is counted column by column.
    Row 0 (the background) is left at zero.
    """
    count = stats.shape[0]
    counts = np.zeros((count, n), np.int64)
    if count <= 1:
        return counts
    x = stats[1:, cv2.CC_STAT_LEFT]
    first = owner[x]
    last = owner[x + stats[1:, cv2.CC_STAT_WIDTH] - 1]
    single = np.flatnonzero(first == last) + 1
    counts[single, owner[stats[single, cv2.CC_STAT_LEFT]]] = stats[single, cv2.CC_STAT_AREA]
    for c in (np.flatnonzero(first != last) + 1).tolist():
        cx, cy, cw, ch = (int(v) for v in stats[c, :4])
        columns = (labels[cy : cy + ch, cx : cx + cw] == c).sum(axis=0)
        counts[c] = np.bincount(owner[cx : cx + cw], weights=columns, minlength=n)
    return counts


def _own_ink(sub: np.ndarray) -> int:
    """Ink pixels of an area, leaving out thin strokes that run right through it
    (another row's letter or strike passing by)."""
    if sub.size == 0 or not sub.any():
        return 0
    _, _, stats = components(sub)
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
    printed, layout = _layout_px(sheet)
    margin = round(MARGIN_MM * PX_PER_MM)
    floor, cut = (0, 0.0) if dropout else _line_levels(ink, sheet)
    rows: list[RowCut] = []
    for row, row_px in zip(sheet.rows, layout, strict=True):
        placed: list[tuple[geometry.FieldGeometry, list[Box], Box]] = []
        for f, (expected, rect) in zip(row.fields, row_px, strict=True):
            dx, dy = _align(gray, rect, list(expected))
            frect = (rect[0] + dx, rect[1] + dy, rect[2] + dx, rect[3] + dy)
            boxes = [(x0 + dx, y0 + dy, x1 + dx, y1 + dy) for x0, y0, x1, y1 in expected] or [frect]
            placed.append((f, boxes, frect))
            if not dropout:
                _erase_box_lines(ink, boxes, floor, cut)
        rx0, _, rx1, ry1 = row.rect_mm
        # The rule under a row is printed dark even on drop-out sheets.
        _erase_hlines(ink, [_px(ry1 + 1.0)], _px(rx0) - 2, _px(rx1) + 2, floor, cut if not dropout else 128.0)
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
                sub = mask[
                    max(0, y0 + inset - ry0) : max(0, y1 - inset - ry0),
                    max(0, x0 + inset - rxa) : max(0, x1 - inset - rxa),
                ]
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
        crop = _name_crop(gray, name_boxes, margin)
        rows.append(RowCut(row.row, tuple(cuts), signed, has_signature, struck, crop))
    return PageCut(tuple(rows), encode_jpeg(_page_preview(image, matrix, sheet, gray), PAGE_JPEG_QUALITY), dropout)


def _page_preview(image: np.ndarray, matrix: np.ndarray, sheet: geometry.SheetGeometry, gray: np.ndarray) -> np.ndarray:
    """The whole registered page at JPEG_PX_PER_MM (half of PX_PER_MM) for the review view.

    The table, seven tenths of an A4 page, is ``gray`` (the registered page)
    averaged over 2 x 2 pixels: cheaper than warping the scan again, and
    smoother than a direct bilinear warp to this scale, which skips pixels.
    Only the parts above and below it are warped from the scan; colour is
    dropped after the warp, on a tenth of the pixels.
    """
    width, height = sheet.page_size_mm
    step = round(PX_PER_MM / JPEG_PX_PER_MM)
    out_w = round(width * JPEG_PX_PER_MM)
    y0, y1 = _table_rows_px(sheet)
    t0, t1 = -(-y0 // step), y1 // step  # preview rows made whole from the registered page
    band = gray[t0 * step : t1 * step, : out_w * step]
    if band.shape[1] < out_w * step:  # an odd width at PX_PER_MM: one white column more
        band = cv2.copyMakeBorder(band, 0, 0, 0, out_w * step - band.shape[1], cv2.BORDER_CONSTANT, value=255)
    table = cv2.resize(band, (out_w, t1 - t0), interpolation=cv2.INTER_AREA)
    above = warp(image, matrix, JPEG_PX_PER_MM, (0.0, 0.0, width, t0 / JPEG_PX_PER_MM))
    below = warp(image, matrix, JPEG_PX_PER_MM, (0.0, t1 / JPEG_PX_PER_MM, width, height))
    parts = [p if p.ndim == 2 else cv2.cvtColor(p, cv2.COLOR_RGB2GRAY) for p in (above, below)]
    return np.vstack([parts[0], table, parts[1]])


def _name_crop(gray: np.ndarray, boxes: list[Box], margin: int) -> bytes:
    """The name band as scanned (registered, lines kept), for the review page.

    JPEG, as the page picture: review decodes whatever the column holds (PNG
    in databases written before) and scales it for the screen.
    """
    if not boxes:
        return b""
    h, w = gray.shape
    x0 = max(0, min(b[0] for b in boxes) - margin)
    y0 = max(0, min(b[1] for b in boxes) - margin)
    x1 = min(w, max(b[2] for b in boxes) + margin)
    y1 = min(h, max(b[3] for b in boxes) + margin)
    return encode_jpeg(gray[y0:y1, x0:x1], CROP_JPEG_QUALITY)


def encode_jpeg(gray: np.ndarray, quality: int) -> bytes:
    """Baseline with optimised Huffman tables: the same pixels as a plain JPEG, fewer bytes.

    The second pass costs about 5 ms a page (3.7 ms against 1.6 for a page
    picture, 0.77 against 0.29 for a name crop), but the standard tables
    made the 60-page benchmark's crops 9.5 % and its page pictures 6 % larger
    (126 and 116 kB a page against 115 and 110): kept. Progressive saves 3-4 %
    more at three times the time (11 ms against 3.6 for a page picture).
    """
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
    ok, data = cv2.imencode(".jpg", gray, params)
    return data.tobytes() if ok else b""


def preview_jpeg(image: np.ndarray, long_side: int = 1200) -> bytes:
    """A small grey picture of a page that could not be registered (foreign pages)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    scale = min(1.0, long_side / max(gray.shape))
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return encode_jpeg(gray, PAGE_JPEG_QUALITY)
