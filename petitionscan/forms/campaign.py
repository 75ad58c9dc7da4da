"""Campaign files: a TOML file per petition, validated into a frozen dataclass.

A wrong campaign file must fail before anything is written, with one line that
names the file, the key and what is wrong, so validation is strict: unknown
keys are errors too (a typo must not silently drop a column).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from petitionscan import geometry
from petitionscan.alphabets import ALPHABETS, DEFAULT_ALPHABET
from petitionscan.errors import CampaignError
from petitionscan.forms.texts import LANGUAGES

DEFAULT_CAMPAIGN = Path(__file__).resolve().parents[2] / "forms" / "mangystau.toml"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Appeal:
    title: str
    before: tuple[str, ...]
    demands: tuple[str, ...]
    after: tuple[str, ...]
    signed: str


@dataclass(frozen=True)
class Campaign:
    """A validated campaign: what is printed and how the table is laid out."""

    campaign_id: str
    title: str
    language: str
    alphabet: str
    paper: str
    rows: int
    appeal: Appeal
    petition_title: str
    statement: str
    return_address: str
    branch: str
    target: int | None
    layout: geometry.LayoutSpec
    source: str


def default_campaign_path() -> Path:
    """The shipped Mangystau campaign in the project's ``forms/`` folder."""
    return DEFAULT_CAMPAIGN


class _Reader:
    """Pops typed keys from a TOML table and reports mistakes by dotted key."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, dict(table), prefix

    def fail(self, key: str, what: str) -> CampaignError:
        return CampaignError(f"{self.path}: key '{self.prefix}{key}': {what}")

    def get(self, key: str, kind: type, default: Any = ..., *, required: bool = False) -> Any:
        if key not in self.table:
            if required or default is ...:
                raise self.fail(key, "is missing")
            return default
        value = self.table.pop(key)
        if kind is int and isinstance(value, bool):
            raise self.fail(key, f"must be a whole number, not {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"must be {_kind_name(kind)}, not {type(value).__name__}")
        if isinstance(value, str) and required and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def strings(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if key not in self.table and default is not None:
            return default
        items = self.get(key, list)
        if not all(isinstance(i, str) for i in items):
            raise self.fail(key, "must be a list of texts")
        return tuple(_clean(i) for i in items)

    def sub(self, key: str) -> _Reader:
        table = self.get(key, dict, {})
        return _Reader(self.path, table, f"{self.prefix}{key}.")

    def done(self) -> None:
        if self.table:
            key = sorted(self.table)[0]
            raise self.fail(key, "is not a known key (check the spelling)")


def _kind_name(kind: type) -> str:
    return {str: "a text", int: "a whole number", bool: "true or false", list: "a list", dict: "a table"}.get(
        kind, kind.__name__
    )


def _clean(text: str) -> str:
    """Collapse runs of spaces and join paragraph-internal line breaks."""
    return re.sub(r"[ \t]+", " ", text.replace("\r", "")).strip()


def load_campaign(path: Path | None = None) -> Campaign:
    """Read and validate a campaign file; the default campaign when ``path`` is None."""
    path = path or default_campaign_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CampaignError(f"{path}: no such campaign file; give a .toml file from forms/") from None
    except IsADirectoryError:
        raise CampaignError(f"{path}: is a folder; give a campaign .toml file") from None
    except OSError as exc:
        raise CampaignError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CampaignError(f"{path}: is not UTF-8 text; save the campaign file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path}: is not valid TOML ({exc}); fix the line it names") from exc
    return parse_campaign(data, path)


def parse_campaign(data: dict[str, Any], path: Path) -> Campaign:
    top = _Reader(path, data, "")
    c = top.sub("campaign")
    campaign_id = c.get("id", str, required=True)
    if not _ID_RE.match(campaign_id):
        raise c.fail("id", "must be 1-32 lowercase letters, digits, '-' or '_'")
    title = _clean(c.get("title", str, required=True))
    language = c.get("language", str, "en")
    if language not in LANGUAGES:
        raise c.fail("language", f"must be one of {', '.join(LANGUAGES)}, not {language!r}")
    alphabet = c.get("alphabet", str, DEFAULT_ALPHABET)
    if alphabet not in ALPHABETS:
        raise c.fail("alphabet", f"must be one of {', '.join(ALPHABETS)}, not {alphabet!r}")
    paper = c.get("paper", str, "A4").upper()
    if paper not in geometry.PAPER_SIZES_MM:
        raise c.fail("paper", f"must be one of {', '.join(geometry.PAPER_SIZES_MM)}")
    rows = c.get("rows", int, 0)
    return_address = _clean(c.get("return_address", str, ""))
    branch = _clean(c.get("branch", str, ""))
    target = c.get("target", int, None)
    if target is not None and target < 1:
        raise c.fail("target", "must be a positive number of signatures")
    c.done()

    a = top.sub("appeal")
    appeal = Appeal(
        title=_clean(a.get("title", str, "")),
        before=a.strings("before", ()),
        demands=a.strings("demands", ()),
        after=a.strings("after", ()),
        signed=_clean(a.get("signed", str, "")),
    )
    a.done()

    p = top.sub("petition")
    petition_title = _clean(p.get("title", str, required=True))
    statement = _clean(p.get("statement", str, required=True))
    p.done()

    col = top.sub("columns")
    name_mode = col.get("name", str, "split")
    if name_mode not in ("split", "single"):
        raise col.fail("name", "must be 'split' (first name and surname) or 'single'")
    first_boxes = col.get("first_name_boxes", int, 11)
    surname_boxes = col.get("surname_boxes", int, 13)
    name_boxes = col.get("name_boxes", int, 24)
    for key, value in (("first_name_boxes", first_boxes), ("surname_boxes", surname_boxes), ("name_boxes", name_boxes)):
        if not geometry.min_boxes_per_field <= value <= 30:
            raise col.fail(key, f"must be between {geometry.min_boxes_per_field} and 30")
    others: list[geometry.FieldSpec] = []
    for key, boxes in (("workplace", 10), ("town", 9), ("union", 8)):
        if col.get(key, bool, False):
            others.append(geometry.FieldSpec(key, col.get(f"{key}_boxes", int, boxes)))
    if col.get("signature", bool, True):
        others.append(geometry.FieldSpec("signature"))
    col.done()
    top.done()

    if name_mode == "split":
        names: tuple[geometry.FieldSpec, ...] = (
            geometry.FieldSpec("first_name", first_boxes),
            geometry.FieldSpec("surname", surname_boxes),
        )
    else:
        names = (geometry.FieldSpec("name", name_boxes),)
    names, other = geometry.fit_box_counts(paper, names, tuple(others))
    fitting = geometry.max_rows(paper, bool(other))
    if rows == 0:
        rows = fitting
    elif not 1 <= rows <= fitting:
        raise CampaignError(f"{path}: key 'campaign.rows': must be 1 to {fitting} on {paper} paper with these columns")
    layout = geometry.LayoutSpec(paper, rows, names, other, alphabet=alphabet)
    return Campaign(
        campaign_id=campaign_id,
        title=title,
        language=language,
        alphabet=alphabet,
        paper=paper,
        rows=rows,
        appeal=appeal,
        petition_title=petition_title,
        statement=statement,
        return_address=return_address,
        branch=branch,
        target=target,
        layout=layout,
        source=str(path),
    )
