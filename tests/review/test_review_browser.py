"""End to end in a real headless Chromium: keyboard review, reload, database and tally.

Uses Debian's /usr/bin/chromium through Playwright (no downloaded browser).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from review_data import CHROMIUM, CHROMIUM_ARGS, Campaign, overrule_misread_letter

from petitionscan import tally
from petitionscan.review import ReviewServer
from petitionscan.review.queries import decide
from petitionscan.store import connect

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def server(campaign: Campaign) -> Iterator[ReviewServer]:
    s = ReviewServer(campaign.path, port=0)
    s.start_in_thread()
    yield s
    s.shutdown()


@pytest.fixture
def page(browser: object, server: ReviewServer) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(5000)
    outside: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(f"http://127.0.0.1:{server.port}/") else outside.append(r.url)
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.outside = outside  # type: ignore[attr-defined]
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    assert outside == [], "the page must not reach anything but the local server"
    assert dialogs == [], "no script from the data may run"
    context.close()


def start(page: object, server: ReviewServer, name: str = "Wanda") -> None:
    page.goto(server.url)  # type: ignore[attr-defined]
    page.wait_for_selector("#name-dialog[open]")  # type: ignore[attr-defined]
    page.keyboard.type(name)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    # the name is stored once the header shows it
    page.wait_for_function("n => document.getElementById('reviewer-name').textContent === n", arg=name)  # type: ignore[attr-defined]
    page.wait_for_selector("#card:not([hidden])")  # type: ignore[attr-defined]


def shown(page: object) -> int:
    return int(page.get_attribute("#card", "data-row-id"))  # type: ignore[attr-defined]


def wait_for_row(page: object, row_id: int) -> None:
    page.wait_for_selector(f'#card[data-row-id="{row_id}"]')  # type: ignore[attr-defined]


def db_rows(path: Path) -> dict[int, sqlite3.Row]:
    with closing(connect(path, create=False)) as conn:
        return {r["id"]: r for r in conn.execute("SELECT * FROM rows")}


def counts(path: Path) -> dict[str, int]:
    """The campaign's tally, as ``petitionscan tally`` prints it."""
    with closing(connect(path, create=False)) as conn:
        table = tally.count(conn, save_decisions=False)
    return dict(zip(table.columns, table.total, strict=True))


def test_keyboard_review_survives_reload(
    page: object, server: ReviewServer, campaign: Campaign, tmp_path: Path
) -> None:
    before = counts(campaign.path)
    q = campaign.queue
    start(page, server)
    kb = page.keyboard  # type: ignore[attr-defined]

    # 1: the misread letter is selected; typing the right letter and Enter fixes it
    wait_for_row(page, q[0])
    machine, truth = campaign.machine[q[0]], campaign.truth[q[0]]
    wrong = next(i for i, (m, t) in enumerate(zip(machine, truth, strict=True)) if m != t)
    assert page.locator(".col.low").count() == 1  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "queue.png"))  # type: ignore[attr-defined]
    kb.type(truth[wrong])
    kb.press("Enter")

    # 2: Alt+U marks it unreadable
    wait_for_row(page, q[1])
    kb.press("Alt+KeyU")

    # 3: retype the field in doubt, in mixed case (Shift for capitals must not trigger anything)
    wait_for_row(page, q[2])
    field = page.evaluate("document.activeElement.dataset.field")  # type: ignore[attr-defined]
    kb.press("Control+KeyA")
    kb.type("Kos-Nowak Jr")
    kb.press("Enter")
    first, _, last = campaign.truth[q[2]].partition(" ")
    retyped = {"name": "KOS-NOWAK JR", "first_name": f"KOS-NOWAK JR {last}", "surname": f"{first} KOS-NOWAK JR"}

    # 4: Escape then X marks it crossed out; Alt+B goes back and Alt+N changes that to "not a signature"
    wait_for_row(page, q[3])
    kb.press("Escape")
    kb.press("KeyX")
    wait_for_row(page, q[4])
    kb.press("Alt+KeyB")
    wait_for_row(page, q[3])
    page.wait_for_selector('#card[data-status="crossed_out"]')  # type: ignore[attr-defined]
    kb.press("Alt+KeyN")
    wait_for_row(page, q[4])
    assert page.inner_text("#left") == str(len(q) - 4)  # type: ignore[attr-defined]
    assert page.inner_text("#done-today") == "4"  # type: ignore[attr-defined]

    # reload: the page carries on where the database is
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_selector("#card:not([hidden])")  # type: ignore[attr-defined]
    assert shown(page) == q[4]
    assert page.inner_text("#reviewer-name") == "Wanda"  # type: ignore[attr-defined]

    rows = db_rows(campaign.path)
    assert (rows[q[0]]["status"], rows[q[0]]["name"]) == ("confirmed", truth)
    assert rows[q[1]]["status"] == "unreadable"
    assert (rows[q[2]]["status"], rows[q[2]]["name"]) == ("confirmed", retyped[field])
    assert rows[q[3]]["status"] == "not_signature"
    assert all(rows[i]["machine_name"] == campaign.machine[i] for i in q[:4])
    assert all(rows[i]["updated_by"] == "Wanda" for i in q[:4])
    with closing(connect(campaign.path, create=False)) as conn:
        log = [tuple(r) for r in conn.execute("SELECT row_id, reviewer, action FROM review_log ORDER BY id")]
    assert log == [
        (q[0], "Wanda", "correct"),
        (q[1], "Wanda", "unreadable"),
        (q[2], "Wanda", "correct"),
        (q[3], "Wanda", "crossed_out"),
        (q[3], "Wanda", "not_signature"),
    ]
    after = counts(campaign.path)
    assert after["signatures"] == before["signatures"] + 2
    assert after["unreadable"] == before["unreadable"] + 1
    assert after["not a signature"] == before["not a signature"] + 1
    assert after["needs review"] == before["needs review"] - 4


