"""From a field image to one normalised glyph per written box.

Training and inference both go through :func:`extract_glyphs`, so the network
sees at run time the kind of input it was trained on. One difference is
known: the shipped Cyrillic network was trained before marks above letters
were kept (``diacritics``), and reads Ё better with them all the same (see
the model card). The steps, and why:

* ink is separated from paper with a clipped Otsu threshold, so faint grey
  remnants of the printed boxes and paper noise drop out;
* thin remnants of box lines that survived are erased where they run along
  a box edge, are lighter than the pen ink and no stroke crosses them (dark
  strokes written on a line stay: the scan stage already removed the lines);
* connected components are given to the box that holds most of their pixels,
  so a letter spilling over into its neighbour stays whole and the neighbour
  does not read a fragment; touching letters are cut at the box borders,
  except where a box's only ink is the end of a stroke reaching in from its
  neighbour's letter (a spill, not a letter of its own);
* on fields that may hold Cyrillic (``diacritics``), a small mark just above
  a letter's body (the dots of Ё, the breve of Й) joins that letter instead
  of being dropped as a speck or as ink of the row above: written at the
  reader's resolution the dots are often smaller than the speck limit, and
  without them Ё is an Е to the network; the dots a photocopy leaves of the
  box's printed top line are not joined (they made an Е read Ё);
* a short horizontal dash and a small high tick are recognised by shape
  (hyphen, apostrophe): their size and position in the box is what tells them
  apart, which a size-normalised glyph would hide; a narrow mark much shorter
  than the field's letters that misses the tick rule is read as a letter but
  flagged as perhaps an apostrophe (``tick_like``);
* everything else is cropped to its ink, fitted into a square and centred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from statistics import median

import cv2
import numpy as np

GLYPH_SIZE = 32
"""Side of the square network input, in pixels."""
GLYPH_FIT = 26
"""Side of the square the ink bounding box is fitted into (aspect kept)."""

SPECK_SHARE = 0.25
"""Ink parts of a box under this share of its biggest part (and tiny) are specks to the apostrophe rule."""
TICK_LIKE_SHARE = 0.6
"""A narrow mark (under 0.4 of the box wide) the apostrophe rule did not take (too low
in its box, too tall or too wide: a thick pen's tick) is still perhaps an apostrophe
when it is under this share of the median height of the field's letters: an I that
much smaller than its neighbours is rare, and an apostrophe read as I made NATAL'YA a
sure NATALIYA and ARTEM'EVA a sure ARTEMIEVA."""
KIND_LETTER = "letter"
KIND_DASH = "dash"
KIND_TICK = "tick"
KIND_EMPTY = "empty"

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Glyph:
    """The ink of one box, ready for a classifier.

    ``image`` is GLYPH_SIZE x GLYPH_SIZE float32, ink 1.0 on paper 0.0 (only
    for letters). ``split`` flags two separate letter-sized parts side by side
    (two letters squeezed into one box). ``spill`` is the share of the glyph's
    ink lying outside its box, ``height`` its ink height relative to the box.
    ``tick_like`` flags a letter that may be an apostrophe (:data:`TICK_LIKE_SHARE`).
    """

    box: int
    kind: str
    image: np.ndarray | None
    split: bool = False
    spill: float = 0.0
    height: float = 0.0
    tick_like: bool = False


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected components of a 0/1 uint8 mask: (count, labels, stats), as OpenCV numbers them.

    Grana's block-based labelling: the same labels and statistics as OpenCV's
    default (Spaghetti) in the same order, in well under half the time once
    statistics are asked for.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    return count, labels, stats


def ink_threshold(gray: np.ndarray) -> float:
    """A grey level separating ink from paper, robust to near-empty images.

    Otsu's level, kept within 110-200: the scan stage has flattened the paper
    to white, and a photocopy's pen strokes are light grey (Otsu near 190),
    which a lower ceiling (185) broke into fragments.
    """
    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(np.clip(otsu, 110.0, 200.0))


def _erase_box_lines(mask: np.ndarray, gray: np.ndarray, boxes: Sequence[Box], px_per_mm: float, paper: float) -> None:
    """Erase faint straight remnants along the printed box edges, in place.

    Near each box edge, a run of ink pixels is a candidate if it is long (a
    quarter of the box side or more) and thin: paper a little above and below
    it (left and right for upright edges). Only runs clearly lighter than the
    field's pen ink go: a remnant of a grey printed line is. A dark pen stroke
    drawn on the line (the foot of an L, the top bar of an E, a stem along the
    side) looks the same in the mask and must stay; separate dark pieces along
    an edge are dropped later by shape (:func:`is_line_remnant`).
    """
    if not boxes or not mask.any():
        return
    h, w = mask.shape
    band = max(2, round(0.5 * px_per_mm))
    reach = max(3, round(0.5 * px_per_mm))
    bw = int(median([b[2] - b[0] for b in boxes]))
    bh = int(median([b[3] - b[1] for b in boxes]))
    pad = cv2.copyMakeBorder(mask.view(np.uint8), reach, reach, reach, reach, cv2.BORDER_CONSTANT, value=0) > 0
    up = pad[:h, reach : reach + w]
    down = pad[2 * reach :, reach : reach + w]
    left = pad[reach : reach + h, :w]
    right = pad[reach : reach + h, 2 * reach :]
    thin_h = (mask & ~up & ~down).view(np.uint8)
    thin_v = (mask & ~left & ~right).view(np.uint8)
    if not thin_h.any() and not thin_v.any():
        return
    long_h = cv2.morphologyEx(thin_h, cv2.MORPH_OPEN, np.ones((1, max(4, bw // 4)), np.uint8)) > 0
    long_v = cv2.morphologyEx(thin_v, cv2.MORPH_OPEN, np.ones((max(4, bh // 4), 1), np.uint8)) > 0
    if not long_h.any() and not long_v.any():
        return
    cand = _edge_candidates(long_h, long_v, boxes, band)
    count, labels = cv2.connectedComponents(cand.view(np.uint8), connectivity=8)
    if count <= 1:
        return
    hist = cv2.calcHist([gray], [0], mask.view(np.uint8), [256], [0, 256]).ravel().cumsum()
    ink = float(np.searchsorted(hist, 0.05 * hist[-1]))  # the pen's own darkness
    light = ink + 0.45 * max(0.0, paper - ink)
    lab = labels[cand]
    sums = np.bincount(lab, weights=gray[cand], minlength=count)
    sizes = np.bincount(lab, minlength=count)
    means = sums / np.maximum(sizes, 1)
    faint = means > light
    faint[0] = False
    if faint.any():
        mask &= ~faint[labels]


def _edge_candidates(long_h: np.ndarray, long_v: np.ndarray, boxes: Sequence[Box], band: int) -> np.ndarray:
    """Long thin runs lying along a box edge: within ``band`` of a box's top or bottom
    (along the box) or of its sides (over the box's height).

    The places near the edges are a union of rectangles; boxes sharing their
    top and bottom (a field's) make it one set of rows times one of columns.
    """
    h, w = long_h.shape
    cand = np.zeros((h, w), bool)
    rows: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for x0, y0, x1, y1 in boxes:
        rows.setdefault((y0, y1), []).append((x0, x1))
    for (y0, y1), spans in rows.items():
        along = np.zeros(w, bool)  # columns of the boxes, widened by the band
        edges_x = np.zeros(w, bool)  # columns near an upright edge
        for x0, x1 in spans:
            along[max(0, x0 - band) : min(w, x1 + band)] = True
            for e in (x0, x1):
                edges_x[max(0, e - band) : min(w, e + band + 1)] = True
        for e in (y0, y1):
            ya, yb = max(0, e - band), min(h, e + band + 1)
            cand[ya:yb] |= long_h[ya:yb] & along
        ya, yb = max(0, y0 - band), min(h, y1 + band)
        cand[ya:yb] |= long_v[ya:yb] & edges_x
    return cand


def is_line_remnant(
    x: int, y: int, cw: int, ch: int, v_edges: Sequence[int], h_edges: Sequence[int], band: int
) -> bool:
    """A separate thin piece lying along a box edge: a remnant of the printed box."""
    if ch <= band + 1 and cw >= 2 * ch:
        cy = y + ch / 2.0
        return any(abs(cy - e) <= band for e in h_edges)
    if cw <= band + 1 and ch >= 2 * cw:
        cx = x + cw / 2.0
        return any(abs(cx - e) <= band for e in v_edges)
    return False


_SQUARE3 = np.ones((3, 3), np.uint8)
_GREYS = np.arange(256, dtype=np.float32)


@lru_cache(maxsize=1024)
def _ink_levels(paper: float, span: float) -> np.ndarray:
    """How much ink each grey level is, 0-1 (paper and lighter 0), as a lookup table.

    Kept: paper and span are whole grey levels, so a page's letters share a few tables.
    """
    table = np.clip((paper - _GREYS) / span, 0.0, 1.0)
    table.flags.writeable = False
    return table


def fit_square(patch: np.ndarray) -> np.ndarray:
    """Fit an ink patch (float, ink 1.0) into the network's square, centred."""
    ph, pw = patch.shape
    scale = GLYPH_FIT / max(ph, pw)
    nh = max(1, round(ph * scale))
    nw = max(1, round(pw * scale))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    small = cv2.resize(patch, (nw, nh), interpolation=interp)
    out = np.zeros((GLYPH_SIZE, GLYPH_SIZE), np.float32)
    oy = (GLYPH_SIZE - nh) // 2
    ox = (GLYPH_SIZE - nw) // 2
    out[oy : oy + nh, ox : ox + nw] = small
    return out


def _looks_split(mask: np.ndarray, box_w: int) -> bool:
    """Two letter-sized parts separated by an empty column: two letters in one box."""
    h, w = mask.shape
    if w < 0.8 * box_w:
        return False
    xs = np.flatnonzero(mask.any(axis=0))
    # Runs of inked columns, a gap of more than two empty columns between runs.
    breaks = np.flatnonzero(np.diff(xs) > 2)
    if breaks.size == 0:
        return False  # one run (or none): one part
    starts = [int(xs[0]), *(int(v) for v in xs[breaks + 1])]
    ends = [*(int(v) + 1 for v in xs[breaks]), int(xs[-1]) + 1]
    big = 0
    for a, b in zip(starts, ends, strict=True):
        if b - a < 0.25 * box_w:
            continue
        rows = np.flatnonzero(mask[:, a:b].any(axis=1))
        if rows.size and rows[-1] - rows[0] + 1 >= 0.5 * h:
            big += 1
    return big >= 2


def _is_spill(comp: np.ndarray, x: int, box: Box, home: Box, part: float, home_part: float) -> bool:
    """A component's part in ``box`` looks like the end of a stroke of the letter in ``home``.

    The part stays in the half of the box next to the shared edge and holds
    much less ink than the letter's own part; a letter of the box touching
    its neighbour (an N against a K) reaches across the box.
    """
    if part >= 0.6 * home_part:
        return False
    cols = np.flatnonzero(comp.any(axis=0)) + x
    bw = box[2] - box[0]
    # From the edge shared with the letter's box to the part's far end.
    reach = int(cols.max()) + 1 - box[0] if home[0] < box[0] else box[2] - int(cols.min())
    return reach <= 0.55 * bw


def _without_specks(stats: Sequence[Sequence[int]], comps: Sequence[int], min_area: float) -> list[int]:
    """The components of a box's ink that are strokes: specks are tiny next to the biggest part.

    A speck is under twice the smallest ink kept at all and under
    :data:`SPECK_SHARE` of the biggest part; a broken stroke's pieces are larger.
    """
    limit = min(2.0 * min_area, SPECK_SHARE * max(stats[c][4] for c in comps))
    return [c for c in comps if stats[c][4] >= limit]


def _extent(stats: Sequence[Sequence[int]], comps: Sequence[int]) -> tuple[int, int, int, int]:
    """Bounding box (x0, y0, x1, y1) of components (``stats``: OpenCV's rows, as lists)."""
    if len(comps) == 1:
        x, y, w, h = stats[comps[0]][:4]
        return x, y, x + w, y + h
    x0 = min(stats[c][0] for c in comps)
    y0 = min(stats[c][1] for c in comps)
    x1 = max(stats[c][0] + stats[c][2] for c in comps)
    y1 = max(stats[c][1] + stats[c][3] for c in comps)
    return x0, y0, x1, y1


def _join_marks(
    marks: Sequence[int],
    members: list[list[int]],
    stats: Sequence[Sequence[int]],
    owner: np.ndarray,
    boxes: Sequence[Box],
    blank: Sequence[bool],
    band: int,
) -> None:
    """Give each small mark just above a letter's body to that letter (Ё's dots, Й's breve).

    A mark qualifies when its centre column is the box's, it lies over the
    body's width, ends no lower than the top fifth of the body, and starts no
    higher than half the body's height above it; bigger or farther ink stays
    out (the row above, a stray stroke). A mark within ``band`` of the box's
    printed top edge is what the scan left of that line (its dots, on a
    photocopy or fax), not a pen's: joined, those made an Е read Ё.
    """
    bodies = {i: _extent(stats, m) for i, m in enumerate(members) if m}
    for c in marks:
        x, y, cw, ch, _area = stats[c]
        i = int(owner[min(len(owner) - 1, x + cw // 2)])
        if i < 0 or blank[i] or i not in bodies:
            continue
        bx0, by0, bx1, by1 = bodies[i]
        bw, bh = bx1 - bx0, by1 - by0
        box_h = boxes[i][3] - boxes[i][1]
        if abs(y + ch / 2.0 - boxes[i][1]) <= band:
            continue
        if ch > 0.3 * bh or cw > 0.6 * bw or bh < 0.3 * box_h:
            continue
        centre = x + cw / 2.0
        if not bx0 - 0.1 * bw <= centre <= bx1 + 0.1 * bw:
            continue
        if y + ch <= by0 + 0.2 * bh and y >= by0 - 0.5 * bh:
            members[i].append(c)


def extract_glyphs(
    image: np.ndarray,
    boxes: Sequence[Box],
    blank: Sequence[bool],
    px_per_mm: float,
    diacritics: bool = False,
) -> list[Glyph]:
    """One :class:`Glyph` per box (kind ``empty`` for blank or ink-less boxes).

    ``diacritics``: keep small marks above a letter's body as part of it (see
    the module notes); for fields whose alphabet has letters with such marks.
    """
    gray = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    n = len(boxes)
    if n == 0:
        return []
    mask = gray < ink_threshold(gray)
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().cumsum()
    paper = float(np.searchsorted(hist, 0.9 * hist[-1]))  # 90th percentile grey
    _erase_box_lines(mask, gray, boxes, px_per_mm, paper)
    _, labels, stats_arr = components(mask.view(np.uint8))
    stats = stats_arr.tolist()  # Python ints: read one component at a time
    # Columns owned by each box: box extents widened to the middle of each gap.
    _h, w = gray.shape
    owner = np.full(w, -1, np.int32)
    mids = [0] + [(boxes[i][2] + boxes[i + 1][0]) // 2 for i in range(n - 1)] + [w]
    for i in range(n):
        owner[max(0, mids[i]) : min(w, mids[i + 1])] = i
    min_area = max(4.0, 0.09 * px_per_mm * px_per_mm)
    band = max(2, round(0.5 * px_per_mm))
    v_edges = sorted({b[0] for b in boxes} | {b[2] for b in boxes})
    h_edges = sorted({b[1] for b in boxes} | {b[3] for b in boxes})
    owned = bool(owner.min() >= 0)  # every column has its box (boxes inside the image)
    # Runs of columns owned by one box: a component within one run lies in that box's columns alone.
    owner_of = owner.tolist()
    run_of = np.cumsum(np.diff(owner, prepend=owner[:1]) != 0).tolist()
    members: list[list[int]] = [[] for _ in range(n)]
    extra: list[tuple[int, int, int, np.ndarray]] = []
    cut_up: list[tuple[int, int, list[int], list[tuple[int, int, int, np.ndarray]]]] = []
    areas = stats_arr[1:, cv2.CC_STAT_AREA]
    big = np.flatnonzero(areas >= min_area) + 1  # specks are left out at once
    # Small components that may be a letter's dots or breve (see _join_marks).
    marks: list[int] = (np.flatnonzero((areas < min_area) & (areas >= 2)) + 1).tolist() if diacritics else []
    for c in big.tolist():
        x, y, cw, ch, area = stats[c]
        if is_line_remnant(x, y, cw, ch, v_edges, h_edges, band):
            continue
        one = owner_of[x]
        if one >= 0 and run_of[x] == run_of[x + cw - 1]:
            # In one box's columns: all its ink is that box's part, nothing to share out.
            if blank[one]:
                continue
            if boxes[one][1] <= y and y + ch <= boxes[one][3]:
                members[one].append(c)  # and within the box's rows: a letter (part) of that box
                continue
        comp = labels[y : y + ch, x : x + cw] == c
        col_counts = comp.sum(axis=0)
        owners = owner[x : x + cw]
        if owned:
            per_box = np.bincount(owners, weights=col_counts, minlength=n).tolist()
        else:
            per_box = np.bincount(owners[owners >= 0], weights=col_counts[owners >= 0], minlength=n).tolist()
        best = max(range(n), key=per_box.__getitem__)  # the first of equal maxima, as argmax
        # A box's part counts next to the biggest part, not the whole: in a
        # chain of touching letters each box's part is a letter of its own.
        least = max(0.2 * per_box[best], min_area)
        shared = [j for j in range(n) if j != best and not blank[j] and per_box[j] >= least]
        if shared:
            # Letters of neighbouring boxes touching: cut the component at the
            # box borders and give each box its own part (unless a part turns
            # out to be a mere spill, decided once every box's ink is known).
            pieces = []
            for j in [best, *shared]:
                cols = owner[x : x + cw] == j
                piece = comp & cols[None, :]
                if piece.sum() >= min_area:
                    pieces.append((j, y, x, piece))
            spills = [j for j in shared if _is_spill(comp, x, boxes[j], boxes[best], per_box[j], per_box[best])]
            cut_up.append((c, best, spills, pieces))
            continue
        if blank[best]:
            continue
        by0, by1 = boxes[best][1], boxes[best][3]
        inside_rows = np.count_nonzero(comp[max(0, by0 - y) : max(0, by1 - y)])
        if inside_rows < 0.3 * area:
            if diacritics:
                marks.append(c)  # above the box: a mark of this letter, or ink of the row above
            continue
        members[best].append(c)
    # A box whose only ink is a stroke of its neighbour's letter reaching in
    # from their shared edge holds no letter: the stroke goes back to the
    # letter it belongs to, whole, as if it had not crossed the edge.
    own_ink = [bool(m) for m in members]
    for _c, best, spills, pieces in cut_up:
        for j, *_rest in pieces:
            if j == best or j not in spills:
                own_ink[j] = True
    # A spill into a box with ink of its own is kept there (it may be a letter
    # touching its neighbour); which boxes hold one is noted for the tick rule.
    own_members = [list(m) for m in members]
    spilled_into = [False] * n
    for c, best, spills, pieces in cut_up:
        kept = [p for p in pieces if p[0] == best or p[0] not in spills or own_ink[p[0]]]
        if all(p[0] == best for p in kept):
            members[best].append(c)
        else:
            extra.extend(kept)
            for p in kept:
                spilled_into[p[0]] |= p[0] != best and p[0] in spills
    for j, y, x, piece in extra:
        new = len(stats)
        labels[y : y + piece.shape[0], x : x + piece.shape[1]][piece] = new
        ys, xs = np.nonzero(piece)
        x0, y0 = int(xs.min()), int(ys.min())
        stats.append([x + x0, y + y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1, len(xs)])
        members[j].append(new)
    if marks:
        _join_marks(marks, members, stats, owner, boxes, blank, band)
    glyphs: list[Glyph] = []
    maybe_ticks: list[tuple[int, float]] = []  # narrow letters, and their ink height
    for i in range(n):
        if blank[i] or not members[i]:
            glyphs.append(Glyph(i, KIND_EMPTY, None))
            continue
        bx0, by0, bx1, by1 = boxes[i]
        bw, bh = bx1 - bx0, by1 - by0
        sx0, sy0, sx1, sy1 = _extent(stats, members[i])
        if len(members[i]) == 1:
            sub = labels[sy0:sy1, sx0:sx1] == members[i][0]
        else:
            own = np.zeros(len(stats), bool)
            own[members[i]] = True
            sub = own[labels[sy0:sy1, sx0:sx1]]
        total = float(sum(stats[m][4] for m in members[i]))  # each part's pixels, all within the extent
        if bx0 <= sx0 and sx1 <= bx1 and by0 <= sy0 and sy1 <= by1:
            inside = total
        else:
            ix0, ix1 = max(bx0, sx0) - sx0, min(bx1, sx1) - sx0
            iy0, iy1 = max(by0, sy0) - sy0, min(by1, sy1) - sy0
            inside = float(np.count_nonzero(sub[max(0, iy0) : max(0, iy1), max(0, ix0) : max(0, ix1)]))
        spill = 1.0 - inside / total if total else 0.0
        gh, gw = sy1 - sy0, sx1 - sx0
        cy = (sy0 + sy1) / 2.0 - by0
        rel_h = gh / bh
        if rel_h < 0.28 and gw >= 1.6 * gh and 0.2 * bh < cy < 0.85 * bh:
            glyphs.append(Glyph(i, KIND_DASH, None, spill=spill, height=rel_h))
            continue
        # The apostrophe rule looks at the strokes without specks: a fax's dot
        # in a corner made an apostrophe as tall as a letter (DAR'YA read as
        # DARIYA). And an apostrophe with the stem of the next letter, written
        # close, cut off into its box is still an apostrophe (SAVEL'EV).
        tick = own_members[i] if spilled_into[i] and own_members[i] else members[i]
        ox0, oy0, ox1, oy1 = _extent(stats, _without_specks(stats, tick, min_area))
        if ox1 - ox0 < 0.3 * bw and oy1 - oy0 < 0.42 * bh and oy1 - by0 < 0.55 * bh:
            glyphs.append(Glyph(i, KIND_TICK, None, spill=spill, height=(oy1 - oy0) / bh))
            continue
        if ox1 - ox0 < 0.4 * bw:
            maybe_ticks.append((len(glyphs), (oy1 - oy0) / bh))
        # Keep the grey levels of the own ink (anti-aliasing carries shape at
        # low resolution), paper and foreign ink become white.
        keep = cv2.dilate(sub.view(np.uint8), _SQUARE3)
        grey_patch = gray[sy0:sy1, sx0:sx1]
        darkest = cv2.minMaxLoc(grey_patch, sub.view(np.uint8))[0] if total else 0.0
        span = max(paper - darkest, 40.0)
        # Ink per grey level, looked up: white (255) is no ink, as paper is at most 255.
        # keep - 1 is 255 off the own ink (uint8 wraps around), 0 on it.
        ink = cv2.LUT(cv2.bitwise_or(grey_patch, keep - np.uint8(1)), _ink_levels(paper, span))
        glyphs.append(
            Glyph(
                i,
                KIND_LETTER,
                fit_square(ink),
                split=_looks_split(sub, bw),
                spill=spill,
                height=rel_h,
            )
        )
    if maybe_ticks:
        typical = median(g.height for g in glyphs if g.kind == KIND_LETTER)
        for k, tick_h in maybe_ticks:
            if tick_h < TICK_LIKE_SHARE * typical:
                glyphs[k] = replace(glyphs[k], tick_like=True)
    return glyphs


def words_of(glyphs: Sequence[Glyph], blank: Sequence[bool]) -> list[list[int]]:
    """Group the written boxes into words: box indices, a blank box between words.

    A box the scan stage saw ink in but which holds none of its own (the ink
    belongs to a neighbour's letter that spilled over) is skipped, not a gap.
    """
    words: list[list[int]] = []
    current: list[int] = []
    for g in glyphs:
        if g.kind != KIND_EMPTY:
            current.append(g.box)
        elif blank[g.box] and current:
            words.append(current)
            current = []
    if current:
        words.append(current)
    return words
