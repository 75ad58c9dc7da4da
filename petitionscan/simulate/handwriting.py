"""Handwritten capitals: glyphs from real pen strokes, drawn as ballpoint or felt pen.

Glyphs come from the pen trajectories in the shared handwriting folder, but
only from writers the recognizer never trains on (:data:`HELD_OUT_UNIPEN_LABS`
and the UJI1 set), so benchmarks on simulated sheets measure generalisation.
Cyrillic capitals come from the drawings of the held-out (test) sessions of
the Cyrillic set, one hand per session. That folder is not part of the
project; without it, the reduced strokes of the UJI1 writers that ship in the
package (``hands.json.gz``, CC BY 4.0) stand in for Latin, and the package's
DejaVu Sans for Cyrillic, so the simulator and the demo work on any laptop.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from petitionscan.alphabets import CYRILLIC, KAZAKH
from petitionscan.recognize.render import (
    KAZAKH_BASES,
    VALIDATION_LABS,
    Sample,
    cyrillic_split,
    drawn_letters,
    kazakh_capital,
    kazakh_split,
    stroke_width,
)

HANDWRITING_ENV = "PETITIONSCAN_HANDWRITING"
# UNIPEN labs kept out of the recognizer's training data (writer id prefix before '-').
HELD_OUT_UNIPEN_LABS = ("tos", "imp")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Held-out writers whose "capitals" are joined-up script, not the block capitals the sheet asks for.
SCRIPT_WRITERS = frozenset({"imp-boskovic", "imp-vine"})

PACKAGED_STROKES = "hands.json.gz"  # built by training/build_demo_hands.py
FALLBACK_FONT = "DejaVuSans.ttf"  # shipped in petitionscan/fontfiles


@dataclass(frozen=True, eq=False)
class Glyph:
    """One written character, normalised to height 1 with its top-left at (0, 0).

    A stroke glyph keeps the pen trajectory (``strokes``); a font glyph is a
    coverage ``mask`` of height :data:`MASK_HEIGHT`. ``width`` is width/height.
    """

    char: str
    width: float
    strokes: tuple[np.ndarray, ...] = ()
    mask: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class WriterHand:
    """The glyphs of one real writer (or one font), by character."""

    writer_id: str
    source: str  # "unipen", "uji1", "cyrillic" or "font"
    glyphs: dict[str, tuple[Glyph, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Pen:
    """What the signer writes with: ink colour, line width and pressure."""

    kind: str  # "ballpoint" or "felt"
    color: tuple[int, int, int]
    width_mm: float
    pressure: float  # mean ink density, 0..1


MASK_HEIGHT = 96


def handwriting_dir() -> Path:
    """Where the pen strokes are: the env var, else ``../shared/handwriting`` beside a source checkout.

    An installed package has no checkout around it, so there the answer is a
    folder that does not exist and the shipped strokes are used.
    """
    env = os.environ.get(HANDWRITING_ENV)
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "pyproject.toml").is_file():
        return Path(os.devnull) / "no-handwriting-folder"
    return checkout.parent / "shared" / "handwriting"


def _normalise(char: str, strokes: list[list[list[float]]]) -> Glyph | None:
    arrays = []
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=np.float32).reshape(-1, 2)
        if len(pts) == 0:
            continue
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(np.diff(pts, axis=0) != 0, axis=1)
        pts = pts[keep]
        if len(pts) >= 3:  # a light moving average: paper strokes are smoother than tablets'
            sm = pts.copy()
            sm[1:-1] = (pts[:-2] + 2 * pts[1:-1] + pts[2:]) / 4
            pts = sm
        arrays.append(pts)
    if not arrays:
        return None
    allpts = np.concatenate(arrays)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    height = float(hi[1] - lo[1])
    width = float(hi[0] - lo[0])
    if height <= 0 or width / height > 3.0 or height / max(width, 1e-6) > 30:
        return None
    return Glyph(char, width / height, tuple(((a - lo) / height).astype(np.float32) for a in arrays))


def _read_jsonl(path: Path, prefixes: tuple[str, ...] | None) -> dict[str, dict[str, list[Glyph]]]:
    out: dict[str, dict[str, list[Glyph]]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if prefixes is not None and not any(f'"writer": "{p}-' in line for p in prefixes):
                continue
            obj = json.loads(line)
            label = obj.get("label", "")
            if label not in LETTERS or obj.get("suspect"):
                continue
            writer = str(obj["writer"])
            if prefixes is not None and writer.split("-", 1)[0] not in prefixes:
                continue
            if writer in SCRIPT_WRITERS:
                continue
            glyph = _normalise(label, obj["strokes"])
            if glyph is not None:
                out.setdefault(writer, {}).setdefault(label, []).append(glyph)
    return out


@lru_cache(maxsize=4)
def load_stroke_writers(
    folder: str, unipen_labs: tuple[str, ...] = HELD_OUT_UNIPEN_LABS, uji: bool = True
) -> tuple[WriterHand, ...]:
    """Held-out writers from the shared folder, or () when it is absent or unreadable.

    Other ``unipen_labs`` and ``uji=False`` serve a benchmark on other hands,
    such as the recognizer's validation writers.
    """
    base = Path(folder)
    sources: list[tuple[str, Path, tuple[str, ...] | None]] = [
        ("unipen", base / "unipen-strokes.jsonl.gz", unipen_labs)
    ]
    if uji:
        sources.append(("uji1", base / "uji1-strokes.jsonl.gz", None))
    hands: list[WriterHand] = []
    for name, path, prefixes in sources:
        if not path.is_file():
            continue
        try:
            by_writer = _read_jsonl(path, prefixes)
        except (OSError, ValueError, KeyError, EOFError):
            continue
        for writer in sorted(by_writer):
            glyphs = {c: tuple(g) for c, g in sorted(by_writer[writer].items())}
            if len(glyphs) >= 5:
                hands.append(WriterHand(writer, name, glyphs))
    return tuple(hands)


@lru_cache(maxsize=2)
def load_paper_writers(folder: str, split: str = "test", per_letter: int = 3) -> tuple[WriterHand, ...]:
    """Hands of pen-on-paper capitals (``emnist-upper.npz``) the recognizer never trained on.

    The letters of the held-out SD19 writers' ``split`` half
    (:func:`petitionscan.recognize.render.paper_split`) become mask glyphs.
    The source keeps no writer ids, so a hand is a random draw of
    ``per_letter`` letters each, seeded: names are written in real pen on
    paper, each letter by some writer of that population. A letter whose
    label its image does not bear out is left out (``render.is_doubtful``):
    a lower-case l in an L box (the sheet asks for capitals, and it reads I)
    and the few that show another character (a bare stroke in an N box).
    """
    from petitionscan.recognize.render import is_doubtful, load_paper_letters, paper_split

    path = Path(folder) / "emnist-upper.npz"
    if not path.is_file():
        return ()
    samples = [
        s for s in load_paper_letters(path, ["sd19-hsf0123"]) if paper_split(s.writer) == split and not is_doubtful(s)
    ]
    by_letter: dict[str, list[Glyph]] = {}
    for s in samples:
        assert s.raster is not None
        cover = np.clip(((255.0 - s.raster.astype(np.float32)) / 255.0 - 0.15) / 0.55, 0.0, 1.0)
        ys, xs = np.nonzero(cover > 0.1)
        crop = cover[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        f = MASK_HEIGHT / crop.shape[0]
        mask = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), MASK_HEIGHT), interpolation=cv2.INTER_CUBIC)
        mask = np.clip(mask, 0.0, 1.0)
        by_letter.setdefault(s.label, []).append(Glyph(s.label, mask.shape[1] / MASK_HEIGHT, mask=mask))
    rng = np.random.default_rng(0xE3)
    # As many hands as the usual letter fills; a hand short of a rarer letter borrows it (pick_glyph).
    n_hands = max(1, int(np.median([len(g) for g in by_letter.values()])) // per_letter) if by_letter else 0
    hands: list[dict[str, list[Glyph]]] = [{} for _ in range(n_hands)]
    for letter, glyphs in sorted(by_letter.items()):
        for i, k in enumerate(rng.permutation(len(glyphs))):
            hands[i % n_hands].setdefault(letter, []).append(glyphs[int(k)])
    return tuple(
        WriterHand(f"paper-{i:03d}", "paper", {c: tuple(g) for c, g in sorted(h.items())}) for i, h in enumerate(hands)
    )


@lru_cache(maxsize=1)
def load_packaged_writers() -> tuple[WriterHand, ...]:
    """The UJI1 writers' strokes shipped in the package, or () when the file is missing or damaged."""
    try:
        raw = (resources.files(__package__) / PACKAGED_STROKES).read_bytes()
        doc = json.loads(gzip.decompress(raw))
        grid = float(doc["grid"])
        hands = []
        for writer, letters in sorted(doc["writers"].items()):
            glyphs: dict[str, tuple[Glyph, ...]] = {}
            for char, samples in sorted(letters.items()):
                found = [
                    _normalise(
                        char, [[[v / grid for v in flat[i : i + 2]] for i in range(0, len(flat), 2)] for flat in sample]
                    )
                    for sample in samples
                ]
                kept = tuple(g for g in found if g is not None)
                if char in LETTERS and kept:
                    glyphs[char] = kept
            if len(glyphs) >= 5:
                hands.append(WriterHand(writer, "uji1", glyphs))
        return tuple(hands)
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return ()


