"""Campaign databases for the counting tests, built row by row with SQL.

``Corpus`` writes sheets, scans and rows the way the scan stage stores them.
``planted`` builds a corpus from a plan of people and where each signed, so
the expected counts are derived from the plan, never typed in.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faker import Faker
from rapidfuzz.distance import Levenshtein

from petitionscan import store


class Corpus:
    """Writes one campaign database; every method returns the new id."""

    def __init__(self, path: Path | str) -> None:
        self.path = path  # a SQLite file or a PostgreSQL URL
        self.conn = store.connect(path)
        self._pages = 0

    def sheet(
        self,
        serial: str,
        *,
        copy_no: int = 1,
        branch: str = "",
        scanned_at: str = "2024-05-01T10:00:00+00:00",
        page_hash: str | None = None,
        source_file: str = "batch.pdf",
    ) -> tuple[int, int]:
        """A sheet and the scan it was read from: (sheet id, scan id)."""
        with store.transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO sheets (serial, copy_no, campaign_id, layout_code, branch, first_seen_at) "
                "VALUES (?, ?, 'test', 'A4', ?, ?)",
                (serial, copy_no, branch, scanned_at),
            )
            sheet_id = int(cur.lastrowid or 0)
        return sheet_id, self.scan(sheet_id, page_hash=page_hash, scanned_at=scanned_at, source_file=source_file)

    def scan(
        self,
        sheet_id: int | None,
        *,
        status: str = "read",
        page_hash: str | None = None,
        scanned_at: str = "2024-05-01T10:00:00+00:00",
        source_file: str = "batch.pdf",
    ) -> int:
        self._pages += 1
        page_hash = page_hash or hashlib.sha256(f"{self.path}:{self._pages}".encode()).hexdigest()
        with store.transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO scans (source_file, page, file_hash, page_hash, status, sheet_id, engine, scanned_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'test', ?)",
                (source_file, self._pages, "f" * 64, page_hash, status, sheet_id, scanned_at),
            )
        return int(cur.lastrowid or 0)

    def row(
        self,
        sheet_id: int,
        scan_id: int,
        row_no: int,
        name: str,
        *,
        status: str = "auto",
        workplace: str = "",
        town: str = "",
        confidence: float = 0.97,
        updated_by: str | None = None,
        crop: bytes | None = None,
    ) -> int:
        first, _, surname = name.partition(" ")
        signed = 0 if status in ("blank", "unsigned") else 1
        crossed = 1 if status == "crossed_out" else 0
        with store.transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO rows (sheet_id, scan_id, row_no, name, first_name, surname, workplace, town, "
                "status, confidence, signed, crossed_out, machine_name, machine_status, crop_png, updated_at, "
                "updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sheet_id, scan_id, row_no, name, first, surname, workplace, town, status, confidence, signed,
                 crossed, name, status, crop, store.now_iso(), updated_by),
            )  # fmt: skip
        return int(cur.lastrowid or 0)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def corpus(tmp_path: Path) -> Iterator[Callable[[str], Corpus]]:
    """Factory: ``corpus("a.db")`` opens a new database in the test's folder."""
    opened: list[Corpus] = []

    def make(name: str = "campaign.db") -> Corpus:
        c = Corpus(tmp_path / name)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


# --- a planted corpus: people, where they signed, and the truth ------------------------------


@dataclass
class Person:
    name: str
    workplace: str
    town: str


@dataclass
class Truth:
    """What the planted corpus must count to."""

    statuses: Counter[str] = field(default_factory=Counter)
    signers: set[int] = field(default_factory=set)  # person index per counted row
    counted_rows: int = 0
    unique_by_branch: Counter[str] = field(default_factory=Counter)
    rows_by_branch: Counter[str] = field(default_factory=Counter)
    first_branch: dict[int, str] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    row_person: dict[int, int] = field(default_factory=dict)  # row id -> person index

    @property
    def unique(self) -> int:
        return len(self.signers)


def _people(seed: int, count: int) -> list[Person]:
    """Distinct people whose names are at least three edits apart."""
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    workplaces = ["DEPOT NORTH", "HOSPITAL", "CITY SCHOOL", "POST OFFICE"]
    towns = ["LEEDS", "YORK", "HULL"]
    out: list[Person] = []
    while len(out) < count:
        name = f"{fake.first_name()} {fake.last_name()}".upper()
        if any(Levenshtein.distance(name, p.name) < 3 for p in out):
            continue
        out.append(Person(name, rng.choice(workplaces), rng.choice(towns)))
    return out


def _misread(name: str) -> str:
    """Swap one letter for a look-alike, as the recognizer does (O->Q, I->L, ...)."""
    swaps = {"O": "Q", "I": "L", "U": "V", "N": "M", "R": "B", "E": "F", "D": "O"}
    for i in range(len(name) - 1, 0, -1):
        if name[i] in swaps and name[i - 1] != " ":
            return name[:i] + swaps[name[i]] + name[i + 1 :]
    return name + "S"


