"""Sheet geometry shared by the sheet generator and the reader.

The printed sheet and the reader must agree to the tenth of a millimetre, so
both derive every position from one :class:`LayoutSpec` through
:func:`sheet_geometry`. A spec has a short text form, the *layout code*, which
the QR code carries: a scan can be read without the PDF it was printed from.

Units are in the names: ``_mm`` for millimetres from the page's top-left
corner (y downwards), ``_pt`` for PDF points. Rectangles are
``(x0, y0, x1, y1)``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from petitionscan.alphabets import DEFAULT_ALPHABET
from petitionscan.errors import CampaignError

Rect = tuple[float, float, float, float]

MM_PER_PT = 25.4 / 72.0
PT_PER_MM = 72.0 / 25.4

LAYOUT_VERSION = 1

PAPER_SIZES_MM: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "LETTER": (215.9, 279.4),
}

# Letter boxes: sized for real handwriting (at least 5 x 6.5 mm).
box_width_mm = 6.0
box_height_mm = 7.5
box_gap_mm = 1.0
box_pitch_mm = box_width_mm + box_gap_mm
field_gap_mm = 4.0

margin_mm = 8.0
marker_size_mm = 12.0
marker_quiet_mm = 3.0
qr_size_mm = 24.0

row_number_width_mm = 7.0
signature_min_width_mm = 40.0
band_gap_mm = 1.5
row_gap_mm = 2.5
table_top_mm = 75.0
min_boxes_per_field = 6

# The ArUco dictionary: 4x4 bits, 1000 ids. A layout owns four consecutive ids.
ARUCO_DICT_NAME = "DICT_4X4_1000"
MARKER_ID_BLOCKS = 250

NAME_FIELDS = ("name", "first_name", "surname")
# One letter per field in the layout code, to keep the QR code small and robust.
FIELD_CODES = {
    "name": "n",
    "first_name": "f",
    "surname": "s",
    "workplace": "w",
    "town": "t",
    "union": "u",
    "signature": "g",
}
_FIELD_KEYS = {v: k for k, v in FIELD_CODES.items()}
# The alphabet as an optional last part of the layout code; Latin has none, so
# codes printed before campaigns had an alphabet still read as Latin.
ALPHABET_CODES = {"cyrillic": "c", "latin+cyrillic": "lc"}
_ALPHABET_KEYS = {v: k for k, v in ALPHABET_CODES.items()}
BOX_FIELDS = ("name", "first_name", "surname", "workplace", "town", "union")
RECT_FIELDS = ("signature",)


@dataclass(frozen=True)
class FieldSpec:
    """One column of the signature table: letter boxes or a free rectangle."""

    key: str
    boxes: int = 0  # 0 means a rectangle (the signature)

    @property
    def is_boxes(self) -> bool:
        return self.boxes > 0


@dataclass(frozen=True)
class LayoutSpec:
    """Everything that decides where things are printed on a signature sheet."""

    paper: str
    rows: int
    name_fields: tuple[FieldSpec, ...]
    other_fields: tuple[FieldSpec, ...]
    version: int = LAYOUT_VERSION
    alphabet: str = DEFAULT_ALPHABET  # what signers write in (petitionscan.alphabets)

    @property
    def code(self) -> str:
        """Short text form, carried by the QR code: ``L1/A4/9/f11,s13/t9,g`` (see ``FIELD_CODES``).

        A non-Latin alphabet adds a last part (``/c`` Cyrillic, ``/lc`` both).
        """

        def part(fields: tuple[FieldSpec, ...]) -> str:
            return ",".join(f"{FIELD_CODES[f.key]}{f.boxes if f.is_boxes else ''}" for f in fields)

        code = f"L{self.version}/{self.paper}/{self.rows}/{part(self.name_fields)}/{part(self.other_fields)}"
        if self.alphabet != DEFAULT_ALPHABET:
            code += f"/{ALPHABET_CODES[self.alphabet]}"
        return code

    @property
    def marker_ids(self) -> tuple[int, int, int, int]:
        """Marker ids at the top-left, top-right, bottom-right and bottom-left corners."""
        base = 4 * marker_block(self.code)
        return (base, base + 1, base + 2, base + 3)

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return self.name_fields + self.other_fields


def marker_block(code: str) -> int:
    """The block of four marker ids a layout code owns (stable across runs)."""
    return zlib.crc32(code.encode("utf-8")) % MARKER_ID_BLOCKS


def parse_layout_code(code: str) -> LayoutSpec:
    """Inverse of :attr:`LayoutSpec.code`; raises ValueError on a malformed code."""
    parts = code.split("/")
    if len(parts) not in (5, 6) or not parts[0].startswith("L"):
        raise ValueError(f"not a layout code: {code!r}")
    alphabet = DEFAULT_ALPHABET
    if len(parts) == 6:
        if parts[5] not in _ALPHABET_KEYS:
            raise ValueError(f"unknown alphabet {parts[5]!r} in layout code")
        alphabet = _ALPHABET_KEYS[parts[5]]
    version = int(parts[0][1:])
    paper = parts[1]
    if paper not in PAPER_SIZES_MM:
        raise ValueError(f"unknown paper {paper!r} in layout code")
    rows = int(parts[2])

    def fields(text: str) -> tuple[FieldSpec, ...]:
        out = []
        for item in filter(None, text.split(",")):
            if item[:1] not in _FIELD_KEYS:
                raise ValueError(f"unknown field {item!r} in layout code")
            out.append(FieldSpec(_FIELD_KEYS[item[0]], int(item[1:]) if item[1:] else 0))
        return tuple(out)

    spec = LayoutSpec(paper, rows, fields(parts[3]), fields(parts[4]), version, alphabet)
    if spec.code != code:
        raise ValueError(f"layout code does not round-trip: {code!r}")
    return spec


@dataclass(frozen=True)
class Marker:
    marker_id: int
    corner: str  # "tl", "tr", "br", "bl"
    rect_mm: Rect

    @property
    def corners_mm(self) -> tuple[tuple[float, float], ...]:
        """Corner points in ArUco's order: top-left, top-right, bottom-right, bottom-left."""
        x0, y0, x1, y1 = self.rect_mm
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


