"""Test data for the review tests: a campaign database filled as the scan stage fills it.

Rows get a true name (drawn into the crop, one capital per box, as on the
sheets) and a machine reading that may have one wrong letter; the wrong
letter is uncertain and its second guess is the true letter. Everything is
drawn from a seed, so every test sees the same campaign.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from anyascii import anyascii
from flask.testing import FlaskClient

from petitionscan import geometry
from petitionscan.forms.campaign import load_campaign
from petitionscan.scan.fields import JPEG_PX_PER_MM
from petitionscan.store import connect, now_iso, transaction

FIRST = ["ANNA", "PIOTR", "MARIA", "JAN", "EWA", "TOMASZ", "KATARZYNA", "ADAM", "ZOFIA", "MAREK", "OLGA"]
LAST = ["NOWAK", "KOWALSKI", "WISNIEWSKA", "LEWANDOWSKI", "ZIELINSKA", "SZYMANSKI", "WOZNIAK", "DABROWSKA"]
LOOKALIKE = {"O": "D", "D": "O", "I": "1", "S": "5", "B": "8", "Z": "2", "U": "V", "V": "U", "E": "F", "N": "H",
             "Қ": "К", "Ұ": "У", "Ә": "А", "Ө": "О", "Ғ": "Г"}  # fmt: skip
BOX_W, BOX_H, BOXES = 26, 34, 22

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, driven by Playwright in the browser tests and the review benchmark."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "test-token-0123456789abcdefghijklmnopqrstuv"


def draw_crop(text: str, rng: random.Random) -> bytes:
    """A name field as scanned: a row of letter boxes, one capital in each, slightly wobbly."""
    img = np.full((BOX_H + 8, BOX_W * BOXES + 8), 255, np.uint8)
    for i in range(BOXES):
        x = 4 + i * BOX_W
        cv2.rectangle(img, (x, 4), (x + BOX_W, 4 + BOX_H), 170, 1)
    for i, ch in enumerate(anyascii(text)[:BOXES]):
        if ch == " ":
            continue
        x = 4 + i * BOX_W + 5 + rng.randint(-2, 2)
        y = 4 + BOX_H - 7 + rng.randint(-2, 2)
        cv2.putText(img, ch, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 30, 2, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", img)
    assert ok
    return png.tobytes()


def draw_page(layout_code: str, written: dict[int, tuple[dict[str, str], int]], rng: random.Random) -> bytes:
    """A registered page as the scan stage keeps it: the layout printed, the names written in.

    ``written`` maps a row number to its fields' text and the ink's grey level
    (a faint pencil is light); rows not in it stay empty.
    Drawn at ``JPEG_PX_PER_MM`` from the page's top-left corner, greyscale JPEG.
    """
    sheet = geometry.sheet_geometry(geometry.parse_layout_code(layout_code))
    px = JPEG_PX_PER_MM

    def pt(x: float, y: float) -> tuple[int, int]:
        return round(x * px), round(y * px)

    width, height = sheet.page_size_mm
    img = np.full((round(height * px), round(width * px)), 250, np.uint8)
    for marker in sheet.markers:
        x0, y0, x1, y1 = marker.rect_mm
        cv2.rectangle(img, pt(x0, y0), pt(x1, y1), 10, -1)
    x0, y0, _, _ = sheet.title_rect_mm
    cv2.putText(img, "PETITION", pt(x0 + 12, y0 + 12), cv2.FONT_HERSHEY_DUPLEX, 1.2, 20, 2, cv2.LINE_AA)
    for row in sheet.rows:
        nx0, _, _, ny1 = row.number_rect_mm
        cv2.putText(img, str(row.row), pt(nx0 + 1, ny1 - 1.5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 90, 1, cv2.LINE_AA)
        texts, ink = written.get(row.row, ({}, 0))
        for f in row.fields:
            for bx0, by0, bx1, by1 in f.boxes_mm:
                cv2.rectangle(img, pt(bx0, by0), pt(bx1, by1), 150, 1)
            if not f.boxes_mm:
                fx0, fy0, fx1, fy1 = f.rect_mm
                cv2.rectangle(img, pt(fx0, fy0), pt(fx1, fy1), 150, 1)
                if texts:  # a signature: a scribble across the rectangle
                    ys = [fy0 + (fy1 - fy0) * rng.uniform(0.3, 0.8) for _ in range(6)]
                    points = np.array([pt(fx0 + 3 + i * (fx1 - fx0 - 6) / 5, y) for i, y in enumerate(ys)], np.int32)
                    cv2.polylines(img, [points], False, ink, 2, cv2.LINE_AA)
                continue
            for (bx0, _, _, by1), ch in zip(f.boxes_mm, anyascii(texts.get(f.key, "")), strict=False):
                if ch != " ":
                    where = pt(bx0 + 1.0 + rng.uniform(-0.3, 0.3), by1 - 1.6 + rng.uniform(-0.3, 0.3))
                    cv2.putText(img, ch, where, cv2.FONT_HERSHEY_SIMPLEX, 0.7, ink, 2, cv2.LINE_AA)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return jpeg.tobytes()


@dataclass
class Campaign:
    """The seeded database and what the tests need to know about it."""

    path: Path
    truth: dict[int, str] = field(default_factory=dict)  # row id -> name really written
    machine: dict[int, str] = field(default_factory=dict)  # row id -> machine reading
    queue: list[int] = field(default_factory=list)  # needs_review ids, least confident first
    blank: list[int] = field(default_factory=list)
    sheets: dict[int, list[int]] = field(default_factory=dict)  # sheet id -> row ids by row_no
    split_sheets: set[int] = field(default_factory=set)
    pages: dict[int, str] = field(default_factory=dict)  # sheet id -> layout code, for sheets with a page picture

    def connect(self) -> closing[sqlite3.Connection]:
        """``with campaign.connect() as conn``: a connection that is closed afterwards."""
        return closing(connect(self.path, create=False))


class CampaignBuilder:
    """Inserts sheets and rows with plain SQL, as the scan stage will."""

    def __init__(self, path: Path, seed: int) -> None:
        self.campaign = Campaign(path)
        self.rng = random.Random(seed)
        self.conn = connect(path)
        self._scan = 0
        self._scans: dict[int, int] = {}
        self._written: dict[int, dict[int, tuple[dict[str, str], int]]] = {}  # sheet -> row_no -> (texts, ink)

    def sheet(self, serial: str, split: bool = False, layout_code: str = "A4-NAME") -> int:
        """A sheet and its read scan; ``layout_code`` is only a real code where a page is drawn."""
        stamp = now_iso()
        with transaction(self.conn):
            sheet_id = self.conn.execute(
                "INSERT INTO sheets (serial, campaign_id, layout_code, branch, first_seen_at) VALUES (?, ?, ?, ?, ?)",
                (serial, "test", layout_code, "Depot 4", stamp),
            ).lastrowid
            self._scan = self.conn.execute(
                "INSERT INTO scans (source_file, page, file_hash, page_hash, status, sheet_id, engine, scanned_at) "
                "VALUES (?, 1, ?, ?, 'read', ?, 'cnn', ?)",
                (f"{serial}.pdf", f"f{serial}", f"p{serial}", sheet_id, stamp),
            ).lastrowid
        assert sheet_id is not None and self._scan is not None
        self._scans[sheet_id] = self._scan
        self._written[sheet_id] = {}
        self.campaign.sheets[sheet_id] = []
        if split:
            self.campaign.split_sheets.add(sheet_id)
        return sheet_id

    def row(
        self,
        sheet_id: int,
        name: str,
        status: str,
        confidence: float | None = None,
        *,
        misread: bool = False,
        crop: bool = True,
        town: str = "Gdansk",
        faint: str = "",
    ) -> int:
        """One row; ``misread`` swaps one letter for a look-alike in the machine reading.

        ``faint`` is a name written so lightly on the page picture that the machine saw a blank row.
        """
        split = sheet_id in self.campaign.split_sheets
        parts = name.split(" ", 1) if split and name else [name]
        fields = dict(zip(("first_name", "surname"), parts, strict=False)) if split else {"name": name}
        read = dict(fields)
        wrong: tuple[str, int] | None = None
        if misread and name:
            key = self.rng.choice(sorted(fields))
            spots = [i for i, ch in enumerate(fields[key]) if ch in LOOKALIKE]
            if spots:
                at = self.rng.choice(spots)
                text = fields[key]
                read[key] = text[:at] + LOOKALIKE[text[at]] + text[at + 1 :]
                wrong = (key, at)
        machine = " ".join(v for v in read.values() if v)
        row_no = len(self.campaign.sheets[sheet_id]) + 1
        with transaction(self.conn):
            row_id = self.conn.execute(
                """INSERT INTO rows (sheet_id, scan_id, row_no, name, first_name, surname, status, confidence,
                       signed, crossed_out, machine_name, machine_status, crop_png, engine, updated_at, town)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 'cnn', ?, ?)""",
                (
                    sheet_id,
                    self._scan,
                    row_no,
                    machine,
                    read.get("first_name", ""),
                    read.get("surname", ""),
                    status,
                    confidence,
                    int(bool(name)),
                    machine,
                    status,
                    draw_crop(name, self.rng) if crop else None,
                    now_iso(),
                    town,
                ),
            ).lastrowid
            assert row_id is not None
            for key, text in read.items():
                for pos, ch in enumerate(text):
                    if ch == " ":
                        continue
                    if wrong == (key, pos):
                        truth_ch = fields[key][pos]
                        probs = (0.46, 0.41, 0.05)
                        alts = (ch, truth_ch, "Q")
                    else:
                        probs = (round(self.rng.uniform(0.93, 0.999), 3), 0.02, 0.01)
                        alts = (ch, "Q", "W")
                    self.conn.execute(
                        """INSERT INTO letters (row_id, field, position, box, char, probability, alt2,
                               alt2_probability, alt3, alt3_probability) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (row_id, key, pos, pos, alts[0], probs[0], alts[1], probs[1], alts[2], probs[2]),
                    )
        if name:
            self._written[sheet_id][row_no] = (dict(fields, town=town.upper()), 25)
        elif faint:
            first, _, last = faint.partition(" ")
            self._written[sheet_id][row_no] = ({"first_name": first, "surname": last, "name": faint}, 185)
        self.campaign.truth[row_id] = name
        self.campaign.machine[row_id] = machine
        self.campaign.sheets[sheet_id].append(row_id)
        if status == "needs_review":
            self.campaign.queue.append(row_id)
        if status == "blank":
            self.campaign.blank.append(row_id)
        return row_id

    def page(self, sheet_id: int) -> None:
        """Store the registered page picture of the sheet's scan, drawn from its rows' true names."""
        code = self.conn.execute("SELECT layout_code FROM sheets WHERE id = ?", (sheet_id,)).fetchone()[0]
        jpeg = draw_page(code, self._written[sheet_id], self.rng)
        with transaction(self.conn):
            self.conn.execute("UPDATE scans SET page_jpeg = ? WHERE id = ?", (jpeg, self._scans[sheet_id]))
        self.campaign.pages[sheet_id] = code

    def random_name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def finish(self) -> Campaign:
        conf = {
            r["id"]: r["confidence"]
            for r in self.conn.execute("SELECT id, confidence FROM rows WHERE status = 'needs_review'")
        }
        self.campaign.queue.sort(key=lambda i: (conf[i] is not None, conf[i] or 0.0, i))
        self.conn.close()
        return self.campaign