def test_alternative_key_and_stale_decision_in_browser(page: object, server: ReviewServer, campaign: Campaign) -> None:
    q = campaign.queue
    start(page, server)
    kb = page.keyboard  # type: ignore[attr-defined]
    wait_for_row(page, q[0])
    # Alt+2 puts the second guess in place of the selected letter: here the true letter
    kb.press("Alt+Digit2")
    kb.press("Enter")
    wait_for_row(page, q[1])
    assert db_rows(campaign.path)[q[0]]["name"] == campaign.truth[q[0]]

    # meanwhile another volunteer decides the row on screen
    with closing(connect(campaign.path, create=False)) as conn:
        decide(conn, q[1], version=1, decision="unreadable", reviewer="Ola")
    kb.press("Enter")
    banner = page.wait_for_selector("#banner:not([hidden])")  # type: ignore[attr-defined]
    assert "Ola decided this row meanwhile" in banner.inner_text()
    assert page.get_attribute("#card", "data-status") == "unreadable"  # type: ignore[attr-defined]
    kb.press("Enter")  # keep theirs and move on
    wait_for_row(page, q[2])
    rows = db_rows(campaign.path)
    assert (rows[q[1]]["status"], rows[q[1]]["updated_by"]) == ("unreadable", "Ola")
    with closing(connect(campaign.path, create=False)) as conn:
        assert conn.execute("SELECT count(*) FROM review_log WHERE row_id = ?", (q[1],)).fetchone()[0] == 1


def test_overruled_letter_offers_what_the_network_saw_first(
    page: object, server: ReviewServer, campaign: Campaign
) -> None:
    q = campaign.queue
    overrule_misread_letter(campaign, q[0])
    start(page, server)
    wait_for_row(page, q[0])
    cols = page.query_selector_all(".reading .col.overruled")  # type: ignore[attr-defined]
    assert len(cols) == 1
    assert "the network saw" in (cols[0].get_attribute("title") or "")
    saw = cols[0].query_selector(".alt.saw")
    assert saw is not None and saw.inner_text().startswith("saw ")
    saw.click()
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    wait_for_row(page, q[1])
    assert db_rows(campaign.path)[q[0]]["name"] == campaign.truth[q[0]]


def test_hostile_name_is_shown_as_text(page: object, server: ReviewServer, campaign: Campaign) -> None:
    evil = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    with closing(connect(campaign.path, create=False)) as conn:
        conn.execute("UPDATE rows SET name = ?, machine_name = ? WHERE id = ?", (evil, evil, campaign.queue[0]))
        conn.execute("DELETE FROM letters WHERE row_id = ?", (campaign.queue[0],))
    start(page, server)
    wait_for_row(page, campaign.queue[0])
    assert page.input_value("#fields input") == evil.upper()[:120] or page.input_value("#fields input") == evil  # type: ignore[attr-defined]
    assert page.locator("#fields img, #fields script").count() == 0  # type: ignore[attr-defined]


