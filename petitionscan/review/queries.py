"""What the review pages read from and write to the campaign database.

Every function takes an open connection and returns small frozen dataclasses,
so the web layer only turns them into JSON or HTML. Every write is one
``BEGIN IMMEDIATE`` transaction that checks ``rows.version`` first: two
volunteers on the same database never overwrite each other unnoticed.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from petitionscan import dedupe, geometry, tally
from petitionscan.alphabets import DEFAULT_ALPHABET
from petitionscan.errors import UsageError
from petitionscan.store import COUNTED_STATUSES, Connection, Row, now_iso, transaction

# A letter read with less than this probability is shown as uncertain.
UNCERTAIN_BELOW = 0.9

# What each decision key of the page sets the row's status to.
DECISIONS: dict[str, str] = {
    "confirm": "confirmed",
    "unreadable": "unreadable",
    "not_signature": "not_signature",
    "crossed_out": "crossed_out",
    "reopen": "needs_review",
}
# Statuses the machine gives a row it found empty; filling one in is a "fill".
_EMPTY_STATUSES = ("blank", "unsigned")
SPLIT_FIELDS = ("first_name", "surname")
FIELD_LABELS = {"name": "Name", "first_name": "First name", "surname": "Surname"}

MAX_NAME_LENGTH = 120
MAX_REVIEWER_LENGTH = 60


class RowNotFound(LookupError):
    """The row asked for is not in the database (deleted, or a wrong id)."""


class Conflict(Exception):
    """Someone else changed the row (or pair) since the page loaded it.

    Carries what is stored now, so the page can show the other decision
    instead of silently replacing it.
    """

    def __init__(self, current: RowView | None, last: LogEntry | None, pair: PairDecision | None = None):
        super().__init__("changed by someone else meanwhile")
        self.current = current
        self.last = last
        self.pair = pair


@dataclass(frozen=True)
class Letter:
    """One machine-read letter with its alternatives (best first, best included)."""

    field: str
    position: int
    char: str
    probability: float
    alternatives: tuple[tuple[str, float], ...]

    @property
    def uncertain(self) -> bool:
        return self.probability < UNCERTAIN_BELOW

    @property
    def overruled(self) -> bool:
        """The name lists chose another letter than the network saw; the network's is the first alternative."""
        return len(self.alternatives) > 1 and self.alternatives[1][1] > self.probability


@dataclass(frozen=True)
class FieldView:
    """One name field of a row: what the machine read and what is stored now."""

    field: str
    label: str
    machine_text: str
    current: str
    letters: tuple[Letter, ...]


@dataclass(frozen=True)
class LogEntry:
    """One line of the audit trail."""

    reviewer: str
    decided_at: str
    action: str
    old_name: str | None
    new_name: str | None
    old_status: str | None
    new_status: str | None


@dataclass(frozen=True)
class RowView:
    """A row as the review pages show it (without the image bytes)."""

    id: int
    sheet_id: int
    serial: str
    copy_no: int
    row_no: int
    name: str
    status: str
    machine_name: str
    machine_status: str
    confidence: float | None
    version: int
    updated_at: str
    updated_by: str | None
    has_crop: bool
    workplace: str
    town: str
    fields: tuple[FieldView, ...]
    alphabet: str = DEFAULT_ALPHABET  # the sheet's, from its layout code: what the names are written in

    @property
    def split(self) -> bool:
        return len(self.fields) == 2


@dataclass(frozen=True)
class Progress:
    """Rows still in the queue and rows decided since local midnight."""

    left: int
    done_today: int
    mine_today: int


@dataclass(frozen=True)
class SheetSummary:
    id: int
    serial: str
    copy_no: int
    branch: str | None
    rows: int
    needs_review: int
    counted: int


@dataclass(frozen=True)
class SheetPage:
    """The sheet's layout and, when its scan stored one, the scan whose page picture is shown."""

    layout_code: str
    scan_id: int | None

    @property
    def alphabet(self) -> str:
        return alphabet_of(self.layout_code)


