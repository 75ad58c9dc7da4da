"""The whole registered page of a sheet, with where each row lies on it.

The scan stage keeps every read page straightened onto the layout's own
millimetres (``scans.page_jpeg``, top-left corner at 0,0). So the layout
code alone says where each row is on that picture: the sheet view draws the
rows over it as an SVG in millimetres, and no pixel arithmetic is needed.
A blank row the machine skipped is then found on the paper and fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from petitionscan import geometry

# Rows are outlined this far outside their boxes, so the outline never hides the printed lines.
OUTLINE_MM = 0.9
# The row number tag sits in the left margin, this big.
TAG_WIDTH_MM = 7.5
TAG_HEIGHT_MM = 7.0

# The words the pages use for each status (the same as the scripts').
STATUS_WORDS = {
    "confirmed": "confirmed",
    "needs_review": "waiting for review",
    "unreadable": "unreadable",
    "not_signature": "not a signature",
    "crossed_out": "crossed out",
    "auto": "read by machine",
    "blank": "blank",
    "unsigned": "unsigned",
}

_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png"}


@dataclass(frozen=True)
class RowBox:
    """One printed row on the page, in millimetres from the page's top-left corner."""

    row_no: int
    x: float
    y: float
    width: float
    height: float
    tag_x: float  # the number tag, in the margin left of the row
    tag_width: float
    tag_height: float

    @property
    def label_x(self) -> float:
        """Middle of the tag, where the number is centred."""
        return round(self.tag_x + self.tag_width / 2, 2)

    @property
    def label_y(self) -> float:
        """Baseline of the number in the tag."""
        return round(self.y + self.tag_height * 0.73, 2)


@dataclass(frozen=True)
class PageLayout:
    """The page's size and its rows, as the sheet's layout code prints them."""

    width_mm: float
    height_mm: float
    rows: tuple[RowBox, ...]


def page_layout(layout_code: str) -> PageLayout | None:
    """Where the rows of a layout are, or None for a code this version cannot read."""
    try:
        sheet = geometry.sheet_geometry(geometry.parse_layout_code(layout_code))
    except (ValueError, KeyError):
        return None
    width, height = sheet.page_size_mm
    boxes = []
    for row in sheet.rows:
        x0, y0, x1, y1 = row.rect_mm
        x0, y0 = max(0.0, x0 - OUTLINE_MM), max(0.0, y0 - OUTLINE_MM)
        x1, y1 = min(width, x1 + OUTLINE_MM), min(height, y1 + OUTLINE_MM)
        tag_x = max(0.0, x0 - TAG_WIDTH_MM - 0.4)
        boxes.append(
            RowBox(
                row.row,
                round(x0, 2),
                round(y0, 2),
                round(x1 - x0, 2),
                round(y1 - y0, 2),
                round(tag_x, 2),
                round(x0 - 0.3 - tag_x, 2),
                TAG_HEIGHT_MM,
            )
        )
    return PageLayout(width, height, tuple(boxes))


def image_type(data: bytes) -> str:
    """The content type of a stored page picture; ``ValueError`` if it is not a readable image.

    The bytes are decoded once before being served as they are, so a damaged
    blob is reported instead of showing the volunteer a broken picture.
    """
    kind = next((t for magic, t in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ValueError("stored page is neither JPEG nor PNG")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ValueError("stored page is not a readable image")
    return kind