def font_paths() -> tuple[str, ...]:
    """The font that stands in when no pen strokes can be read: the package's DejaVu Sans."""
    from petitionscan.fonts import font_path

    return (str(font_path(FALLBACK_FONT)),)


def _font_glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> Glyph | None:
    size = (MASK_HEIGHT * 3, MASK_HEIGHT * 3)
    img = Image.new("L", size, 0)
    ImageDraw.Draw(img).text((MASK_HEIGHT, MASK_HEIGHT // 2), char, font=font, fill=255)
    arr = np.asarray(img)
    ys, xs = np.nonzero(arr > 20)
    if len(ys) == 0:
        return None
    crop = arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0
    h, w = crop.shape
    scale = MASK_HEIGHT / h
    mask = cv2.resize(crop, (max(1, round(w * scale)), MASK_HEIGHT), interpolation=cv2.INTER_AREA)
    return Glyph(char, mask.shape[1] / MASK_HEIGHT, mask=mask)


@lru_cache(maxsize=4)
def load_font_writers(paths: tuple[str | tuple[str, ...], ...], letters: str = LETTERS) -> tuple[WriterHand, ...]:
    """One pseudo-writer per font; letters the font lacks are skipped.

    A font may come in several files (a tuple: web fonts split Russian and
    Kazakh letters into two subsets); each letter is taken from the first file
    that draws it. A font with fewer than half of ``letters`` (a Latin-only
    font asked for Cyrillic) is no writer of that alphabet.
    """
    hands = []
    for entry in paths:
        files = (entry,) if isinstance(entry, str) else entry
        fonts = []
        for path in files:
            try:
                fonts.append(ImageFont.truetype(path, MASK_HEIGHT))
            except OSError:
                continue
        drawn = [drawn_letters(f, letters) for f in fonts]
        glyphs: dict[str, tuple[Glyph, ...]] = {}
        for c in letters:
            font = next((f for f, d in zip(fonts, drawn, strict=True) if c in d), None)
            g = _font_glyph(font, c) if font is not None else None
            if g is not None:
                glyphs[c] = (g,)
        if len(glyphs) * 2 >= len(letters):
            hands.append(WriterHand(Path(files[0]).stem, "font", glyphs))
    if not hands:  # no font file at all: Pillow's built-in font keeps the simulator working
        fallback = ImageFont.load_default(size=MASK_HEIGHT)
        glyphs = {}
        for c in letters:
            g = _font_glyph(fallback, c)
            if g is not None:
                glyphs[c] = (g,)
        hands.append(WriterHand("pillow-default", "font", glyphs))
    return tuple(hands)


def handwriting_source() -> tuple[tuple[WriterHand, ...], str]:
    """The writers the simulator uses by default, and one line saying what they are.

    Real held-out writers when the shared folder is there, else the strokes
    shipped in the package, else (a damaged install) a font.
    """
    folder = handwriting_dir()
    hands = load_stroke_writers(str(folder))
    if hands:
        return hands, f"real pen strokes of {len(hands)} held-out writers (UNIPEN, UJI) from {folder}"
    hands = load_packaged_writers()
    if hands:
        return hands, f"real pen strokes of {len(hands)} UJI Pen Characters writers shipped with petitionscan"
    hands = load_font_writers(font_paths())
    return hands, "a font (no pen strokes could be read; the installation may be damaged)"


def available_hands() -> tuple[WriterHand, ...]:
    """The simulator's default writers (see :func:`handwriting_source`)."""
    return handwriting_source()[0]


CYRILLIC_SOURCE = "cyrillic"
MIN_SESSION_LETTERS = 5
"""A session with fewer different letters is too thin to be one signer's hand."""


def _raster_glyph(char: str, raster: np.ndarray) -> Glyph | None:
    """A drawing (dark ink on white) as a mask glyph cropped to its ink."""
    ink = (255 - raster.astype(np.float32)) / 255.0
    ys, xs = np.nonzero(ink > 0.2)
    if len(ys) < 4:
        return None
    crop = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    if w / h > 3.0 or h / w > 30:
        return None
    scale = MASK_HEIGHT / h
    mask = cv2.resize(crop, (max(1, round(w * scale)), MASK_HEIGHT), interpolation=cv2.INTER_LINEAR)
    return Glyph(char, mask.shape[1] / MASK_HEIGHT, mask=_to_pen_width(np.clip(mask, 0, 1)))


DRAWING_STROKE = 0.075
"""Stroke width, as a share of the letter's height, that a thick drawing is thinned to: a ballpoint's."""


def _to_pen_width(mask: np.ndarray) -> np.ndarray:
    """Bring a drawing's line toward a pen's: thin a finger-drawn letter, thicken a mouse's hairline.

    Each erosion takes a pixel off each side, each dilation adds one. The
    Kazakh drawings are hairlines, half a ballpoint's width: left so, every
    simulated Ә and Һ would be fainter than any pen writes.
    """
    width = stroke_width(mask > 0.5)
    if width is None:
        return mask
    target = DRAWING_STROKE * MASK_HEIGHT
    if width < 0.75 * target:
        grow = min(2, int((target - width) / 2))
        if grow < 1:
            return mask
        return np.asarray(cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=grow), np.float32)
    steps = min(4, int((width - target) / 2))
    if steps < 1:
        return mask
    return np.asarray(cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=steps), np.float32)