@dataclass(frozen=True)
class PairDecision:
    decision: str
    decided_by: str | None
    decided_at: str

    @property
    def stamp(self) -> str:
        """What the page sends back to prove which decision it saw."""
        return dedupe.decision_stamp(self.decision, self.decided_by, self.decided_at)


@dataclass(frozen=True)
class DuplicatePair:
    """Two rows the counting matched (or kept apart), with its reason and any person's decision."""

    kind: str  # probable, apart, exact or person
    reason: str
    counted_once: bool
    a: RowView
    b: RowView
    decision: PairDecision | None


# --- cleaning what people type ----------------------------------------------------------


def clean_name(text: str) -> str:
    """Names are stored as the counting compares them: capitals, one space, plain hyphens."""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        raise UsageError("a name cannot contain control characters; type letters only")
    cleaned = dedupe.normalize_name(text)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise UsageError(f"a name is at most {MAX_NAME_LENGTH} characters; shorten it")
    return cleaned


def clean_reviewer(text: str) -> str:
    """A reviewer's name as typed, trimmed; it goes into every audit line."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise UsageError("type your name first: every decision is signed with it")
    if len(cleaned) > MAX_REVIEWER_LENGTH or any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise UsageError(f"type a plain name of at most {MAX_REVIEWER_LENGTH} characters")
    return cleaned


def local_midnight_utc(now: datetime | None = None) -> str:
    """Start of the volunteer's local day, in the format of the ``*_at`` columns."""
    local = (now or datetime.now()).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC).isoformat(timespec="seconds")


# --- reading ----------------------------------------------------------------------------

_ROW_COLUMNS = """
    r.id, r.sheet_id, s.serial, s.copy_no, r.row_no, r.name, r.first_name, r.surname,
    r.status, r.machine_name, r.machine_status, r.confidence, r.version, r.updated_at,
    r.updated_by, r.crop_png IS NOT NULL AS has_crop, r.workplace, r.town, s.layout_code
"""
_ROW_FROM = "FROM rows r JOIN sheets s ON s.id = r.sheet_id"
_QUEUE_ORDER = "r.confidence IS NOT NULL, r.confidence, r.id"
"""Least confident first, unknown confidence first of all."""


def _letters(conn: Connection, row_ids: list[int]) -> dict[int, list[Letter]]:
    found: dict[int, list[Letter]] = defaultdict(list)
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for r in conn.execute(
            f"SELECT * FROM letters WHERE row_id IN ({marks}) ORDER BY row_id, field, position", chunk
        ):
            alternatives = [(r["char"], float(r["probability"]))]
            for alt, prob in ((r["alt2"], r["alt2_probability"]), (r["alt3"], r["alt3_probability"])):
                if alt:
                    alternatives.append((alt, float(prob or 0.0)))
            found[r["row_id"]].append(
                Letter(r["field"], r["position"], r["char"], float(r["probability"]), tuple(alternatives))
            )
    return found


@lru_cache(maxsize=256)
def alphabet_of(layout_code: str) -> str:
    """The alphabet a sheet asked for, from its layout code; Latin for a code this version cannot read."""
    try:
        return geometry.parse_layout_code(layout_code).alphabet
    except ValueError:
        return DEFAULT_ALPHABET


def _text_from_letters(letters: list[Letter]) -> str:
    """The machine's text of one field, rebuilt from its letters (gaps are spaces)."""
    if not letters:
        return ""
    chars = [" "] * (max(letter.position for letter in letters) + 1)
    for letter in letters:
        chars[letter.position] = letter.char
    return "".join(chars).strip()


def _is_split(row: Row, letters: list[Letter]) -> bool:
    return bool(row["first_name"] or row["surname"]) or any(x.field in SPLIT_FIELDS for x in letters)


