"""Registration: which sheet is this, and where is every millimetre of it?

The four ArUco markers give a homography from the sheet's millimetres onto
the image, whatever the rotation, scale or perspective: each marker's id says
which corner it is, so a page upside down or turned 90 degrees needs no
special case. Every detected corner point is used (least squares, 12 or 16
points), so one clipped marker still leaves three to register on.

The QR code says which sheet it is. When it is damaged, the printed serial is
read with Tesseract and checked with its check character, and the layout is
the one whose marker ids were found.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from petitionscan import geometry
from petitionscan.sheetcode import confused_once, is_valid_serial, parse_qr_payload

log = logging.getLogger(__name__)

DETECT_LONG_SIDE = 1400
"""Markers are looked for on a copy this size: fast, and markers stay ~40 px."""
CORNER_TILE = 0.3
"""Side of the corner tiles searched for markers first, as a share of the image's side."""
MIN_MARKERS = 3
MAX_RESIDUAL_MM = 1.5
"""Mean marker-corner misfit above which a registration is not trusted."""
NO_TESSERACT = "QR code unreadable, and Tesseract (which reads the printed serial instead) is not installed"
"""The start of a rejection's reason when only the missing Tesseract stood between the page and its serial."""


@dataclass(frozen=True)
class KnownLayout:
    """A campaign's layout the reader may meet without its QR code."""

    campaign_id: str
    layout_code: str


@dataclass(frozen=True)
class Registration:
    """Which sheet a page is and how it lies in the image.

    ``homography`` (row-major 3x3) maps sheet millimetres onto image pixels.
    ``id_source`` is ``qr`` or ``printed serial``. ``rotation`` is how far the
    sheet is turned in the image, to the nearest quarter turn.
    """

    campaign_id: str
    serial: str
    layout_code: str
    branch: str
    id_source: str
    corners: tuple[str, ...]
    homography: tuple[float, ...]
    rotation: int
    residual_mm: float

    @property
    def matrix(self) -> np.ndarray:
        return np.array(self.homography, dtype=np.float64).reshape(3, 3)


@dataclass(frozen=True)
class Unregistered:
    """Why a page could not be registered. ``foreign``: not one of our sheets at all."""

    reason: str
    foreign: bool


@dataclass(frozen=True)
class _Marker:
    marker_id: int
    corners: np.ndarray  # 4x2 image pixels (full resolution), ArUco corner order


CORNERS = ("tl", "tr", "br", "bl")