def _sample_glyph(sample: Sample) -> Glyph | None:
    if sample.strokes is not None:
        return _normalise(sample.label, [s.tolist() for s in sample.strokes])
    assert sample.raster is not None
    return _raster_glyph(sample.label, sample.raster)


def _glyph_sample(glyph: Glyph, writer: str) -> Sample:
    """A simulator glyph back as a renderer sample, to add a Kazakh mark to it."""
    if glyph.mask is None:
        return Sample(glyph.char, writer, strokes=glyph.strokes)
    h, w = glyph.mask.shape
    f = 56.0 / max(h, w)
    ink = cv2.resize(glyph.mask, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    raster = np.zeros((64, 64), np.float32)
    y0, x0 = (64 - ink.shape[0]) // 2, (64 - ink.shape[1]) // 2
    raster[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]] = ink
    return Sample(glyph.char, writer, raster=(255 - np.clip(raster, 0, 1) * 255).astype(np.uint8))


def _latin_bases(split: str = "test") -> tuple[WriterHand, ...]:
    """Held-out Latin hands that lend Y and I, the bases of Ү, Ұ and І (the shipped ones, or a font, without the data).

    ``split`` "val": the recognizer's validation writers instead, for sheets written by validation hands.
    """
    if split == "val":
        hands = load_stroke_writers(str(handwriting_dir()), VALIDATION_LABS, uji=False)
    else:
        hands = load_stroke_writers(str(handwriting_dir())) or load_packaged_writers()
    hands = tuple(h for h in hands if "Y" in h.glyphs and "I" in h.glyphs)
    return hands or load_font_writers(font_paths())