def build_campaign(path: Path, seed: int = 11, queue_rows: int = 8) -> Campaign:
    """Two sheets (one with a single name field, one with first name and surname apart).

    Each has uncertain rows, confident rows and a blank row. ANNA NOWAK signed
    both sheets; MAREK WOZNIAK too, but was misread once (a probable match);
    OLGA DABROWSKA is two namesakes from different towns. The split sheet has
    the default campaign's real layout and its page picture stored; the other
    one is old data, scanned before page pictures were kept.
    """
    b = CampaignBuilder(path, seed)
    for serial, split in (("PS-000101", False), ("PS-000102", True)):
        sheet = b.sheet(serial, split=split, layout_code=load_campaign().layout.code if split else "A4-NAME")
        b.row(sheet, "ANNA NOWAK", "auto", 0.97)
        for _ in range(queue_rows // 2):
            b.row(sheet, b.random_name(), "needs_review", round(b.rng.uniform(0.2, 0.85), 4), misread=True)
        b.row(sheet, "MAREK WOZNIAK" if not split else "MAREK WDZNIAK", "auto", 0.95)
        b.row(sheet, "OLGA DABROWSKA", "auto", 0.96, town="Gdansk" if not split else "Sopot")
        b.row(sheet, "", "blank", None, faint="HALINA KOT")
        if split:
            b.page(sheet)
    return b.finish()


CYRILLIC_NAMES = ["ҚАЙРАТ ЖҰМАБАЕВ", "ӘСЕЛ ҒАЛЫМОВА", "НҰРЛАН ӨТЕПОВ", "ЕРҚАНАТ ОСПАНОВ"]


def build_cyrillic_campaign(path: Path, seed: int = 5) -> Campaign:
    """One sheet of the Kazakh campaign (Cyrillic, first name and surname apart), each row
    misread at one Kazakh letter (read as its Russian look-alike), and one Latin sheet."""
    b = CampaignBuilder(path, seed)
    kazakh = load_campaign(
        Path(__file__).resolve().parents[2] / "petitionscan" / "forms" / "campaigns" / "mangystau-kk.toml"
    ).layout.code
    sheet = b.sheet("PS-000201", split=True, layout_code=kazakh)
    for i, name in enumerate(CYRILLIC_NAMES):
        b.row(sheet, name, "needs_review", 0.3 + i / 10, misread=True, town="Ақтау")
    latin = b.sheet("PS-000202", split=True, layout_code=load_campaign().layout.code)
    b.row(latin, "ANNA NOWAK", "needs_review", 0.9, misread=True)
    return b.finish()


def login(client: FlaskClient, reviewer: str | None = "Ala") -> dict[str, str]:
    """Open the printed address (sets the key cookie), give a name; returns the write headers."""
    assert client.get(f"/?token={TOKEN}").status_code == 303
    headers = {"X-Petitionscan-Token": TOKEN}
    if reviewer:
        assert client.post("/api/reviewer", json={"name": reviewer}, headers=headers).status_code == 200
    return headers


def overrule_misread_letter(campaign: Campaign, row_id: int) -> None:
    """Make the row's misread letter one the name lists chose against the network.

    The network is then surer of the second guess (the letter really written)
    than of the letter in the reading, as when a name list "corrects" a rare
    spelling.
    """
    with campaign.connect() as conn, transaction(conn):
        changed = conn.execute(
            "UPDATE letters SET probability = 0.30, alt2_probability = 0.62 WHERE row_id = ? AND probability < 0.9",
            (row_id,),
        ).rowcount
    assert changed == 1
