"""Render real pen trajectories as boxed letters on scanned paper.

The handwriting sets were written on tablets and rendered as hairlines; the
sheets we read are ballpoint or felt pen on paper, scanned, photocopied or
faxed. This module re-draws the recorded strokes with a realistic pen, places
them in printed-size letter boxes (slightly off-centre, sometimes crossing an
edge, with neighbours) and degrades the result toward real scans. Training,
the tests and the benchmark all use it, so they share one notion of "a
scanned letter".

Only numpy and OpenCV are needed; nothing here is used when reading sheets.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from petitionscan.geometry import box_gap_mm, box_height_mm, box_width_mm

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont, ImageFont

FIELD_MARGIN_MM = 1.5
PX_PER_MM = 8.0

# Whole UNIPEN labs set aside from training (writer id prefix before '-'):
VALIDATION_LABS = ("aga", "kai")
"""Writers that choose the best epoch, the temperature, the decoder and the threshold."""
TEST_LABS = ("tos", "imp", "syn", "pri")
"""Writers for the benchmark only, with every UJI writer; never used for a choice."""
TEST_FONTS = (
    "annie-use-your-telescope", "caveat-brush", "comic-neue", "crafty-girls", "delius",
    "edu-nsw-act-foundation", "edu-tas-beginner", "fuzzy-bubbles", "give-you-glory", "gochi-hand",
    "handlee", "itim", "kalam", "long-cang", "mouse-memoirs", "nanum-pen-script",
    "nothing-you-could-do", "pangolin", "permanent-marker", "rancho", "schoolbell",
    "shadows-into-light-two", "single-day", "solitreo", "sue-ellen-francisco", "unkempt",
    "walter-turncoat", "yusei-magic",
)  # fmt: skip
"""Handwriting fonts (``training/fetch_fonts.py``) held out of training: every third by name."""
FONT_WRITER = "font-"
"""Writer id prefix of a handwriting font's letters (then the font's file stem)."""
DRAWING_PEN = 0.08
"""Stroke width of the CoMNIST drawings as a share of their 56 px: a raster's default pen."""


def is_test_font(writer: str) -> bool:
    """Whether a writer id is one of the handwriting fonts held out of training."""
    return writer.startswith(FONT_WRITER) and writer[len(FONT_WRITER) :] in TEST_FONTS


# Cyrillic capitals drawn exactly like a Latin capital.
CYRILLIC_AS_LATIN = {
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H",
    "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
}  # fmt: skip

Strokes = list[np.ndarray]


@dataclass(frozen=True)
class Sample:
    """One handwritten letter: its label, writer and either strokes or a raster.

    ``raster_pen`` is a raster's stroke width as a share of its 56 px glyph
    height, so re-drawing it with another pen thins or thickens it by the
    right amount.
    """

    label: str
    writer: str
    strokes: tuple[np.ndarray, ...] | None = None
    raster: np.ndarray | None = None
    raster_pen: float = DRAWING_PEN


def load_stroke_file(path: Path, letters_only: bool = True) -> list[Sample]:
    """Read a ``*-strokes.jsonl.gz`` file (pen trajectories, y downwards)."""
    out: list[Sample] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            label = rec["label"]
            if letters_only and not ("A" <= label <= "Z"):
                continue
            if rec.get("suspect"):
                continue
            strokes = tuple(np.asarray(s, np.float32).reshape(-1, 2) for s in rec["strokes"] if s)
            if strokes:
                out.append(Sample(label, rec["writer"], strokes=strokes))
    return out


def load_cyrillic_lookalikes(path: Path) -> list[Sample]:
    """The Cyrillic capitals that look like Latin ones, as Latin-labelled rasters."""
    data = np.load(path)
    out: list[Sample] = []
    for img, label, group in zip(data["images"], data["labels"], data["writers"], strict=False):
        latin = CYRILLIC_AS_LATIN.get(str(label))
        if latin is not None:
            out.append(Sample(latin, "cyr-" + str(group), raster=np.asarray(img)))
    return out


PAPER_WRITER = "paper-"
"""Writer id prefix of the pen-on-paper capitals (then the SD19 partition)."""
PAPER_TRAIN_GROUP = "sd19-hsf4"
"""The pen-on-paper writers trained on; ``sd19-hsf0123`` is another population, held out."""


def is_paper(writer: str) -> bool:
    """Whether a writer id is a pen-on-paper capital (one sample, one id)."""
    return writer.startswith(PAPER_WRITER)


def paper_split(writer: str) -> str:
    """train / val / test of a pen-on-paper capital.

    hsf_4 trains. The other population is never trained on: letters at even
    positions of the file are validation (early stopping, temperature,
    calibration, threshold), odd ones test (benchmark only). The source is
    shuffled and keeps no writer ids, so the two halves are different
    letters of one population of writers, never letters of a trained writer.
    """
    group, _, index = writer[len(PAPER_WRITER) :].rpartition("-")
    if group == PAPER_TRAIN_GROUP:
        return "train"
    return "val" if int(index) % 2 == 0 else "test"


