"""The ``--layout`` JSON written by ``petitionscan generate``, read into small dataclasses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from petitionscan.alphabets import ALPHABETS, DEFAULT_ALPHABET
from petitionscan.errors import InputFileError
from petitionscan.geometry import parse_layout_code

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class FieldLayout:
    key: str
    boxes: tuple[Rect, ...] = ()
    rect: Rect | None = None


@dataclass(frozen=True)
class RowLayout:
    row: int
    rect: Rect
    fields: tuple[FieldLayout, ...]

    def field(self, key: str) -> FieldLayout | None:
        for f in self.fields:
            if f.key == key:
                return f
        return None


@dataclass(frozen=True)
class PageLayout:
    """One PDF page; appeal pages have no sheet id and no rows.

    ``alphabet`` is what the sheet asks signers to write in.
    """

    sheet_id: str | None
    page_size: tuple[float, float]  # points
    rows: tuple[RowLayout, ...]
    alphabet: str = DEFAULT_ALPHABET


def _rect(value: Any, where: str) -> Rect:
    if not isinstance(value, list) or len(value) != 4:
        raise ValueError(f"{where}: expected [x0, y0, x1, y1]")
    x0, y0, x1, y1 = (float(v) for v in value)
    return (x0, y0, x1, y1)


def _alphabet(page: dict[str, Any], where: str) -> str:
    """The page's alphabet: its own key, else its layout code; Latin for files written before either."""
    alphabet = page.get("alphabet")
    if alphabet is None and isinstance(page.get("layout_code"), str):
        alphabet = parse_layout_code(page["layout_code"]).alphabet
    alphabet = DEFAULT_ALPHABET if alphabet is None else alphabet
    if alphabet not in ALPHABETS:
        raise ValueError(f"{where}: unknown alphabet {alphabet!r}")
    return str(alphabet)


def parse_layout(data: Any) -> tuple[PageLayout, ...]:
    """Validate the JSON structure; raises ValueError saying where it is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("pages"), list):
        raise ValueError("no 'pages' list")
    pages = []
    for p, page in enumerate(data["pages"], 1):
        where = f"page {p}"
        if not isinstance(page, dict):
            raise ValueError(f"{where}: not an object")
        size = page.get("page_size")
        if not isinstance(size, list) or len(size) != 2:
            raise ValueError(f"{where}: no page_size")
        rows = []
        for r in page.get("rows") or []:
            fields = []
            for key, spec in sorted((r.get("fields") or {}).items()):
                if "boxes" in spec:
                    boxes = tuple(_rect(b, f"{where} row {r.get('row')} {key}") for b in spec["boxes"])
                    fields.append(FieldLayout(key, boxes=boxes))
                elif "rect" in spec:
                    fields.append(FieldLayout(key, rect=_rect(spec["rect"], f"{where} {key}")))
            rows.append(RowLayout(int(r["row"]), _rect(r["rect"], f"{where} row"), tuple(fields)))
        sheet_id = page.get("sheet_id")
        pages.append(
            PageLayout(
                None if sheet_id is None else str(sheet_id),
                (float(size[0]), float(size[1])),
                tuple(rows),
                _alphabet(page, where),
            )
        )
    return tuple(pages)


def load_layout(path: Path) -> tuple[PageLayout, ...]:
    """Read the layout file written next to the sheets PDF."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such layout file; give the JSON written by 'petitionscan generate'") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read the layout JSON ({exc}); regenerate the sheets") from exc
    try:
        return parse_layout(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"{path}: not a sheet layout ({exc}); regenerate the sheets") from exc
