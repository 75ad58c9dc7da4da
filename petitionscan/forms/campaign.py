"""Campaign files: a TOML file per petition, validated into a frozen dataclass.

A wrong campaign file must fail before anything is written, with one line that
names the file, the key and what is wrong, so validation is strict: unknown
keys are errors too (a typo must not silently drop a column).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from petitionscan import geometry
from petitionscan.alphabets import ALPHABETS, DEFAULT_ALPHABET
from petitionscan.errors import CampaignError
from petitionscan.forms.texts import LANGUAGES
from petitionscan.markup import first_control

DEFAULT_CAMPAIGN = "mangystau"
CAMPAIGNS_PACKAGE = "petitionscan.forms.campaigns"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

MAX_FILE_BYTES = 256 * 1024
"""A campaign file is a few kilobytes; anything this large is a mistake."""
MAX_BRANCH = 40
"""Characters in a branch name: it is printed on one line and carried in the QR code,
which must stay coarse enough to read on a fax (40 Cyrillic letters: QR version 13)."""
MAX_PETITION_TITLE = 120
"""Characters: what fits the title space beside the QR code at its smallest size."""
MAX_STATEMENT = 700
"""Characters: what fits the statement space above the table at its smallest size."""
MAX_LINE = 300
"""Characters of the campaign title, appeal title, signature line and return address."""
MAX_PARAGRAPH = 5000
MAX_APPEAL = 50_000
"""Characters of the whole appeal (it may run over several pages, not over a book)."""


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


def shipped_campaigns() -> dict[str, str]:
    """The campaigns inside the package, by name (file name without ``.toml``), as TOML text.

    Read through importlib.resources so they are found wherever the package is
    installed, from any working folder.
    """
    folder = resources.files(CAMPAIGNS_PACKAGE)
    return {
        item.name.removesuffix(".toml"): item.read_text(encoding="utf-8")
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".toml")
    }


def shipped_campaign_text(name: str) -> str:
    """One shipped campaign's TOML text; a CampaignError naming the others when unknown."""
    found = shipped_campaigns()
    if name not in found:
        raise CampaignError(f"no shipped campaign named {name!r}; the shipped ones are {', '.join(found)}")
    return found[name]