def is_lowercase_l(s: Sample) -> bool:
    """An L-labelled raster without a foot: a lower-case l, an I to any reader of capitals.

    The held-out paper letters merge upper and lower case for L (and 14 other
    letters whose cases look alike); about three in four of their L boxes hold
    an l. An L has a foot: its bottom fifth is at least 0.35 of its height
    wide and 1.6 times as wide as its top quarter (a slanted l is neither).
    """
    if s.label != "L" or s.raster is None:
        return False
    ys, xs = np.nonzero(s.raster < 128)
    if ys.size == 0:
        return False
    h = int(np.ptp(ys)) + 1

    def width(a: float, b: float) -> int:
        band = xs[(ys >= ys.min() + a * h) & (ys < ys.min() + b * h)]
        return int(np.ptp(band)) + 1 if band.size else 0

    foot = width(0.8, 1.01)
    return not (foot >= 0.35 * h and foot >= 1.6 * width(0.0, 0.25))


MISLABELLED_PAPER: dict[int, str] = {
    31961: "L box, a slanted stroke with no foot: a lower-case l the foot rule misses (train/104762)",
    32223: "L box, a looped script l: a lower-case l the foot rule misses (train/105271)",
    32785: "J box, a capital I with both bars (train/106276)",
    32885: "N box, a bare stroke: an I or a 1 (train/106467)",
    34406: "H box, an N (train/109188)",
    35575: "C box, a lower-case l (train/111300)",
    35962: "N box, a lower-case e (train/112023)",
}
"""Held-out pen-on-paper letters (index in ``emnist-upper.npz``; the source's EMNIST Balanced
file in brackets) whose image is another character than their label.

Found by looking, one by one, at the 158 held-out letters the shipped network
did not read as labelled when rendered clean, and at every L the foot rule
keeps (the looped l): kept out only where the image is plainly another
character, not where it is a poor or unusual shape of the letter (a D with
a thin side, a rounded V, an f-like F, an angular C, a script capital L
stay). Seven of 5,052; five in the test half. In the page benchmark one
such glyph weighs heavily: a hand holds about three samples of a letter, so
the bare stroke in an N box wrote every third N of its hands as an I.
"""


def is_doubtful(s: Sample) -> bool:
    """A held-out paper letter whose label its image does not bear out: a lower-case l in an L
    box (:func:`is_lowercase_l`) or one of :data:`MISLABELLED_PAPER`. Left out of the hands that
    write validation and test names; the letter benchmark gives its accuracy with and without them."""
    if not is_paper(s.writer):
        return False
    held_out = paper_split(s.writer) != "train"
    return (held_out and int(s.writer.rpartition("-")[2]) in MISLABELLED_PAPER) or is_lowercase_l(s)


def load_paper_letters(path: Path, groups: Iterable[str] | None = None) -> list[Sample]:
    """Capitals hand-printed on paper forms (``emnist-upper.npz``) as rasters like the drawings'.

    The source frames each letter in 20 of 28 px, blurred; here it is
    cropped to its ink, scaled up to fit 56 px in 64 x 64 (as the other
    rasters are) and its stroke width measured, so re-drawing it with another
    pen thins or thickens it by the right amount. Each sample's writer id is
    :data:`PAPER_WRITER`, the partition and its index in the file: the source
    keeps no writer ids, only two disjoint writer populations.
    """
    wanted = None if groups is None else set(groups)
    out: list[Sample] = []
    with np.load(path) as data:
        images, labels, writers = data["images"], data["labels"], data["writers"]
        for i, (img, label, group) in enumerate(zip(images, labels, writers, strict=True)):
            if wanted is not None and str(group) not in wanted:
                continue
            fitted = _fit_raster(255 - np.asarray(img), cv2.INTER_CUBIC, 0.02, min_ink=4)
            if fitted is not None:
                out.append(Sample(str(label), f"{PAPER_WRITER}{group}-{i}", raster=fitted[0], raster_pen=fitted[1]))
    return out


def cyrillic_split(group: str) -> str:
    """train / val / test of a Cyrillic drawing by its session group (``cyrillic.npz`` ``writers``).

    The source keeps no writer ids, only sessions of drawings made close in
    time; whole sessions are held out: every fifth for test, the next for
    validation. The few drawings with no session (the source's pool of
    letters shared with Latin) train.
    """
    if not group.isdigit():
        return "train"
    k = int(group) % 5
    return "test" if k == 0 else "val" if k == 1 else "train"


def kazakh_split(index: int) -> str:
    """train / val / test of a Kazakh-letter drawing (``kazakh.npz``), by its place in the file.

    The source has no writer or session ids at all: every tenth drawing is
    test, the next validation.
    """
    k = index % 10
    return "test" if k == 0 else "val" if k == 1 else "train"