def build_planted(c: Corpus, seed: int = 7) -> Truth:
    """Three branches of sheets with every kind of row and planted duplicates.

    Planted: the same person on two sheets of different branches; a page scanned
    twice; a photocopied sheet signed by other people; namesakes at different
    workplaces; a misread name of someone who signed twice; a Cyrillic and a
    Latin spelling of one name; rows needing review and rows that never count.
    """
    rng = random.Random(seed)
    everyone = _people(seed, 70)
    people, copy_people = everyone[:60], everyone[60:]
    truth = Truth(people=people)
    # Namesake of person 0 at another workplace and town: a different person.
    other_wp = next(w for w in ("DEPOT NORTH", "HOSPITAL") if w != people[0].workplace)
    other_town = next(t for t in ("LEEDS", "YORK") if t != people[0].town)
    people.append(Person(people[0].name, other_wp, other_town))
    namesake = len(people) - 1
    # One person writes in Cyrillic on one sheet and in Latin on another.
    people.append(Person("ЖАНАР ӘБЕНОВА", "HOSPITAL", "YORK"))
    zhanar = len(people) - 1

    plan: list[tuple[str, str, int, list[tuple[int | None, str, str]]]] = []
    # (serial, branch, copy_no, [(person or None, status, written name)])
    serial_no = 0
    queue = list(range(60))
    branches = ["RAIL", "HEALTH", "POST"]
    while queue:
        serial_no += 1
        entries: list[tuple[int | None, str, str]] = []
        for _ in range(8):
            if not queue:
                break
            p = queue.pop(0)
            entries.append((p, "auto", people[p].name))
        entries.append((None, "blank", ""))
        entries.append((None, rng.choice(["crossed_out", "unsigned", "unreadable", "not_signature"]), "X Y"))
        plan.append((f"S{serial_no:04d}", branches[serial_no % 3], 1, entries))
    # Second signatures: person 1 signs again on a sheet of another branch; person 2
    # again with a misread name; person 0's namesake; Zhanar twice; a confirmed row;
    # rows still needing review (their person is counted nowhere else).
    review_person = len(people)
    people.append(Person("PENDING REVIEWER", "HOSPITAL", "HULL"))
    extra: list[tuple[int | None, str, str]] = [
        (1, "auto", people[1].name),
        (2, "auto", _misread(people[2].name)),
        (namesake, "auto", people[namesake].name),
        (zhanar, "auto", "ЖАНАР ӘБЕНОВА"),
        (3, "confirmed", people[3].name.lower()),
        (review_person, "needs_review", people[review_person].name),
    ]
    serial_no += 1
    plan.append((f"S{serial_no:04d}", "RAIL", 1, extra))
    serial_no += 1
    plan.append((f"S{serial_no:04d}", "HEALTH", 1, [(zhanar, "auto", "ZHANAR ABENOVA"), (None, "blank", "")]))
    # A photocopy of the first sheet, signed by other people.
    first_idx = len(people)
    people.extend(Person(p.name, p.workplace, p.town) for p in copy_people)
    plan.append(
        ("S0001", "POST", 2, [(first_idx + i, "auto", people[first_idx + i].name) for i in range(len(copy_people))])
    )

    for day, (serial, branch, copy_no, entries) in enumerate(plan, start=1):
        sheet_id, scan_id = c.sheet(
            serial, copy_no=copy_no, branch=branch, scanned_at=f"2024-05-{1 + day % 4:02d}T09:00:00+00:00"
        )
        for row_no, (p, status, written) in enumerate(entries, start=1):
            person = people[p] if p is not None else None
            row_id = c.row(
                sheet_id,
                scan_id,
                row_no,
                written,
                status=status,
                workplace=person.workplace if person else "",
                town=person.town if person else "",
                updated_by="ann" if status == "confirmed" else None,
            )
            truth.statuses[status] += 1
            truth.rows_by_branch[branch] += 1
            if p is not None and status in store.COUNTED_STATUSES:
                truth.counted_rows += 1
                truth.row_person[row_id] = p
                if p not in truth.signers:
                    truth.first_branch[p] = branch
                    truth.unique_by_branch[branch] += 1
                truth.signers.add(p)
    # The first sheet's page scanned a second time: stored as a duplicate scan, no new rows.
    c.scan(1, status="duplicate", scanned_at="2024-05-09T09:00:00+00:00")
    return truth


@pytest.fixture
def planted(corpus: Callable[[str], Corpus]) -> tuple[Corpus, Truth]:
    c = corpus("campaign.db")
    return c, build_planted(c)


def rows_of(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM rows ORDER BY id").fetchall()