def test_fill_blank_row_on_sheet_and_decide_duplicate(
    page: object, server: ReviewServer, campaign: Campaign, tmp_path: Path
) -> None:
    sheet = next(s for s in campaign.sheets if s in campaign.split_sheets)
    blank = next(i for i in campaign.sheets[sheet] if i in campaign.blank)
    before = counts(campaign.path)
    assert sheet in campaign.pages
    start(page, server)
    with page.expect_response(lambda r: f"/page/{sheet}.jpg" in r.url) as picture:  # type: ignore[attr-defined]
        page.goto(server.url.split("?")[0] + f"sheets/{sheet}")  # type: ignore[attr-defined]
    assert picture.value.status == 200 and picture.value.headers["content-type"] == "image/jpeg"
    # the whole page is shown large: at least half the window wide, every row outlined
    box = page.locator("svg#page").bounding_box()  # type: ignore[attr-defined]
    assert box["width"] >= 1280 / 2 - 100 and box["height"] > box["width"] * 1.3
    assert page.locator("svg#page a.page-row").count() == len(campaign.sheets[sheet])  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "sheet-page.png"))  # type: ignore[attr-defined]

    # the blank row is found on the page and clicked there: the list jumps to it, ready to type
    outline = page.locator(f'svg#page a.page-row[data-row-id="{blank}"]')  # type: ignore[attr-defined]
    assert "status-blank" in outline.get_attribute("class")
    outline.click()
    row = page.locator(f'li[data-row-id="{blank}"]')  # type: ignore[attr-defined]
    page.wait_for_selector(f'li[data-row-id="{blank}"].selected')  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.closest('li').dataset.rowId") == str(blank)  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.dataset.field") == "first_name"  # type: ignore[attr-defined]
    assert row.is_visible() and "selected" in outline.get_attribute("class")
    page.keyboard.type("Halina")  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    page.keyboard.type("Kot")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(f'li[data-row-id="{blank}"][data-status="confirmed"]')  # type: ignore[attr-defined]
    page.wait_for_selector(f'svg#page a.page-row.status-confirmed[data-row-id="{blank}"]')  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "sheet.png"))  # type: ignore[attr-defined]
    # zoom: the page grows inside its panel
    page.click('button[data-zoom="2"]')  # type: ignore[attr-defined]
    assert page.locator("svg#page").bounding_box()["width"] > box["width"] * 1.8  # type: ignore[attr-defined]
    page.click('button[data-zoom="page"]')  # type: ignore[attr-defined]
    whole = page.locator("svg#page").bounding_box()  # type: ignore[attr-defined]
    assert whole["y"] + whole["height"] <= 900 and whole["width"] < box["width"]
    page.screenshot(path=str(tmp_path / "sheet-whole.png"))  # type: ignore[attr-defined]
    stored = db_rows(campaign.path)[blank]
    assert (stored["name"], stored["first_name"], stored["surname"], stored["status"]) == (
        "HALINA KOT",
        "HALINA",
        "KOT",
        "confirmed",
    )
    assert counts(campaign.path)["signatures"] == before["signatures"] + 1

    page.goto(server.url.split("?")[0] + "duplicates")  # type: ignore[attr-defined]
    first = page.locator(".pair").first  # type: ignore[attr-defined]
    a, b = int(first.get_attribute("data-row-a")), int(first.get_attribute("data-row-b"))
    page.screenshot(path=str(tmp_path / "duplicates.png"), full_page=True)  # type: ignore[attr-defined]
    page.keyboard.press("KeyS")  # type: ignore[attr-defined]
    page.wait_for_selector(".pair.decided")  # type: ignore[attr-defined]
    with closing(connect(campaign.path, create=False)) as conn:
        got = conn.execute(
            "SELECT row_a, row_b, decision, decided_by FROM duplicate_decisions WHERE decided_by IS NOT NULL"
        ).fetchall()
    assert [tuple(r) for r in got] == [(a, b, "same", "Wanda")]


def test_skip_comes_back_last_and_the_queue_ends(page: object, server: ReviewServer, campaign: Campaign) -> None:
    q = campaign.queue
    start(page, server)
    kb = page.keyboard  # type: ignore[attr-defined]
    wait_for_row(page, q[0])
    kb.press("Alt+KeyS")
    for row in q[1:]:
        wait_for_row(page, row)
        kb.press("Alt+KeyN")
    wait_for_row(page, q[0])  # the skipped row comes back at the end
    kb.press("Enter")
    page.wait_for_selector("#empty:not([hidden])")  # type: ignore[attr-defined]
    assert page.inner_text("#left") == "0"  # type: ignore[attr-defined]
    assert page.is_hidden("#elsewhere")  # type: ignore[attr-defined]
    # back to the last decision, and return it to the queue
    kb.press("Alt+KeyB")
    wait_for_row(page, q[0])
    kb.press("Alt+KeyR")
    page.wait_for_selector(f'#card[data-row-id="{q[0]}"][data-status="needs_review"]')  # type: ignore[attr-defined]
    assert page.inner_text("#left") == "1"  # type: ignore[attr-defined]
    rows = db_rows(campaign.path)
    assert rows[q[0]]["status"] == "needs_review"
    assert all(rows[i]["status"] == "not_signature" for i in q[1:])