KAZAKH_BASES = {"Ғ": "Г", "Қ": "К", "Ң": "Н", "Ө": "О", "Ұ": "Y", "Ү": "Y", "І": "I"}
"""Kazakh capitals written as a base letter plus a mark (bar or tail); Ә and Һ have their own shapes."""


def kazakh_capital(base: Sample, letter: str, rng: np.random.Generator) -> Sample:
    """A Kazakh capital from a real base letter: Ғ = Г with a bar, Қ = К with a tail, ...

    The only Kazakh drawings to be had are mostly lower-case mouse drawings;
    a capital on paper is its base letter with a mark, so the base letter's
    real hand (strokes or raster) is kept and the mark is drawn into it with
    the same pen. Ү and І are their bases' shapes (Latin Y and I).
    """
    made = Sample(letter, base.writer, base.strokes, base.raster, base.raster_pen)
    if letter in ("Ү", "І"):
        return made
    room = "below" if letter in ("Қ", "Ң") else None  # the tail goes below the letter
    return _with_mark(made, lambda lo, hi: [_kazakh_mark(letter, lo, hi, rng)], room, size=54)


def _kazakh_mark(letter: str, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The extra stroke of a Kazakh capital, in the base letter's coordinates (y down)."""
    w, h = hi - lo
    u = lambda fx, fy: lo + np.array([fx * w, fy * h], np.float32)  # noqa: E731
    if letter == "Ғ":  # a bar across the stem, about mid-height
        y = float(rng.uniform(0.45, 0.6))
        return np.array([u(-0.2, y), u(0.45, y + rng.normal(0, 0.02))], np.float32)
    if letter in ("Қ", "Ң"):  # a short tail down from the right foot
        x = float(rng.uniform(0.9, 1.02))
        return np.array([u(x, 0.97), u(x + rng.uniform(0.0, 0.08), 1.18 + rng.uniform(0, 0.08))], np.float32)
    if letter == "Ө":  # a bar across the middle of the O
        y = float(rng.uniform(0.45, 0.55))
        return np.array([u(0.05, y), u(0.95, y + rng.normal(0, 0.02))], np.float32)
    if letter == "Ұ":  # a bar across the stem of the Y, below its fork
        y = float(rng.uniform(0.55, 0.72))
        return np.array([u(0.2, y), u(0.8, y + rng.normal(0, 0.02))], np.float32)
    raise ValueError(f"no mark for {letter!r}")


RUSSIAN_FROM_LATIN = {
    "И": ("N", "mirror"), "Я": ("R", "mirror"), "Г": ("L", "flip"), "Ь": ("P", "flip"),
    "Ш": ("E", "turn"), "Э": ("C", "mirror"), "Л": ("V", "flip"), "Ц": ("U", "same"),
    "Щ": ("E", "turn"), "Й": ("N", "mirror"), "Ё": ("E", "same"), "Ъ": ("P", "flip"),
}  # fmt: skip
"""Russian capitals drawn as a Latin capital mirrored (left-right), flipped (upside down),
turned a quarter left (E's spine becomes Ш's foot) or as it is, some with a mark added:
Э a mirrored C with its bar, Ц a U and Щ a Ш with a tail, Й an И with a breve, Ё an E
with dots, Ъ an upside-down P with a flag."""
MADE_RUSSIAN = "ИЯГЬШЭ"
"""The made capitals the shipped Cyrillic network learns from; the other six were tried
and made it surer of its mistakes (model card)."""


def russian_capital(base: Sample, letter: str, rng: np.random.Generator) -> Sample:
    """A Russian capital made from a real Latin letter: И is a mirrored N, Г an upside-down L, ...

    The only Russian capitals to be had apart from the shared shapes are
    touch-screen drawings; pen-on-paper and tablet letters of the Latin
    sources give these shapes as a pen draws them on paper, with the
    writer's own pressure, wobble and proportions kept. A mark (a bar, a
    tail, a breve, dots, a flag) is drawn into the letter with the same pen.
    """
    how = RUSSIAN_FROM_LATIN[letter][1]
    if base.strokes is not None:
        turned = tuple(_turn_points(s, how) for s in base.strokes)
        made = Sample(letter, base.writer, turned, None, base.raster_pen)
    else:
        assert base.raster is not None
        if how == "turn":
            raster = np.ascontiguousarray(np.rot90(base.raster, 1))
        elif how == "same":
            raster = base.raster
        else:
            raster = cv2.flip(base.raster, 1 if how == "mirror" else 0)
        made = Sample(letter, base.writer, None, raster, base.raster_pen)
    if letter not in RUSSIAN_MARKED:
        return made
    return _with_mark(made, lambda lo, hi: _russian_mark(letter, lo, hi, rng), RUSSIAN_MARKED[letter], size=50)


RUSSIAN_MARKED = {"Э": None, "Ц": "below", "Щ": "below", "Й": "above", "Ё": "above", "Ъ": None}
"""The made Russian capitals with a mark of their own, and where the mark needs room."""


def _russian_mark(letter: str, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The extra strokes of a made Russian capital, in the turned letter's coordinates (y down)."""

    def at(*points: tuple[float, float]) -> np.ndarray:
        return lo + (hi - lo) * np.array(points)

    if letter == "Э":  # the bar, from the open side's middle to the back
        y = float(rng.uniform(0.45, 0.55))
        return [at((0.3, y), (0.92, y + float(rng.normal(0, 0.02))))]
    if letter in ("Ц", "Щ"):  # a short tail down from the right foot
        x = float(rng.uniform(0.94, 1.02))
        return [at((x, 0.82), (x, 1.0), (x + float(rng.uniform(0.0, 0.06)), 1.2 + float(rng.uniform(0, 0.1))))]
    if letter == "Й":  # a breve: a small cup above the letter
        top = float(rng.uniform(-0.26, -0.18))
        return [at(*((float(x), top + 0.1 * (1 - ((x - 0.5) / 0.2) ** 2)) for x in np.linspace(0.3, 0.7, 7)))]
    if letter == "Ё":  # two dots above
        y = float(rng.uniform(-0.2, -0.12))
        return [at((x, y), (x + 0.03, y + 0.01)) for x in (0.3, float(rng.uniform(0.6, 0.72)))]
    if letter == "Ъ":  # a flag to the left of the stem's top
        return [at((-0.38, 0.03 + float(rng.normal(0, 0.02))), (0.04, 0.0))]
    raise ValueError(f"no mark for {letter!r}")


def _turn_points(points: np.ndarray, how: str) -> np.ndarray:
    """Pen points (x, y down) mirrored, flipped, turned a quarter left or as they are."""
    x, y = points[:, 0], points[:, 1]
    if how == "mirror":
        return np.stack([-x, y], axis=1).astype(np.float32)
    if how == "flip":
        return np.stack([x, -y], axis=1).astype(np.float32)
    if how == "same":
        return points
    return np.stack([y, -x], axis=1).astype(np.float32)  # turn: the left side goes to the bottom


def _with_mark(
    sample: Sample,
    marks_at: Callable[[np.ndarray, np.ndarray], list[np.ndarray]],
    room: str | None = None,
    size: int = 50,
) -> Sample:
    """``sample`` with more pen strokes, placed by ``marks_at(lo, hi)`` in its ink's box, in its own pen.

    A raster is framed with the letter filling its height, so a mark with
    ``room`` "below" or "above" it is made room for by shrinking the letter
    to ``size`` of the frame's 64 px (Kazakh tails 54, Russian marks 50).
    """
    if sample.strokes is not None:
        pts = np.concatenate(sample.strokes)
        marks = [m.astype(np.float32) for m in marks_at(pts.min(axis=0), pts.max(axis=0))]
        return Sample(sample.label, sample.writer, (*sample.strokes, *marks), None, sample.raster_pen)
    assert sample.raster is not None
    ys, xs = np.nonzero(sample.raster < 128)
    lo = np.array([xs.min(), ys.min()], np.float32)
    hi = np.array([xs.max(), ys.max()], np.float32)
    marks = marks_at(lo, hi)
    raster = sample.raster.copy()
    if room is not None:
        small = cv2.resize(raster, (size, size), interpolation=cv2.INTER_AREA)
        raster = np.full_like(raster, 255)
        left, top = (64 - size) // 2, 0 if room == "below" else 64 - size
        raster[top : top + size, left : left + size] = small
        marks = [m * (size / 64) + np.array([left, top], np.float32) for m in marks]
    width = max(1, round(sample.raster_pen * 56))
    for m in marks:
        cv2.polylines(raster, [m.round().astype(np.int32).reshape(-1, 1, 2)], False, 0, width, cv2.LINE_AA)
    return Sample(sample.label, sample.writer, None, raster, sample.raster_pen)


def _fit_raster(
    ink: np.ndarray, interpolation: int, min_pen: float, min_ink: int = 1
) -> tuple[np.ndarray, float] | None:
    """Ink (bright on dark) cropped, fitted into 56 px, centred in 64 x 64 dark on white, and its pen measured.

    Every raster source is framed like the drawings, so one pen rule re-draws them all.
    """
    ys, xs = np.nonzero(ink > 40)
    if ys.size < min_ink:
        return None
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    f = 56.0 / max(ink.shape)
    ink = cv2.resize(
        ink, (max(1, round(ink.shape[1] * f)), max(1, round(ink.shape[0] * f))), interpolation=interpolation
    )
    raster = np.zeros((64, 64), np.uint8)
    y0, x0 = (64 - ink.shape[0]) // 2, (64 - ink.shape[1]) // 2
    raster[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]] = ink
    pen = float(np.clip(_stroke_width_px(ink) / 56.0, min_pen, 0.3))
    return 255 - raster, pen


def drawing_pen(raster: np.ndarray) -> float:
    """A drawing's own stroke width as a share of its 56 px (dark ink on white, as the sets store it).

    The Kazakh drawings were made with a mouse in hairlines, about half the
    Cyrillic drawings' width (:data:`DRAWING_PEN`): re-drawn as if they were
    that wide, a thin pen erodes them to broken specks and a letter vanishes
    from its box.
    """
    return float(np.clip(_stroke_width_px(255 - np.asarray(raster)) / 56.0, 0.02, 0.3))


def hairline_drawing(label: str, writer: str, raster: np.ndarray) -> Sample:
    """A Kazakh drawing as a sample that is re-drawn from its own width (:func:`drawing_pen`)."""
    raster = np.asarray(raster)
    return Sample(label, writer, raster=raster, raster_pen=drawing_pen(raster))


def stroke_width(mask: np.ndarray) -> float | None:
    """Mean stroke width in pixels of a 0/1 ink mask: its area over half its outline
    (a long stroke's two sides); None for a mask without ink.

    One measure for the renderer (:func:`drawing_pen`) and the simulator, so a
    drawing is taken for as wide by both.
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(np.count_nonzero(mask)) / outline if outline > 0 else None


def _stroke_width_px(ink: np.ndarray) -> float:
    """A drawing's stroke width (:func:`stroke_width`; the usual drawing's for an empty one)."""
    width = stroke_width(ink > 127)
    return DRAWING_PEN * 56 if width is None else width


NOT_A_LETTER = "\ue000"
"""A private-use code point no font draws: what a font's missing letter looks like."""