class _Reader:
    """Pops typed keys from a TOML table and reports mistakes by dotted key."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, dict(table), prefix

    def fail(self, key: str, what: str) -> CampaignError:
        return CampaignError(f"{self.path}: key '{_shown(self.prefix + key)}': {what}")

    def get(self, key: str, kind: type, default: Any = ..., *, required: bool = False, max_len: int = 0) -> Any:
        if key not in self.table:
            if required or default is ...:
                raise self.fail(key, "is missing")
            return default
        value = self.table.pop(key)
        if kind is int and isinstance(value, bool):
            raise self.fail(key, f"must be a whole number, not {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"must be {_kind_name(kind)}, not {type(value).__name__}")
        if isinstance(value, str):
            if required and not value.strip():
                raise self.fail(key, "must not be empty")
            self.check_text(key, value, max_len)
        return value

    def check_text(self, key: str, value: str, max_len: int) -> None:
        control = first_control(value)
        if control is not None:
            raise self.fail(key, f"contains the invisible control character {control}; remove it")
        if max_len and len(_clean(value)) > max_len:
            raise self.fail(key, f"is {len(_clean(value))} characters long; the limit is {max_len}")

    def strings(self, key: str, default: tuple[str, ...] | None = None, max_len: int = 0) -> tuple[str, ...]:
        if key not in self.table and default is not None:
            return default
        items = self.get(key, list)
        if not all(isinstance(i, str) for i in items):
            raise self.fail(key, "must be a list of texts")
        for item in items:
            self.check_text(key, item, max_len)
        return tuple(_clean(i) for i in items)

    def sub(self, key: str) -> _Reader:
        table = self.get(key, dict, {})
        return _Reader(self.path, table, f"{self.prefix}{key}.")

    def done(self) -> None:
        if self.table:
            key = sorted(self.table)[0]
            raise self.fail(key, "is not a known key (check the spelling)")


def _shown(key: str) -> str:
    """A key as it can be shown on one line (TOML allows line breaks in quoted keys)."""
    return key if key.isprintable() else key.encode("unicode_escape").decode("ascii")


def _kind_name(kind: type) -> str:
    return {str: "a text", int: "a whole number", bool: "true or false", list: "a list", dict: "a table"}.get(
        kind, kind.__name__
    )


def _clean(text: str) -> str:
    """Collapse runs of spaces and join paragraph-internal line breaks."""
    return re.sub(r"[ \t]+", " ", text.replace("\r", "")).strip()


def load_shipped_campaign(name: str) -> Campaign:
    """A campaign that ships inside the package, by name."""
    return parse_campaign(_parse_toml(shipped_campaign_text(name), Path(name)), Path(name))


def _shipped_name(path: Path | None) -> str | None:
    """The shipped campaign ``path`` stands for: none given, or a bare name that is no file here."""
    if path is None:
        return DEFAULT_CAMPAIGN
    name = path.name.removesuffix(".toml")
    if len(path.parts) == 1 and not path.exists() and name in shipped_campaigns():
        return name
    return None


def load_campaign(path: Path | None = None) -> Campaign:
    """Read and validate a campaign file; the default campaign when ``path`` is None.

    A ``path`` that is no file but the name of a shipped campaign (``mangystau-ru``)
    loads that one, so the shipped campaigns work from any folder.
    """
    name = _shipped_name(path)
    if name is not None:
        return load_shipped_campaign(name)
    assert path is not None
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CampaignError(f"{path}: is larger than {MAX_FILE_BYTES // 1024} KiB, too large to be a campaign file")
        raw = path.read_bytes()
    except FileNotFoundError:
        names = ", ".join(shipped_campaigns())
        raise CampaignError(
            f"{path}: no such campaign file; give a .toml file or a shipped campaign ({names})"
        ) from None
    except IsADirectoryError:
        raise CampaignError(f"{path}: is a folder; give a campaign .toml file") from None
    except OSError as exc:
        raise CampaignError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CampaignError(f"{path}: is not UTF-8 text; save the campaign file as UTF-8") from None
    return parse_campaign(_parse_toml(text, path), path)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path}: is not valid TOML ({exc}); fix the line it names") from exc
    except RecursionError:
        raise CampaignError(f"{path}: is nested too deeply to be a campaign file") from None


def parse_campaign(data: dict[str, Any], path: Path) -> Campaign:
    top = _Reader(path, data, "")
    c = top.sub("campaign")
    campaign_id = c.get("id", str, required=True)
    if not _ID_RE.match(campaign_id):
        raise c.fail("id", "must be 1-32 lowercase letters, digits, '-' or '_'")
    title = _clean(c.get("title", str, required=True, max_len=MAX_LINE))
    language = c.get("language", str, "en")
    if language not in LANGUAGES:
        raise c.fail("language", f"must be one of {', '.join(LANGUAGES)}, not {language!r}")
    alphabet = c.get("alphabet", str, DEFAULT_ALPHABET)
    if alphabet not in ALPHABETS:
        raise c.fail("alphabet", f"must be one of {', '.join(ALPHABETS)}, not {alphabet!r}")
    paper = c.get("paper", str, "A4").upper()
    if paper not in geometry.PAPER_SIZES_MM:
        raise c.fail("paper", f"must be one of {', '.join(geometry.PAPER_SIZES_MM)}")
    rows = c.get("rows", int, None)
    return_address = _clean(c.get("return_address", str, "", max_len=MAX_LINE))
    branch = _clean(c.get("branch", str, "", max_len=MAX_BRANCH))
    target = c.get("target", int, None)
    if target is not None and target < 1:
        raise c.fail("target", "must be a positive number of signatures")
    c.done()

    a = top.sub("appeal")
    appeal = Appeal(
        title=_clean(a.get("title", str, "", max_len=MAX_LINE)),
        before=a.strings("before", (), MAX_PARAGRAPH),
        demands=a.strings("demands", (), MAX_PARAGRAPH),
        after=a.strings("after", (), MAX_PARAGRAPH),
        signed=_clean(a.get("signed", str, "", max_len=MAX_LINE)),
    )
    a.done()
    appeal_length = sum(len(t) for t in (appeal.title, *appeal.before, *appeal.demands, *appeal.after))
    if appeal_length > MAX_APPEAL:
        raise CampaignError(f"{path}: the appeal is {appeal_length} characters long; the limit is {MAX_APPEAL}")

    p = top.sub("petition")
    petition_title = _clean(p.get("title", str, required=True, max_len=MAX_PETITION_TITLE))
    statement = _clean(p.get("statement", str, required=True, max_len=MAX_STATEMENT))
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
    if rows is None:
        rows = fitting
    elif not 1 <= rows <= fitting:
        raise CampaignError(
            f"{path}: key 'campaign.rows': must be 1 to {fitting} on {paper} paper with these columns "
            "(leave it out for as many as fit)"
        )
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