def _kazakh_letters(
    hand_id: str,
    glyphs: dict[str, list[Glyph]],
    latin: tuple[WriterHand, ...],
    extra: dict[str, list[np.ndarray]],
    rng: np.random.Generator,
) -> None:
    """Add the nine Kazakh capitals to one Cyrillic hand, in place.

    Ғ Қ Ң Ө are the hand's own Г К Н О with a mark; Ү Ұ І are built on the Y
    and I of one held-out Latin writer; Ә and Һ, which have no base letter,
    are held-out drawings of the Kazakh set (``extra``).
    """
    lender = latin[int(rng.integers(len(latin)))] if latin else None
    for letter in KAZAKH:
        made: list[Glyph] = []
        base_letter = KAZAKH_BASES.get(letter)
        if base_letter is None:
            pool = extra.get(letter, [])
            for i in rng.choice(len(pool), size=min(3, len(pool)), replace=False) if pool else ():
                g = _raster_glyph(letter, pool[int(i)])
                if g is not None:
                    made.append(g)
        else:
            bases = glyphs.get(base_letter, []) if base_letter in CYRILLIC else []
            if not bases and lender is not None:
                bases = list(lender.glyphs.get(base_letter, ()))
            for base in bases[:3]:
                g = _sample_glyph(kazakh_capital(_glyph_sample(base, hand_id), letter, rng))
                if g is not None:
                    made.append(Glyph(letter, g.width, g.strokes, g.mask))
        if made:
            glyphs[letter] = made