def drawn_letters(font: FreeTypeFont | ImageFont, letters: str) -> str:
    """Those of ``letters`` a Pillow font draws itself rather than as its box for missing letters.

    Web fonts come split into subsets (Russian letters in one file, Kazakh ones
    in another): a letter read from the wrong file would be an empty box
    labelled as a letter. The missing-letter box is drawn once per font.
    """
    from PIL import Image, ImageDraw

    size = int(getattr(font, "size", 64))

    def ink(c: str) -> np.ndarray:
        img = Image.new("L", (size * 3, size * 3), 0)
        ImageDraw.Draw(img).text((size, size // 2), c, font=font, fill=255)
        return np.asarray(img)

    missing = ink(NOT_A_LETTER)
    return "".join(c for c in letters if not np.array_equal(ink(c), missing))


def load_font_letters(folder: Path, letters: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ") -> list[Sample]:
    """The capitals A-Z (or ``letters``) of every handwriting font (``*.woff``, ``*.ttf``) in ``folder``.

    A lower-case letter among ``letters`` is labelled as its capital: some
    people fill capital-letter boxes with lower-case shapes (a j, a k, a y).

    A handwriting font is one designer's capitals, many made from their own
    pen or marker writing: one more writer, from a source other than the
    tablet recordings.
    Rasters are made like the drawing sets': ink fitted into 56 px, centred in
    64 x 64, dark on white, with the stroke width measured. The writer id is
    :data:`FONT_WRITER` and the file stem.
    """
    from PIL import Image, ImageDraw, ImageFont

    out: list[Sample] = []
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".woff", ".ttf", ".otf"))
    for path in paths:
        font = ImageFont.truetype(str(path), 160)
        for ch in drawn_letters(font, letters):
            page = Image.new("L", (480, 400), 0)
            ImageDraw.Draw(page).text((120, 80), ch, font=font, fill=255)
            fitted = _fit_raster(np.asarray(page), cv2.INTER_AREA, 0.01)
            if fitted is not None:
                out.append(Sample(ch.upper(), FONT_WRITER + path.stem, raster=fitted[0], raster_pen=fitted[1]))
    return out


def field_layout(n_boxes: int, px_per_mm: float = PX_PER_MM) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Image size and box rectangles of a field cut out as the scan stage does."""
    m = FIELD_MARGIN_MM
    boxes = []
    for i in range(n_boxes):
        x0 = m + i * (box_width_mm + box_gap_mm)
        boxes.append(
            (
                round(x0 * px_per_mm),
                round(m * px_per_mm),
                round((x0 + box_width_mm) * px_per_mm),
                round((m + box_height_mm) * px_per_mm),
            )
        )
    width = round((2 * m + n_boxes * box_width_mm + (n_boxes - 1) * box_gap_mm) * px_per_mm)
    height = round((2 * m + box_height_mm) * px_per_mm)
    return width, height, boxes


def _affine(slant: float, angle: float, aspect: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]], np.float32)
    shear = np.array([[1.0, -np.tan(slant)], [0.0, 1.0]], np.float32)
    return rot @ shear @ np.diag([aspect, 1.0]).astype(np.float32)


def _ink_from_strokes(
    strokes: Sequence[np.ndarray],
    height: float,
    max_width: float,
    pen: float,
    a: np.ndarray,
    rng: np.random.Generator,
    warp: float = 0.0,
    stroke_jitter: float = 0.0,
) -> np.ndarray:
    ss = 4
    if stroke_jitter > 0.0 and len(strokes) > 1:
        strokes = _jitter_strokes(strokes, stroke_jitter, rng)
    pts = [s @ a.T for s in strokes]
    allp = np.concatenate(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    ext = np.maximum(hi - lo, 1e-3)
    if warp > 0.0:
        # A smooth random bend of the whole letter: another hand, same letter.
        size = float(ext.max())
        f = rng.uniform(0.5, 1.5, 4)
        ph = rng.uniform(0.0, 2 * np.pi, 4)
        amp = warp * size * rng.uniform(0.3, 1.0, 2)
        bent = []
        for p in pts:
            u = (p - lo) / size
            d = np.stack(
                [
                    amp[0] * np.sin(2 * np.pi * f[0] * u[:, 1] + ph[0]) * np.cos(np.pi * f[1] * u[:, 0] + ph[1]),
                    amp[1] * np.sin(2 * np.pi * f[2] * u[:, 0] + ph[2]) * np.cos(np.pi * f[3] * u[:, 1] + ph[3]),
                ],
                axis=1,
            )
            bent.append((p + d).astype(np.float32))
        pts = bent
        allp = np.concatenate(pts)
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        ext = np.maximum(hi - lo, 1e-3)
    scale = height / ext[1]
    if ext[0] * scale > max_width:
        scale = max_width / ext[0]
    if ext[1] < 0.05 * ext[0]:  # a flat stroke: keep it flat, not a huge smear
        scale = min(scale, max_width / ext[0])
    thick = max(1, round(pen * height * ss))
    pad = thick + 2
    w = int(np.ceil(ext[0] * scale * ss)) + 2 * pad
    h = int(np.ceil(ext[1] * scale * ss)) + 2 * pad
    canvas = np.zeros((h, w), np.uint8)
    for p in pts:
        q = ((p - lo) * scale * ss + pad).round().astype(np.int32)
        if len(q) == 1 or np.ptp(q, axis=0).max() == 0:
            cv2.circle(canvas, (int(q[0, 0]), int(q[0, 1])), max(1, thick // 2), 255, -1, cv2.LINE_AA)
        else:
            cv2.polylines(canvas, [q.reshape(-1, 1, 2)], False, 255, thick, cv2.LINE_AA)
    out = cv2.resize(canvas, (max(1, w // ss), max(1, h // ss)), interpolation=cv2.INTER_AREA)
    return out.astype(np.float32) / 255.0


def _jitter_strokes(strokes: Sequence[np.ndarray], amount: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Each pen stroke moved, turned and resized a little on its own.

    People place the parts of a letter differently (an A's bar high or low, an
    N's diagonal steep or flat, a K's arms apart): moving whole strokes makes
    such variants of a real letter, which a transform of the whole glyph cannot.
    """
    allp = np.concatenate(strokes)
    size = float(np.ptp(allp, axis=0).max()) or 1.0
    out = []
    for st in strokes:
        c = st.mean(axis=0)
        ang = float(rng.normal(0.0, amount))
        k = float(np.exp(rng.normal(0.0, amount)))
        rot = k * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
        shift = rng.normal(0.0, amount * size, 2).astype(np.float32)
        out.append(((st - c) @ rot.T + c + shift).astype(np.float32))
    return out


def _ink_from_raster(
    raster: np.ndarray,
    current: float,
    height: float,
    max_width: float,
    pen: float,
    a: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    ink: np.ndarray = (255.0 - raster.astype(np.float32)) / 255.0
    ys, xs = np.nonzero(ink > 0.2)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    ink = cv2.copyMakeBorder(ink, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=0.0)
    # Thin or thicken the drawing's own stroke toward the wanted pen; thin it
    # by at most half, or a drawing's thinner parts (a font's hairline bar)
    # would vanish.
    k = round(abs(pen - current) * 56 / 2)
    if pen < current:
        k = min(k, int(current * 56 / 4))
    if k > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        ink = cv2.erode(ink, kernel) if pen < current else cv2.dilate(ink, kernel)
    h0, w0 = ink.shape
    m = np.hstack([a, np.zeros((2, 1), np.float32)])
    corners = np.array([[0, 0], [w0, 0], [0, h0], [w0, h0]], np.float32) @ a.T
    lo = corners.min(axis=0)
    m[:, 2] = -lo
    size = corners.max(axis=0) - lo
    ink = cv2.warpAffine(ink, m, (int(np.ceil(size[0])), int(np.ceil(size[1]))))
    ys, xs = np.nonzero(ink > 0.2)
    if ys.size == 0:
        return np.zeros((2, 2), np.float32)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = height / ink.shape[0]
    if ink.shape[1] * scale > max_width:
        scale = max_width / ink.shape[1]
    nh = max(1, round(ink.shape[0] * scale))
    nw = max(1, round(ink.shape[1] * scale))
    return cv2.resize(ink, (nw, nh), interpolation=cv2.INTER_AREA)


def letter_ink(
    sample: Sample,
    height: float,
    max_width: float,
    rng: np.random.Generator,
    plain: bool = False,
    stroke_jitter: float = 0.0,
) -> np.ndarray:
    """The ink (0..1) of one letter, ``height`` px high, with a random pen and hand.

    ``stroke_jitter`` (training) moves each pen stroke on its own by about
    that share of the letter's size.
    """
    pen = 0.05 if plain else float(rng.uniform(0.03, 0.12))
    if plain:
        a = np.eye(2, dtype=np.float32)
    else:
        a = _affine(
            float(rng.normal(0.0, 0.12)),
            float(rng.normal(0.0, 0.06)),
            float(np.exp(rng.normal(0.0, 0.1))),
        )
    if sample.strokes is not None:
        warp = 0.0 if plain or rng.random() < 0.3 else 0.05
        return _ink_from_strokes(sample.strokes, height, max_width, pen, a, rng, warp, stroke_jitter)
    assert sample.raster is not None
    return _ink_from_raster(sample.raster, sample.raster_pen, height, max_width, pen, a, rng)


def _paste(canvas: np.ndarray, ink: np.ndarray, x: int, y: int, dark: float) -> None:
    h, w = ink.shape
    ch, cw = canvas.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(cw, x + w), min(ch, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    part = ink[y0 - y : y1 - y, x0 - x : x1 - x] * dark
    canvas[y0:y1, x0:x1] = np.maximum(canvas[y0:y1, x0:x1], part)


def render_field(
    letters: Sequence[Sample | None],
    rng: np.random.Generator,
    degrade: bool = True,
    px_per_mm: float = PX_PER_MM,
    scan_marks: bool = False,
    stroke_jitter: float = 0.0,
) -> tuple[np.ndarray, tuple[tuple[int, int, int, int], ...], tuple[bool, ...]]:
    """A field image as the scan stage cuts it out: grey, ink dark, lines removed.

    ``None`` entries are blank boxes. With ``degrade`` the pen, placement and
    paper vary widely; without it letters are clean, centred, medium-sized.
    ``scan_marks`` (training) adds what the scan stage's line removal and
    thresholding leave on real crops: strokes broken where they ran along a
    printed line, patchy ink, dotted box outlines and specks. It is off by
    default so the benchmark's conditions stay fixed; so is ``stroke_jitter``
    (see :func:`letter_ink`), applied to degraded letters only.
    Returns (image, boxes, blank).
    """
    width, height, boxes = field_layout(len(letters), px_per_mm)
    ink = np.zeros((height, width), np.float32)
    dark = 1.0 if not degrade else float(rng.uniform(0.55, 1.0))
    heights: list[float] = []
    for (x0, y0, x1, y1), sample in zip(boxes, letters, strict=False):
        if sample is None:
            continue
        bw, bh = x1 - x0, y1 - y0
        rel = 0.72 if not degrade else float(np.clip(rng.normal(0.72, 0.13), 0.4, 1.05))
        g = letter_ink(
            sample,
            rel * bh,
            (1.1 if degrade else 0.9) * bw,
            rng,
            plain=not degrade,
            stroke_jitter=stroke_jitter if degrade else 0.0,
        )
        gh, gw = g.shape
        heights.append(gh)
        cx = (x0 + x1) / 2.0 + (0.0 if not degrade else rng.normal(0.0, 0.07) * bw)
        cy = (y0 + y1) / 2.0 + (0.0 if not degrade else rng.normal(0.0, 0.08) * bh)
        _paste(ink, g, round(cx - gw / 2), round(cy - gh / 2), dark)
    if not degrade:
        img = 255.0 * (1.0 - ink)
        return np.clip(img, 0, 255).astype(np.uint8), tuple(boxes), tuple(s is None for s in letters)
    if scan_marks:
        ink = _scan_marks(ink, boxes, rng)
    img = _degrade(ink, boxes, heights, rng, px_per_mm)
    return img, tuple(boxes), tuple(s is None for s in letters)


def _scan_marks(ink: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], rng: np.random.Generator) -> np.ndarray:
    """Marks of the scan stage seen on cut-out fields: gaps, patchy ink, dotted outlines."""
    h, w = ink.shape
    ink = ink.copy()
    if rng.random() < 0.35:
        # Line removal turns a pixel on a printed line to paper unless ink
        # continues across it: strokes running along a box edge lose pieces.
        t = int(rng.integers(1, 3))
        for x0, y0, x1, y1 in boxes:
            for e in (y0, y1):
                if rng.random() < 0.5:
                    ink[max(0, e - t // 2) : e + t - t // 2, :] *= float(rng.uniform(0.0, 0.4))
            for e in (x0, x1):
                if rng.random() < 0.5:
                    ink[:, max(0, e - t // 2) : e + t - t // 2] *= float(rng.uniform(0.0, 0.4))
    if rng.random() < 0.35:
        # Patchy ink (dry pen, light pressure, a threshold close to the ink).
        noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), float(rng.uniform(0.8, 2.0)))
        noise = (noise - noise.mean()) / (noise.std() + 1e-6)
        cut = float(rng.uniform(-2.5, -0.8))
        ink = ink * np.clip((noise - cut) * 1.5, 0.0, 1.0)
    if rng.random() < 0.3:
        # Faint dotted outlines of every box, written or not.
        level = float(rng.uniform(0.15, 0.6))
        step = int(rng.integers(2, 5))
        dots = np.zeros_like(ink)
        for x0, y0, x1, y1 in boxes:
            dots[y0, x0:x1:step] = level
            dots[y1, x0:x1:step] = level
            dots[y0:y1:step, x0] = level
            dots[y0:y1:step, x1] = level
        ink = np.maximum(ink, dots)
    if rng.random() < 0.3:
        speck = rng.random((h, w)) < float(rng.uniform(0.0, 0.003))
        ink[speck] = np.maximum(ink[speck], float(rng.uniform(0.3, 1.0)))
    return ink


def _degrade(
    ink: np.ndarray,
    boxes: Sequence[tuple[int, int, int, int]],
    heights: Sequence[float],
    rng: np.random.Generator,
    px_per_mm: float,
) -> np.ndarray:
    h, w = ink.shape
    # Box-line remnants left by line removal: thin, grey or black, in pieces.
    if rng.random() < 0.6:
        lines = np.zeros_like(ink)
        level = float(rng.uniform(0.2, 1.0))
        t = int(rng.integers(1, 3))
        for x0, y0, x1, y1 in boxes:
            for seg in ((x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)):
                if rng.random() < 0.5:
                    continue
                a = float(rng.uniform(0.0, 0.6))
                b = float(rng.uniform(a + 0.2, 1.0))
                sx0 = int(seg[0] + a * (seg[2] - seg[0]))
                sy0 = int(seg[1] + a * (seg[3] - seg[1]))
                sx1 = int(seg[0] + b * (seg[2] - seg[0]))
                sy1 = int(seg[1] + b * (seg[3] - seg[1]))
                off = int(rng.integers(-1, 2))
                cv2.line(lines, (sx0 + off, sy0 + off), (sx1 + off, sy1 + off), level, t)
        ink = np.maximum(ink, lines)
    paper = float(rng.uniform(215.0, 255.0))
    img: np.ndarray = paper * (1.0 - ink)
    if rng.random() < 0.25:  # uneven light or toner
        gx = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
        img = img - float(rng.uniform(0.0, 40.0)) * gx
    # Resolution: letters only 15-25 px high at the scan, resampled back up.
    if heights and rng.random() < 0.7:
        target = float(rng.uniform(15.0, 25.0))
        f = min(1.0, target / float(np.median(heights)))
        if f < 0.95:
            small = cv2.resize(img, (max(2, int(w * f)), max(2, int(h * f))), interpolation=cv2.INTER_AREA)
            interp = cv2.INTER_LINEAR if rng.random() < 0.5 else cv2.INTER_CUBIC
            img = cv2.resize(small, (w, h), interpolation=interp)
    sigma = float(rng.uniform(0.0, 1.2))
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = img + rng.normal(0.0, float(rng.uniform(0.0, 10.0)), img.shape).astype(np.float32)
    mode = rng.random()
    # A scanner's bitonal threshold sits between the ink and the paper.
    cut = paper - float(rng.uniform(0.25, 0.6)) * (paper - float(np.percentile(img, 0.5)))
    if mode < 0.2:  # bitonal scan
        img = np.where(img < cut, 0.0, 255.0).astype(np.float32)
    elif mode < 0.3:  # fax: half vertical resolution, bitonal, speckles
        half = cv2.resize(img, (w, max(2, h // 2)), interpolation=cv2.INTER_AREA)
        half = np.where(half < cut, 0.0, 255.0).astype(np.float32)
        img = cv2.resize(half, (w, h), interpolation=cv2.INTER_NEAREST)
        speck = rng.random(img.shape) < float(rng.uniform(0.0, 0.004))
        img[speck] = 0.0
    elif mode < 0.45:  # photocopy: contrast boost, grey toner, specks
        img = np.clip((img - 60.0) * float(rng.uniform(1.1, 1.6)), 0, 255)
        speck = rng.random(img.shape) < float(rng.uniform(0.0, 0.002))
        img[speck] = float(rng.uniform(0.0, 120.0))
    img8: np.ndarray = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.35:
        q = int(rng.integers(25, 80))
        ok, enc = cv2.imencode(".jpg", img8, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            img8 = np.asarray(cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE), np.uint8)
    return img8


def writer_letters(samples: Iterable[Sample]) -> dict[str, dict[str, list[Sample]]]:
    """Samples grouped by writer, then by letter (to write names in one hand)."""
    out: dict[str, dict[str, list[Sample]]] = {}
    for s in samples:
        out.setdefault(s.writer, {}).setdefault(s.label, []).append(s)
    return out