def _row_view(row: Row, letters: list[Letter], split: bool) -> RowView:
    by_field: dict[str, list[Letter]] = defaultdict(list)
    for letter in letters:
        by_field[letter.field].append(letter)
    names = SPLIT_FIELDS if split else ("name",)
    fields = []
    for field in names:
        own = by_field.get(field, [])
        stored = row["machine_name"] if field == "name" else row[field]
        machine = _text_from_letters(own) if own else stored
        fields.append(FieldView(field, FIELD_LABELS[field], machine, row[field], tuple(own)))
    return RowView(
        id=row["id"],
        sheet_id=row["sheet_id"],
        serial=row["serial"],
        copy_no=row["copy_no"],
        row_no=row["row_no"],
        name=row["name"],
        status=row["status"],
        machine_name=row["machine_name"],
        machine_status=row["machine_status"],
        confidence=row["confidence"],
        version=row["version"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        has_crop=bool(row["has_crop"]),
        workplace=row["workplace"],
        town=row["town"],
        fields=tuple(fields),
        alphabet=alphabet_of(row["layout_code"]),
    )


def _views(conn: Connection, rows: list[Row], force_split: bool = False) -> list[RowView]:
    letters = _letters(conn, [r["id"] for r in rows])
    return [_row_view(r, letters.get(r["id"], []), force_split or _is_split(r, letters.get(r["id"], []))) for r in rows]


def _sheet_is_split(conn: Connection, sheet_id: int) -> bool:
    """A sheet asks for first name and surname apart if any of its rows has them."""
    found = conn.execute(
        """SELECT 1 FROM rows r WHERE r.sheet_id = ? AND (r.first_name != '' OR r.surname != ''
               OR EXISTS (SELECT 1 FROM letters l WHERE l.row_id = r.id AND l.field IN ('first_name', 'surname')))
           LIMIT 1""",
        (sheet_id,),
    ).fetchone()
    return found is not None


def get_row(conn: Connection, row_id: int) -> RowView:
    row = conn.execute(f"SELECT {_ROW_COLUMNS} {_ROW_FROM} WHERE r.id = ?", (row_id,)).fetchone()
    if row is None:
        raise RowNotFound(row_id)
    letters = _letters(conn, [row_id]).get(row_id, [])
    split = _is_split(row, letters) or _sheet_is_split(conn, row["sheet_id"])
    return _row_view(row, letters, split)


def queue(conn: Connection, limit: int, exclude: frozenset[int] = frozenset()) -> list[RowView]:
    """Rows waiting for a person, least confident first (unknown confidence first of all)."""
    found: list[Row] = []
    offset = 0
    batch = max(limit + len(exclude), 1)
    while len(found) < limit:
        chunk = conn.execute(
            f"""SELECT {_ROW_COLUMNS} {_ROW_FROM} WHERE r.status = 'needs_review'
                ORDER BY {_QUEUE_ORDER} LIMIT ? OFFSET ?""",
            (batch, offset),
        ).fetchall()
        found.extend(r for r in chunk if r["id"] not in exclude)
        if len(chunk) < batch:
            break
        offset += batch
    return _views(conn, found[:limit])


def claim(
    conn: Connection,
    holder: str,
    limit: int,
    exclude: frozenset[int] = frozenset(),
    *,
    seconds: float = 120.0,
    now: datetime | None = None,
) -> list[RowView]:
    """Rows waiting for a person, leased to ``holder`` so that no other reviewer is handed them.

    One statement claims them: rows nobody holds, whose lease ran out, or
    that ``holder`` holds already (the lease is extended). Two reviewers
    asking at once are each given other rows by the database itself: the
    second one's insert waits for the first one's lease and then skips the
    row, so the queue asks again for what it is still short of.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.isoformat(timespec="milliseconds")
    until = (moment + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")
    held: list[int] = []
    for _ in range(3):
        skip = ",".join(str(int(i)) for i in exclude | set(held))
        new = [
            int(r[0])
            for r in conn.execute(
                f"""INSERT INTO row_leases (row_id, leased_by, lease_until)
                    SELECT r.id, ?, ? FROM rows r
                    WHERE r.status = 'needs_review' {f"AND r.id NOT IN ({skip})" if skip else ""}
                      AND NOT EXISTS (SELECT 1 FROM row_leases l
                                      WHERE l.row_id = r.id AND l.lease_until > ? AND l.leased_by != ?)
                    ORDER BY {_QUEUE_ORDER} LIMIT ?
                    ON CONFLICT (row_id) DO UPDATE SET leased_by = excluded.leased_by,
                        lease_until = excluded.lease_until
                    WHERE row_leases.lease_until <= ? OR row_leases.leased_by = excluded.leased_by
                    RETURNING row_id""",
                (holder, until, stamp, holder, limit - len(held), stamp),
            ).fetchall()
        ]
        held += new
        if not new or len(held) >= limit:
            break
    if not held:
        return []
    marks = ",".join("?" * len(held))
    rows = conn.execute(
        f"SELECT {_ROW_COLUMNS} {_ROW_FROM} WHERE r.id IN ({marks}) AND r.status = 'needs_review' ORDER BY {_QUEUE_ORDER}",
        held,
    )
    return _views(conn, rows.fetchall())


def release_leases(conn: Connection, reviewer: str) -> None:
    """Give back every row a reviewer holds, in any of their tabs (holders are ``reviewer|tab``)."""
    prefix = f"{reviewer}|"
    conn.execute("DELETE FROM row_leases WHERE substr(leased_by, 1, ?) = ?", (len(prefix), prefix))


def crop_png(conn: Connection, row_id: int) -> bytes | None:
    found = conn.execute("SELECT crop_png FROM rows WHERE id = ?", (row_id,)).fetchone()
    if found is None:
        raise RowNotFound(row_id)
    return bytes(found[0]) if found[0] is not None else None


def last_log(conn: Connection, row_id: int) -> LogEntry | None:
    found = conn.execute(
        """SELECT reviewer, decided_at, action, old_name, new_name, old_status, new_status
           FROM review_log WHERE row_id = ? ORDER BY id DESC LIMIT 1""",
        (row_id,),
    ).fetchone()
    return LogEntry(*found) if found else None


def history(conn: Connection, row_id: int) -> list[LogEntry]:
    return [
        LogEntry(*r)
        for r in conn.execute(
            """SELECT reviewer, decided_at, action, old_name, new_name, old_status, new_status
               FROM review_log WHERE row_id = ? ORDER BY id""",
            (row_id,),
        )
    ]


def progress(conn: Connection, reviewer: str | None, now: datetime | None = None) -> Progress:
    since = local_midnight_utc(now)
    left = conn.execute("SELECT count(*) FROM rows WHERE status = 'needs_review'").fetchone()[0]
    done = conn.execute("SELECT count(DISTINCT row_id) FROM review_log WHERE decided_at >= ?", (since,)).fetchone()[0]
    mine = conn.execute(
        "SELECT count(DISTINCT row_id) FROM review_log WHERE decided_at >= ? AND reviewer = ?",
        (since, reviewer or ""),
    ).fetchone()[0]
    return Progress(left=left, done_today=done, mine_today=mine)


def sheets(conn: Connection) -> list[SheetSummary]:
    counted = ", ".join(f"'{s}'" for s in COUNTED_STATUSES)
    return [
        SheetSummary(*r)
        for r in conn.execute(
            f"""SELECT s.id, s.serial, s.copy_no, s.branch, count(r.id),
                       coalesce(sum(CASE WHEN r.status = 'needs_review' THEN 1 ELSE 0 END), 0),
                       coalesce(sum(CASE WHEN r.status IN ({counted}) THEN 1 ELSE 0 END), 0)
                FROM sheets s LEFT JOIN rows r ON r.sheet_id = s.id
                GROUP BY s.id ORDER BY s.serial, s.copy_no"""
        )
    ]


def sheet_rows(conn: Connection, sheet_id: int) -> tuple[SheetSummary, list[RowView]]:
    summary = next((s for s in sheets(conn) if s.id == sheet_id), None)
    if summary is None:
        raise RowNotFound(sheet_id)
    rows = conn.execute(f"SELECT {_ROW_COLUMNS} {_ROW_FROM} WHERE r.sheet_id = ? ORDER BY r.row_no", (sheet_id,))
    return summary, _views(conn, rows.fetchall(), force_split=_sheet_is_split(conn, sheet_id))


def _latest_read_scan(conn: Connection, sheet_id: int) -> tuple[int, bool] | None:
    """The sheet's latest read scan and whether it kept the page picture (the blob is not loaded)."""
    if conn.execute("SELECT 1 FROM sheets WHERE id = ?", (sheet_id,)).fetchone() is None:
        raise RowNotFound(sheet_id)
    scan = conn.execute(
        """SELECT id, coalesce(length(page_jpeg), 0) > 0 FROM scans
           WHERE sheet_id = ? AND status = 'read' ORDER BY id DESC LIMIT 1""",
        (sheet_id,),
    ).fetchone()
    return (int(scan[0]), bool(scan[1])) if scan is not None else None


def sheet_page(conn: Connection, sheet_id: int) -> SheetPage:
    """The layout and the scan with the page picture; scans from before pictures were kept have none."""
    scan = _latest_read_scan(conn, sheet_id)
    code = conn.execute("SELECT layout_code FROM sheets WHERE id = ?", (sheet_id,)).fetchone()[0]
    return SheetPage(str(code), scan[0] if scan is not None and scan[1] else None)


def page_jpeg(conn: Connection, sheet_id: int) -> bytes | None:
    """The registered page picture of the sheet's latest read scan (None if it has none)."""
    scan = _latest_read_scan(conn, sheet_id)
    if scan is None or not scan[1]:
        return None
    found = conn.execute("SELECT page_jpeg FROM scans WHERE id = ?", (scan[0],)).fetchone()
    return bytes(found[0])


# --- deciding ---------------------------------------------------------------------------


def decide(
    conn: Connection,
    row_id: int,
    *,
    version: int,
    decision: str,
    reviewer: str,
    values: dict[str, str] | None = None,
) -> RowView:
    """Store one person's decision on a row, with its audit line, in one transaction.

    ``version`` is the one the page showed; if the row moved on since, nothing
    is written and :class:`Conflict` carries what is there now. ``values``
    (field name to text) is the name typed for a ``confirm``; the machine's
    reading stays in ``machine_name``.
    """
    if decision not in DECISIONS:
        raise UsageError(f"unknown decision {decision!r}; use one of {', '.join(DECISIONS)}")
    reviewer = clean_reviewer(reviewer)
    with transaction(conn):
        before = get_row(conn, row_id)
        if before.version != version:
            raise Conflict(before, last_log(conn, row_id))
        new_status = DECISIONS[decision]
        columns = {"name": before.name}
        columns.update({f.field: f.current for f in before.fields})
        if decision == "confirm":
            typed = {f.field: clean_name((values or {}).get(f.field, f.current)) for f in before.fields}
            columns.update(typed)
            if before.split:
                columns["name"] = " ".join(t for t in (typed["first_name"], typed["surname"]) if t)
            if not columns["name"]:
                raise UsageError("type the name before confirming, or mark the row unreadable")
            if before.status in _EMPTY_STATUSES:
                action = "fill"
            elif columns["name"] == before.name:
                action = "accept"
            else:
                action = "correct"
        else:
            action = decision
        stamp = now_iso()
        changed = conn.execute(
            """UPDATE rows SET name = ?, first_name = ?, surname = ?, status = ?, version = version + 1,
                   updated_at = ?, updated_by = ? WHERE id = ? AND version = ?""",
            (
                columns["name"],
                columns.get("first_name", ""),
                columns.get("surname", ""),
                new_status,
                stamp,
                reviewer,
                row_id,
                version,
            ),
        ).rowcount
        if changed != 1:  # cannot happen inside IMMEDIATE, but never write a log line for nothing
            raise Conflict(get_row(conn, row_id), last_log(conn, row_id))
        conn.execute(
            """INSERT INTO review_log (row_id, reviewer, decided_at, action, old_name, new_name,
                   old_status, new_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (row_id, reviewer, stamp, action, before.name, columns["name"], before.status, new_status),
        )
        conn.execute("DELETE FROM row_leases WHERE row_id = ?", (row_id,))  # decided: nobody holds it now
        return get_row(conn, row_id)


# --- probable duplicates ----------------------------------------------------------------

# The pairs the counting merged or kept apart, most worth a person's look first.
_KIND_ORDER = {"probable": 0, "apart": 1, "exact": 2, "person": 3}
_PAIR_LOCK = threading.Lock()


def duplicate_pairs(conn: Connection, limit: int = 200) -> list[DuplicatePair]:
    """The counting's own duplicate decisions, as pairs a person can confirm or overrule.

    The finder is the tally's (:mod:`petitionscan.dedupe`), so what is shown is
    exactly what the count does. Pairs no person has decided come first:
    probable matches (confusable letters), then namesakes kept apart, then
    exact name matches; pairs people decided follow, so they can be changed.
    """
    rows = tally.load_rows(conn)
    result = tally.dedupe_rows(rows, dedupe.people_decisions(conn))
    person = _person_decisions(conn)
    found: dict[tuple[int, int], tuple[str, str, bool]] = {}
    for d in result.decisions:
        a, b = min(d.row_a, d.row_b), max(d.row_a, d.row_b)
        if a == b:
            continue
        if d.decided_by is not None:
            kind = "person"
        elif not d.same:
            kind = "apart"
        else:
            kind = "exact" if d.reason == "same name" else "probable"
        found.setdefault((a, b), (kind, d.reason, d.same))
    for pair, decision in person.items():  # decided pairs the counting no longer sees (a row left the count)
        found.setdefault(pair, ("person", f"decided by {decision.decided_by}", decision.decision == "same"))
    order = sorted(found, key=lambda p: (p in person, _KIND_ORDER[found[p][0]], p))[:limit]
    ids = sorted({i for pair in order for i in pair})
    views: dict[int, RowView] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        picked = conn.execute(
            f"SELECT {_ROW_COLUMNS} {_ROW_FROM} WHERE r.id IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall()
        views.update((v.id, v) for v in _views(conn, picked))
    return [
        DuplicatePair(
            kind=found[(a, b)][0],
            reason=found[(a, b)][1],
            counted_once=found[(a, b)][2],
            a=views[a],
            b=views[b],
            decision=person.get((a, b)),
        )
        for a, b in order
        if a in views and b in views
    ]


def _person_decisions(conn: Connection) -> dict[tuple[int, int], PairDecision]:
    return {
        (r["row_a"], r["row_b"]): PairDecision(r["decision"], r["decided_by"], r["decided_at"])
        for r in conn.execute(
            "SELECT row_a, row_b, decision, decided_by, decided_at FROM duplicate_decisions "
            "WHERE decided_by IS NOT NULL"
        )
    }


def pair_decision(conn: Connection, row_a: int, row_b: int) -> PairDecision | None:
    """A person's decision on the pair, if any (automatic ones are redone by every count)."""
    return _person_decisions(conn).get((min(row_a, row_b), max(row_a, row_b)))


def decide_pair(conn: Connection, row_a: int, row_b: int, *, decision: str, reviewer: str, seen: str) -> PairDecision:
    """Record "same person" or "different people" through the counting's own function.

    ``seen`` is the stamp of the person's decision the page showed ("" for
    none); if another person decided the pair since, :class:`Conflict` carries
    theirs and nothing is written.
    """
    if decision not in ("same", "different"):
        raise UsageError("a duplicate decision is 'same' or 'different'")
    reviewer = clean_reviewer(reviewer)
    with _PAIR_LOCK:  # one decision at a time on this server's connection
        try:  # the check and the write share one write transaction, across processes too
            dedupe.decide_duplicate(conn, row_a, row_b, decision == "same", reviewer, expected=seen)
        except dedupe.DecisionChanged:
            raise Conflict(None, None, pair_decision(conn, row_a, row_b)) from None
        after = pair_decision(conn, row_a, row_b)
    if after is None:  # decide_duplicate always stores one; this guards a silent no-op
        raise Conflict(None, None, None)
    return after