@lru_cache(maxsize=4)
def load_cyrillic_writers(folder: str | Path, split: str = "test") -> tuple[WriterHand, ...]:
    """Cyrillic hands from the held-out sessions of ``cyrillic.npz``, or () without it.

    The set keeps no writer ids, only sessions of drawings made close in
    time; each test session (:func:`~petitionscan.recognize.render.cyrillic_split`)
    becomes one hand, so the recognizer never trains on a letter the
    simulator writes with. Sessions with fewer than
    :data:`MIN_SESSION_LETTERS` different letters are dropped. The Kazakh
    capitals are added to each hand (see :func:`_kazakh_letters`); the Ә and Һ
    drawings of ``kazakh.npz`` are only those of its test split
    (:func:`~petitionscan.recognize.render.kazakh_split`), for the same reason.
    ``split`` "val" gives the validation sessions' hands instead (with
    validation drawings and lenders): sheets to choose settings on.
    """
    base = Path(folder)
    try:
        with np.load(base / "cyrillic.npz") as data:
            images, labels, groups = data["images"], data["labels"], data["writers"]
    except (OSError, ValueError, KeyError):
        return ()
    extra: dict[str, list[np.ndarray]] = {}
    try:
        with np.load(base / "kazakh.npz") as data:
            for index, (img, label) in enumerate(zip(data["images"], data["labels"], strict=True)):
                if str(label) in ("Ә", "Һ") and kazakh_split(index) == split:
                    extra.setdefault(str(label), []).append(np.asarray(img))
    except (OSError, ValueError, KeyError):
        pass
    sessions: dict[str, dict[str, list[Glyph]]] = {}
    for img, label, group in zip(images, labels, groups, strict=True):
        group, label = str(group), str(label)
        if not group.isdigit() or cyrillic_split(group) != split or label not in CYRILLIC:
            continue
        g = _raster_glyph(label, np.asarray(img))
        if g is not None:
            sessions.setdefault(group, {}).setdefault(label, []).append(g)
    latin = _latin_bases(split)
    hands: list[WriterHand] = []
    for group in sorted(sessions, key=int):
        glyphs = sessions[group]
        if len(glyphs) < MIN_SESSION_LETTERS:
            continue
        hand_id = f"cyr-{group}"
        _kazakh_letters(hand_id, glyphs, latin, extra, np.random.default_rng([0xC7, int(group)]))
        hands.append(WriterHand(hand_id, CYRILLIC_SOURCE, {c: tuple(g) for c, g in sorted(glyphs.items())}))
    return tuple(hands)