@dataclass(frozen=True)
class FieldGeometry:
    key: str
    rect_mm: Rect  # the whole field: all its boxes, or the rectangle
    boxes_mm: tuple[Rect, ...]  # empty for a rectangle field


@dataclass(frozen=True)
class RowGeometry:
    row: int  # 1-based, as printed
    rect_mm: Rect
    number_rect_mm: Rect
    fields: tuple[FieldGeometry, ...]

    def field(self, key: str) -> FieldGeometry | None:
        for f in self.fields:
            if f.key == key:
                return f
        return None

    @property
    def name_boxes_mm(self) -> tuple[Rect, ...]:
        """Every letter box of the whole name in writing order."""
        out: list[Rect] = []
        for f in self.fields:
            if f.key in NAME_FIELDS:
                out.extend(f.boxes_mm)
        return tuple(out)


@dataclass(frozen=True)
class SheetGeometry:
    spec: LayoutSpec
    page_size_mm: tuple[float, float]
    markers: tuple[Marker, ...]
    qr_rect_mm: Rect
    serial_rect_mm: Rect
    title_rect_mm: Rect
    statement_rect_mm: Rect
    instructions_rect_mm: Rect
    header_rect_mm: Rect  # column headings above the table
    footer_rect_mm: Rect
    rows: tuple[RowGeometry, ...]


def _band_fields(
    fields: tuple[FieldSpec, ...], x0: float, x1: float, y0: float, height_mm: float
) -> tuple[FieldGeometry, ...]:
    """Lay fields left to right in one band; a rectangle takes the width left over."""
    out: list[FieldGeometry] = []
    x = x0
    for f in fields:
        if f.is_boxes:
            boxes = tuple(
                (x + i * box_pitch_mm, y0, x + i * box_pitch_mm + box_width_mm, y0 + box_height_mm)
                for i in range(f.boxes)
            )
            out.append(FieldGeometry(f.key, (x, y0, boxes[-1][2], y0 + box_height_mm), boxes))
            x = boxes[-1][2] + field_gap_mm
        else:
            out.append(FieldGeometry(f.key, (x, y0, x1, y0 + height_mm), ()))
            x = x1 + field_gap_mm
    return tuple(out)


def _band_width_mm(fields: tuple[FieldSpec, ...]) -> float:
    width = 0.0
    for f in fields:
        width += (f.boxes * box_pitch_mm - box_gap_mm) if f.is_boxes else signature_min_width_mm
    return width + field_gap_mm * max(0, len(fields) - 1)


def table_x_mm(paper: str) -> tuple[float, float]:
    """Left and right edges of the writable table (row numbers included)."""
    width, _ = PAPER_SIZES_MM[paper]
    return (margin_mm + 2.0, width - margin_mm - 2.0)