@lru_cache(maxsize=2)
def _detector(thorough: bool) -> cv2.aruco.ArucoDetector:
    """One threshold window first (fast); several when that misses a marker."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, geometry.ARUCO_DICT_NAME))
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    params.adaptiveThreshWinSizeMin = 7 if thorough else 15
    params.adaptiveThreshWinSizeMax = 27 if thorough else 15
    params.adaptiveThreshWinSizeStep = 10
    params.minMarkerPerimeterRate = 0.04
    return cv2.aruco.ArucoDetector(dictionary, params)


@lru_cache(maxsize=4)
def paper_geometry(paper: str) -> geometry.SheetGeometry:
    """A sheet of this paper: markers, QR and serial positions depend on the paper only."""
    spec = geometry.LayoutSpec(paper, 1, (geometry.FieldSpec("name", geometry.min_boxes_per_field),), ())
    return geometry.sheet_geometry(spec)


def to_gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def downscaled(image: np.ndarray, long_side: int = DETECT_LONG_SIDE) -> tuple[np.ndarray, float]:
    """A grey copy with the long side at most ``long_side``, and the scale applied.

    Area averaging over whole blocks of k x k pixels first (OpenCV's fast
    path), then bilinear for the rest of the way, which is less than a
    halving and so looks at every pixel: a 300 dpi page in 2-5 ms, where
    area averaging by a fraction took 20-30. Bilinear all the way would be
    cheaper still but moves the marker corners by up to half a pixel of the
    scan (it skips pixels at this scale).
    """
    gray = to_gray(image)
    scale = min(1.0, long_side / max(gray.shape))
    if scale >= 1.0:
        return gray, 1.0
    k = int(1.0 / scale)
    if k < 2:
        return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale
    h, w = gray.shape
    blocks = gray[: h - h % k, : w - w % k]  # whole blocks only: the last k - 1 rows or columns are margin
    small = cv2.resize(blocks, (blocks.shape[1] // k, blocks.shape[0] // k), interpolation=cv2.INTER_AREA)
    rest = scale * k
    if rest < 1.0:
        small = cv2.resize(small, None, fx=rest, fy=rest, interpolation=cv2.INTER_LINEAR)
    return small, scale


def find_markers(small: np.ndarray, scale: float) -> list[_Marker]:
    """Every marker of our dictionary, corners in full-resolution pixels.

    The markers are looked for in the corners of the image first, where a
    scan has them (a tenth of the work); the whole image is searched when
    the corners do not hold one marker for each corner of one sheet. Other
    markers found beside such a set (a false detection in handwriting) are
    left to :func:`register`, which keeps the sheet's block.
    """
    found = _corner_markers(small)
    if not _holds_full_set(found):
        found = _all_markers(small)
    return [_Marker(m.marker_id, m.corners / scale) for m in found]


def _corner_markers(small: np.ndarray) -> list[_Marker]:
    """Markers in the four corner tiles of the image (tile sides: CORNER_TILE of the image's)."""
    h, w = small.shape[:2]
    th, tw = round(h * CORNER_TILE), round(w * CORNER_TILE)
    found: list[_Marker] = []
    for y0, x0 in ((0, 0), (0, w - tw), (h - th, 0), (h - th, w - tw)):
        corners, ids, _ = _detector(False).detectMarkers(small[y0 : y0 + th, x0 : x0 + tw])
        if ids is None:
            continue
        offset = np.array([x0, y0], np.float64)
        found += [
            _Marker(int(i), np.asarray(c, np.float64).reshape(4, 2) + offset)
            for c, i in zip(corners, ids.ravel(), strict=True)
        ]
    return found


def _holds_full_set(markers: Sequence[_Marker]) -> bool:
    """One marker of each corner of some block, none of them twice (other ids may be there too)."""
    ids = [m.marker_id for m in markers]
    return any(all(ids.count(4 * block + k) == 1 for k in range(4)) for block in {i // 4 for i in ids})


def _all_markers(small: np.ndarray) -> list[_Marker]:
    """Markers anywhere in the image: one threshold window first, several when that misses one."""
    corners, ids, _ = _detector(False).detectMarkers(small)
    if ids is None or len(ids) < 4:
        corners2, ids2, _ = _detector(True).detectMarkers(small)
        if ids2 is not None and (ids is None or len(ids2) > len(ids)):
            corners, ids = corners2, ids2
    if ids is None:
        return []
    return [_Marker(int(i), np.asarray(c, np.float64).reshape(4, 2)) for c, i in zip(corners, ids.ravel(), strict=True)]


def read_qr(image: np.ndarray) -> list[str]:
    """Texts of the QR codes in an image (zxing-cpp; OpenCV's detector as a fallback)."""
    import zxingcpp

    texts = [
        _as_utf8(r)
        for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
        if r.text
    ]
    if texts:
        return texts
    try:
        text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    except cv2.error:
        return []
    return [text] if text else []


def _as_utf8(result: object) -> str:
    """The code's bytes as UTF-8 (what the sheets print), not zxing's guess of the character set."""
    try:
        return bytes(result.bytes).decode("utf-8")  # type: ignore[attr-defined]
    except (AttributeError, UnicodeDecodeError):
        return str(result.text)  # type: ignore[attr-defined]


def _payload(texts: Sequence[str]) -> tuple[str, str, str, str] | None:
    for text in texts:
        parsed = parse_qr_payload(text)
        if parsed is not None:
            try:
                geometry.parse_layout_code(parsed[2])
            except ValueError:
                continue
            return parsed
    return None


def fit_homography(markers: Sequence[_Marker], paper: str, block: int) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """Homography from sheet mm to image px over every corner point of the markers.

    Returns the matrix, the mean misfit in mm and the corners used. A marker
    that disagrees with the others (a false detection) is dropped.
    """
    sheet = paper_geometry(paper)
    mm_points: list[tuple[float, float]] = []
    px_points: list[np.ndarray] = []
    names: list[str] = []
    by_corner = {m.marker_id - 4 * block: m for m in markers if m.marker_id // 4 == block}
    for index, corner in enumerate(CORNERS):
        found = by_corner.get(index)
        if found is None:
            continue
        printed = next(mk for mk in sheet.markers if mk.corner == corner)
        mm_points.extend(printed.corners_mm)
        px_points.extend(found.corners)
        names.append(corner)
    src = np.array(mm_points, np.float64)
    dst = np.array(px_points, np.float64)
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None:
        return np.eye(3), math.inf, tuple(names)
    residual = _residual_mm(matrix, src, dst)
    if residual > MAX_RESIDUAL_MM and len(names) == 4:
        best: tuple[np.ndarray, float, tuple[str, ...]] | None = None
        for drop in range(4):
            keep = [i for i in range(16) if i // 4 != drop]
            m2, _ = cv2.findHomography(src[keep], dst[keep], 0)
            if m2 is None:
                continue
            r2 = _residual_mm(m2, src[keep], dst[keep])
            if best is None or r2 < best[1]:
                best = (m2, r2, tuple(n for i, n in enumerate(names) if i != drop))
        if best is not None and best[1] < residual:
            return best
    return matrix, residual, tuple(names)


def _residual_mm(matrix: np.ndarray, src: np.ndarray, dst: np.ndarray) -> float:
    """Mean distance between the detected corners and the fitted ones, in sheet mm."""
    try:
        inverse = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return math.inf
    back = cv2.perspectiveTransform(dst.reshape(-1, 1, 2), inverse).reshape(-1, 2)
    return float(np.mean(np.linalg.norm(back - src, axis=1)))


def out_matrix(reg_matrix: np.ndarray, px_per_mm: float, origin_mm: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Map from output pixels (at ``px_per_mm``, from ``origin_mm``) to image pixels."""
    ox, oy = origin_mm
    # Output pixel centres sit at (u + 0.5) / scale millimetres.
    scale = np.array(
        [[1.0 / px_per_mm, 0.0, ox + 0.5 / px_per_mm], [0.0, 1.0 / px_per_mm, oy + 0.5 / px_per_mm], [0, 0, 1]]
    )
    return reg_matrix @ scale


def warp(
    image: np.ndarray,
    reg_matrix: np.ndarray,
    px_per_mm: float,
    rect_mm: geometry.Rect,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """The part ``rect_mm`` of the sheet, upright, at ``px_per_mm``; outside the image is white."""
    x0, y0, x1, y1 = rect_mm
    size = (round((x1 - x0) * px_per_mm), round((y1 - y0) * px_per_mm))
    matrix = out_matrix(reg_matrix, px_per_mm, (x0, y0))
    border = (255, 255, 255) if image.ndim == 3 else 255
    return cv2.warpPerspective(
        image,
        matrix,
        size,
        flags=interpolation | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def _rotation(matrix: np.ndarray) -> int:
    """How far the sheet's x axis is turned in the image, to the nearest 90 degrees."""
    pts = cv2.perspectiveTransform(np.array([[[50.0, 100.0]], [[150.0, 100.0]]]), matrix).reshape(2, 2)
    dx, dy = pts[1] - pts[0]
    return round(math.degrees(math.atan2(dy, dx)) / 90.0) % 4 * 90


_SERIAL_RE = re.compile(r"([0-9A-Z]{5,})-([0-9A-Z]{5,6})-([0-9A-Z*~$=])")
_OCR_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


SERIAL_READ_PX_PER_MM = (12.0, 9.0, 15.0)
"""The printed serial is read at these scales; two readings must agree (see ``agreed_serial``)."""


@lru_cache(maxsize=1)
def tesseract_available() -> bool:
    """Whether the Tesseract program that pytesseract calls can be found (once per process)."""
    try:
        import pytesseract
    except ImportError:
        return False
    return shutil.which(str(pytesseract.pytesseract.tesseract_cmd)) is not None


def read_printed_serial(gray: np.ndarray, matrix: np.ndarray, paper: str) -> str | None:
    """The serial printed beside the QR code, read with Tesseract and check-verified.

    A single check character catches one wrong character but lets about one
    garbled reading in 37 through, and repairing a reading (dropping a doubled
    stroke, undoing a common confusion) tries several candidates. So the
    serial is read at three scales, each reading gives its set of valid
    candidates, and a serial is accepted only when two readings stand for it
    and no two stand for another: a sheet may go unrecognised, it must never
    be taken for another.
    """
    try:
        import pytesseract
    except ImportError:
        return None
    sheet = paper_geometry(paper)
    x0, y0, x1, y1 = sheet.serial_rect_mm
    texts = []
    for px_per_mm in SERIAL_READ_PX_PER_MM:
        crop = warp(gray, matrix, px_per_mm, (x0, y0, x1 + 1.0, y1), cv2.INTER_AREA)
        try:
            text = pytesseract.image_to_string(
                crop,
                config="--psm 7 -c tessedit_char_whitelist=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-*~$=",
            )
        except Exception as exc:  # Tesseract missing or failing: no fallback then
            log.info("printed serial not read: %s", exc)
            return None
        texts.append(text)
    return agreed_serial(texts)


def agreed_serial(texts: Sequence[str]) -> str | None:
    """The one valid serial that two or more readings stand for, or None.

    None too when two readings agree on another serial as well: readings
    that can stand for several serials, or agree on different ones, are doubt.
    """
    votes: dict[str, set[object]] = {}
    for i, text in enumerate(texts):
        as_read = _as_read(text)
        # A repaired reading is evidence once per different text: Tesseract misreading
        # a serial the same way at two scales repairs it twice to the same candidate,
        # valid by chance one time in 37 per candidate tried (6NWRD read TGNWRD,
        # repaired to TGNRD). A serial read as printed counts at every scale.
        voter: object = i if as_read else _plain(text)
        for candidate in as_read or _repaired(text):
            votes.setdefault(candidate, set()).add(voter)
    agreed = [c for c, voters in votes.items() if len(voters) >= 2]
    return agreed[0] if len(agreed) == 1 else None


def _plain(text: str) -> str:
    return text.upper().replace(" ", "").strip()


def serial_candidates(text: str) -> set[str]:
    """The valid serials one OCR reading can stand for, most literal first.

    As read (the last five characters of the first group, the second of
    exactly five); else with one inserted character dropped
    from a group (a doubled stroke, or the label run into the serial); else
    with one commonly confused character replaced. Each step runs only when
    the one before found nothing.
    """
    return _as_read(text) or _repaired(text)


def _repaired(text: str) -> set[str]:
    """The valid serials a reading stands for once repaired (see :func:`serial_candidates`)."""
    matches = _groups(text)
    found = {
        c
        for a, b, check in matches
        for left in _readings(a[-6:])
        for right in _readings(b)
        for c in _valid(left, right, check)
    }
    if not found:
        found = {
            candidate
            for a, b, check in matches
            if len(b) == 5
            for candidate in confused_once(f"{a[-5:]}-{b}-{check}")
            if is_valid_serial(candidate)
        }
    return found


def _groups(text: str) -> list[tuple[str, str, str]]:
    """The serial-shaped groups of an OCR reading: (first, second, check)."""
    return [(m[1], m[2], m[3]) for m in _SERIAL_RE.finditer(text.upper().replace(" ", ""))]


def _valid(left: str, right: str, check: str) -> set[str]:
    """The serial as read, and with the usual letter-for-digit fixes, where the check character holds."""
    both = (f"{left}-{right}-{check}", f"{left}-{right}".translate(_OCR_FIXES) + f"-{check}")
    return {c for c in both if is_valid_serial(c)}


def _as_read(text: str) -> set[str]:
    """The valid serials a reading holds as printed (the first group's last five: the label
    before it runs into it, "SHEET6ESGF"), nothing repaired."""
    return {c for a, b, check in _groups(text) if len(b) == 5 for c in _valid(a[-5:], b, check)}


def _readings(part: str) -> set[str]:
    """Five-character readings of an OCR'd serial group: as read, or with one inserted character dropped.

    Tesseract sometimes doubles a stroke into an extra character (``0`` read
    ``O0``) or runs the label into the serial (``SHEET2YG07``).
    """
    if len(part) == 5:
        return {part}
    tail = part[-6:]
    return {tail[-5:]} | {tail[:i] + tail[i + 1 :] for i in range(len(tail))}


def register(image: np.ndarray, known: Sequence[KnownLayout] = ()) -> Registration | Unregistered:
    """Register a page: find its markers and code, fit the homography."""
    small, scale = downscaled(image)
    markers = find_markers(small, scale)
    texts = read_qr(small)
    payload = _payload(texts)
    blocks: dict[int, int] = {}
    for m in markers:
        blocks[m.marker_id // 4] = blocks.get(m.marker_id // 4, 0) + 1

    if payload is not None:
        block = geometry.marker_block(payload[2])
    elif blocks:
        block = max(blocks, key=lambda b: blocks[b])
    else:
        what = "a QR code of another kind" if texts else "no markers and no code"
        return Unregistered(f"foreign page: not a petition sheet ({what})", foreign=True)

    count = blocks.get(block, 0)
    if count < MIN_MARKERS:
        if payload is None and not texts and count <= 1:
            return Unregistered("foreign page: not a petition sheet (no code, no set of markers)", foreign=True)
        return Unregistered(f"only {count} of the 4 corner markers found; rescan the whole sheet flat", foreign=False)

    if payload is not None:
        papers = [geometry.parse_layout_code(payload[2]).paper]
    else:
        candidates = [k for k in known if geometry.marker_block(k.layout_code) == block]
        papers = sorted({geometry.parse_layout_code(k.layout_code).paper for k in candidates}) or ["A4"]
    matrix, residual, used = fit_homography(markers, papers[0], block)
    if not math.isfinite(residual) or residual > MAX_RESIDUAL_MM:
        return Unregistered(f"the corner markers do not fit a sheet (misfit {residual:.1f} mm)", foreign=False)

    id_source = "qr"
    if payload is None:
        gray = to_gray(image)  # full resolution: only a damaged code needs it
        payload = _qr_near(gray, matrix, papers[0])
    if payload is None:
        if not tesseract_available():
            return Unregistered(f"{NO_TESSERACT}; install it or rescan the sheet", foreign=False)
        serial = read_printed_serial(gray, matrix, papers[0])
        candidates = [k for k in known if geometry.marker_block(k.layout_code) == block]
        if serial is None or not candidates:
            why = "serial unreadable" if serial is None else "layout of its markers unknown"
            return Unregistered(f"QR code unreadable and {why}; rescan the sheet", foreign=False)
        payload = (candidates[0].campaign_id, serial, candidates[0].layout_code, "")
        id_source = "printed serial"
    elif geometry.marker_block(payload[2]) != block:
        return Unregistered("the QR code and the markers belong to different layouts", foreign=False)

    campaign_id, serial, code, branch = payload
    paper = geometry.parse_layout_code(code).paper
    if paper != papers[0]:
        matrix, residual, used = fit_homography(markers, paper, block)
    return Registration(
        campaign_id=campaign_id,
        serial=serial,
        layout_code=code,
        branch=branch,
        id_source=id_source,
        corners=used,
        homography=tuple(float(v) for v in (matrix / matrix[2, 2]).ravel()),
        rotation=_rotation(matrix),
        residual_mm=round(residual, 3),
    )


def _qr_near(gray: np.ndarray, matrix: np.ndarray, paper: str) -> tuple[str, str, str, str] | None:
    """Look for the QR code where the sheet has it, upright and enlarged."""
    sheet = paper_geometry(paper)
    x0, y0, x1, y1 = sheet.qr_rect_mm
    width = sheet.page_size_mm[0]
    for ppm in (10.0, 7.0):
        crop = warp(gray, matrix, ppm, (x0 - 10.0, max(0.0, y0 - 6.0), min(width, x1 + 8.0), y1 + 8.0), cv2.INTER_AREA)
        found = _payload(read_qr(crop))
        if found is not None:
            return found
        binary = cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 10)
        found = _payload(read_qr(binary))
        if found is not None:
            return found
    return None