def available_cyrillic_hands() -> tuple[WriterHand, ...]:
    """Held-out Cyrillic hands when the shared folder is there, fonts with Cyrillic otherwise."""
    hands = load_cyrillic_writers(str(handwriting_dir()))
    return hands if hands else load_font_writers(font_paths(), CYRILLIC)


def rule_glyph(char: str, rng: np.random.Generator) -> Glyph:
    """Marks with no recorded strokes (hyphen, apostrophe), drawn as a person would."""
    if char == "-":
        w = rng.uniform(0.4, 0.75)
        y = rng.uniform(0.45, 0.62)
        tilt = rng.uniform(-0.06, 0.04)
        pts = np.array([[0, y], [w * 0.5, y + tilt / 2 + rng.normal(0, 0.01)], [w, y + tilt]], np.float32)
        return Glyph(char, w, (pts,))
    if char == "'":
        h = rng.uniform(0.22, 0.35)
        lean = rng.uniform(-0.12, 0.02)
        pts = np.array([[0.08, 0], [0.08 + lean / 2, h / 2], [0.08 + lean, h]], np.float32)
        pts[:, 0] -= pts[:, 0].min()
        return Glyph(char, max(0.05, float(np.ptp(pts[:, 0]))), (pts,))
    raise ValueError(f"no rule for {char!r}")