def max_rows(paper: str, two_bands: bool) -> int:
    _, height = PAPER_SIZES_MM[paper]
    bottom = height - margin_mm - marker_size_mm - marker_quiet_mm
    return int((bottom - table_top_mm) // row_pitch_mm(two_bands))


def row_pitch_mm(two_bands: bool) -> float:
    band = box_height_mm + 1.5  # the signature rectangle is taller than a box
    return (2 * band + band_gap_mm if two_bands else band) + row_gap_mm


def fit_box_counts(
    paper: str, name_fields: tuple[FieldSpec, ...], other_fields: tuple[FieldSpec, ...]
) -> tuple[tuple[FieldSpec, ...], tuple[FieldSpec, ...]]:
    """Shrink requested box counts until each band fits the paper's width."""
    left, right = table_x_mm(paper)
    avail = right - (left + row_number_width_mm)

    def shrink(fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
        current = list(fields)
        while _band_width_mm(tuple(current)) > avail:
            widest = max(
                (i for i, f in enumerate(current) if f.boxes > min_boxes_per_field),
                key=lambda i: current[i].boxes,
                default=None,
            )
            if widest is None:
                keys = ", ".join(f.key for f in fields)
                raise CampaignError(f"the columns {keys} do not fit on {paper} paper; drop a column or use fewer boxes")
            current[widest] = FieldSpec(current[widest].key, current[widest].boxes - 1)
        return tuple(current)

    return shrink(name_fields), shrink(other_fields)


def sheet_geometry(spec: LayoutSpec) -> SheetGeometry:
    """Every printed position of a signature sheet, from its spec alone."""
    width, height = PAPER_SIZES_MM[spec.paper]
    m, s = margin_mm, marker_size_mm
    ids = spec.marker_ids
    markers = (
        Marker(ids[0], "tl", (m, m, m + s, m + s)),
        Marker(ids[1], "tr", (width - m - s, m, width - m, m + s)),
        Marker(ids[2], "br", (width - m - s, height - m - s, width - m, height - m)),
        Marker(ids[3], "bl", (m, height - m - s, m + s, height - m)),
    )
    inner_left = m + s + marker_quiet_mm + 2.0
    inner_right = width - m - s - marker_quiet_mm - 2.0
    qr_x1 = inner_right
    qr = (qr_x1 - qr_size_mm, m, qr_x1, m + qr_size_mm)
    serial = (qr[0] - 2.0 - 60.0, m + qr_size_mm - 9.0, qr[0] - 2.0, m + qr_size_mm - 3.0)  # the serial text line
    title = (inner_left, m, qr[0] - 4.0, m + qr_size_mm - 12.5)  # clear of the branch line
    left, right = table_x_mm(spec.paper)
    statement = (left, m + qr_size_mm + 3.0, right, table_top_mm - 17.0)
    instructions = (left, table_top_mm - 16.0, right, table_top_mm - 9.5)
    header = (left, table_top_mm - 8.0, right, table_top_mm - 0.5)
    footer = (inner_left, height - m - s, inner_right, height - m)

    two_bands = bool(spec.other_fields)
    if spec.rows < 1 or spec.rows > max_rows(spec.paper, two_bands):
        raise CampaignError(
            f"{spec.rows} rows do not fit on {spec.paper} paper; use 1 to {max_rows(spec.paper, two_bands)}"
        )
    pitch = row_pitch_mm(two_bands)
    fields_x = left + row_number_width_mm
    rows = []
    for r in range(spec.rows):
        y0 = table_top_mm + r * pitch
        fields = _band_fields(spec.name_fields, fields_x, right, y0, box_height_mm)
        if two_bands:
            y1 = y0 + box_height_mm + 1.5 + band_gap_mm
            fields += _band_fields(spec.other_fields, fields_x, right, y1, box_height_mm + 1.5)
        row_rect = (left, y0, right, y0 + pitch - row_gap_mm)
        number = (left, y0, fields_x - 1.0, y0 + box_height_mm)
        rows.append(RowGeometry(r + 1, row_rect, number, fields))
    return SheetGeometry(
        spec=spec,
        page_size_mm=(width, height),
        markers=markers,
        qr_rect_mm=qr,
        serial_rect_mm=serial,
        title_rect_mm=title,
        statement_rect_mm=statement,
        instructions_rect_mm=instructions,
        header_rect_mm=header,
        footer_rect_mm=footer,
        rows=tuple(rows),
    )


def rect_pt(rect: Rect) -> list[float]:
    """A millimetre rectangle in PDF points (top-left origin), rounded for JSON."""
    return [round(v * PT_PER_MM, 2) for v in rect]


def layout_page_json(geometry: SheetGeometry, sheet_id: str) -> dict[str, object]:
    """One page of the ``--layout`` JSON, in points from the top-left corner."""
    rows = []
    for row in geometry.rows:
        fields: dict[str, object] = {
            "name": {"boxes": [rect_pt(b) for b in row.name_boxes_mm]},
        }
        for f in row.fields:
            if f.boxes_mm:
                if f.key != "name":
                    fields[f.key] = {"boxes": [rect_pt(b) for b in f.boxes_mm]}
            else:
                fields[f.key] = {"rect": rect_pt(f.rect_mm)}
        rows.append({"row": row.row, "rect": rect_pt(row.rect_mm), "fields": fields})
    w, h = geometry.page_size_mm
    return {
        "sheet_id": sheet_id,
        "page_size": [round(w * PT_PER_MM, 2), round(h * PT_PER_MM, 2)],
        "layout_code": geometry.spec.code,
        "alphabet": geometry.spec.alphabet,
        "markers": [{"id": mk.marker_id, "corner": mk.corner, "rect": rect_pt(mk.rect_mm)} for mk in geometry.markers],
        "qr": {"rect": rect_pt(geometry.qr_rect_mm)},
        "rows": rows,
    }