def _smooth_noise(n: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    """Slowly varying noise along a stroke: pen pressure changes gradually."""
    knots = max(2, n // 12 + 2)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), rng.normal(0, scale, knots))


def draw_polylines(
    alpha: np.ndarray,
    lines: list[np.ndarray],
    pen: Pen,
    px_per_mm: float,
    rng: np.random.Generator,
) -> None:
    """Draw pen lines (pixel coordinates in ``alpha``) as ink density, in place (max blend).

    Pressure varies along each stroke and is lighter where the pen lands and
    lifts; ballpoint ink is grainy. Three pressure levels are drawn as separate
    layers and max-combined so that light segments never erase dark ones.
    """
    if not lines:
        return
    allpts = np.concatenate(lines)
    width = max(1.0, pen.width_mm * px_per_mm)
    pad = int(width * 2 + 4)
    x0 = max(0, int(np.floor(allpts[:, 0].min())) - pad)
    y0 = max(0, int(np.floor(allpts[:, 1].min())) - pad)
    x1 = min(alpha.shape[1], int(np.ceil(allpts[:, 0].max())) + pad)
    y1 = min(alpha.shape[0], int(np.ceil(allpts[:, 1].max())) + pad)
    if x1 <= x0 or y1 <= y0:
        return
    h, w = y1 - y0, x1 - x0
    levels = (0.62, 0.8, 1.0)
    layers = [np.zeros((h, w), np.uint8) for _ in levels]
    shift = 4
    for line in lines:
        n = len(line)
        pts = np.round((line - (x0, y0)) * (1 << shift)).astype(np.int32)
        if n == 1:
            pts = np.concatenate([pts, pts + 1])
            n = 2
        p = pen.pressure * (1 + _smooth_noise(n, rng, 0.12))
        if pen.kind == "ballpoint" and n > 6:
            ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / 3.0 + 0.55)
            p = p * ramp
        lvl = np.digitize(p, [(levels[0] + levels[1]) / 2, (levels[1] + levels[2]) / 2])
        thick = max(1, round(width * rng.uniform(0.9, 1.1)))
        start = 0
        for i in range(1, n + 1):
            if i == n or lvl[i] != lvl[start]:
                seg = pts[max(0, start - 1) : i]
                if len(seg) == 1:
                    seg = np.concatenate([seg, seg])
                cv2.polylines(layers[lvl[start]], [seg], False, 255, thick, cv2.LINE_AA, shift)
                start = i
    patch = np.zeros((h, w), np.float32)
    for layer, level in zip(layers, levels, strict=True):
        np.maximum(patch, layer.astype(np.float32) * (level / 255.0), out=patch)
    if pen.kind == "ballpoint":
        grain = rng.random((h // 2 + 1, w // 2 + 1), dtype=np.float32)
        grain_full = cv2.resize(grain, (w, h), interpolation=cv2.INTER_LINEAR)[:h, :w]
        patch *= 0.78 + 0.22 * grain_full
    else:
        patch = cv2.GaussianBlur(patch, (3, 3), 0.7)
    np.clip(patch, 0, 1, out=patch)
    region = alpha[y0:y1, x0:x1]
    np.maximum(region, patch, out=region)


def draw_glyph(
    alpha: np.ndarray,
    glyph: Glyph,
    matrix: np.ndarray,
    pen: Pen,
    px_per_mm: float,
    rng: np.random.Generator,
) -> None:
    """Draw a normalised glyph through a 2x3 affine ``matrix`` into ``alpha`` (in place)."""
    if glyph.mask is None:
        lines = [s @ matrix[:, :2].T + matrix[:, 2] for s in glyph.strokes]
        draw_polylines(alpha, lines, pen, px_per_mm, rng)
        return
    mask = glyph.mask
    # Map mask pixels to normalised units (height 1), then through the glyph matrix.
    unit = np.array([[1.0 / MASK_HEIGHT, 0, 0], [0, 1.0 / MASK_HEIGHT, 0], [0, 0, 1]])
    full = np.vstack([matrix, [0, 0, 1]]) @ unit
    corners = np.array([[0, 0, 1], [mask.shape[1], 0, 1], [0, mask.shape[0], 1], [mask.shape[1], mask.shape[0], 1]])
    mapped = corners @ full[:2].T
    x0 = max(0, int(np.floor(mapped[:, 0].min())) - 2)
    y0 = max(0, int(np.floor(mapped[:, 1].min())) - 2)
    x1 = min(alpha.shape[1], int(np.ceil(mapped[:, 0].max())) + 2)
    y1 = min(alpha.shape[0], int(np.ceil(mapped[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    local = full.copy()
    local[0, 2] -= x0
    local[1, 2] -= y0
    warped = cv2.warpAffine(mask, local[:2].astype(np.float32), (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
    patch = np.asarray(warped, np.float32) * (pen.pressure * float(rng.uniform(0.9, 1.05)))
    if pen.kind == "ballpoint":
        h, w = patch.shape
        patch = patch * (0.8 + 0.2 * rng.random((h, w), dtype=np.float32))
    np.clip(patch, 0, 1, out=patch)
    region = alpha[y0:y1, x0:x1]
    np.maximum(region, patch, out=region)
