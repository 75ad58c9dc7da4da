"""Reviewing Cyrillic names without a Cyrillic keyboard: the sheet's alphabet, typing through
the transliteration table, and the reader's alternatives as clickable letters, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from review_data import CHROMIUM, CHROMIUM_ARGS, TOKEN, Campaign, build_cyrillic_campaign, login

from petitionscan.review import ReviewServer, create_app
from petitionscan.store import connect


@pytest.fixture
def cyrillic(tmp_path: Path) -> Campaign:
    return build_cyrillic_campaign(tmp_path / "kk.db")


def test_rows_carry_their_sheets_alphabet(cyrillic: Campaign) -> None:
    client = create_app(cyrillic.path, TOKEN).test_client()
    headers = login(client, "Ала")
    rows = client.get("/api/queue?limit=10", headers=headers).get_json()["rows"]
    by_id = {r["id"]: r for r in rows}
    assert {by_id[i]["alphabet"] for i in cyrillic.queue if cyrillic.truth[i] != "ANNA NOWAK"} == {"cyrillic"}
    assert {r["alphabet"] for r in rows if r["name"].isascii()} == {"latin"}
    page = client.get("/sheets/1").get_data(as_text=True)
    assert 'data-alphabet="cyrillic"' in page and "translit.js" in page


sync_api = pytest.importorskip("playwright.sync_api")
browser_only = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")


@pytest.fixture
def page(cyrillic: Campaign) -> Iterator[object]:
    server = ReviewServer(cyrillic.path, port=0)
    server.start_in_thread()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(20000)  # waits for the page, never for an answer: generous on a busy machine
        page.set_default_navigation_timeout(30000)
        page.goto(server.url)
        page.wait_for_selector("#name-dialog[open]")
        page.keyboard.type("Wanda")
        page.keyboard.press("Enter")
        # The name is stored once the header shows it: a page opened before that asks again.
        page.wait_for_function("n => document.getElementById('reviewer-name').textContent === n", arg="Wanda")
        page.wait_for_selector("#card:not([hidden])")
        yield page
        browser.close()
    server.shutdown()


def _value(page: object, field: str) -> str:
    return str(page.input_value(f'input.name-input[data-field="{field}"]'))  # type: ignore[attr-defined]


def _stored(campaign: Campaign, row_id: int) -> tuple[str, str, str]:
    with closing(connect(campaign.path, create=False)) as conn:
        row = conn.execute("SELECT first_name, surname, status FROM rows WHERE id = ?", (row_id,)).fetchone()
    return row[0], row[1], row[2]


@browser_only
def test_latin_keys_type_cyrillic_and_alternatives_are_clickable(page: object, cyrillic: Campaign) -> None:
    kb = page.keyboard  # type: ignore[attr-defined]
    q = cyrillic.queue
    toggle = page.locator("#translit-toggle")  # type: ignore[attr-defined]

    # 1: a Cyrillic sheet turns the table on; the misread Kazakh letter's true form is a click away
    page.wait_for_selector(f'#card[data-row-id="{q[0]}"]')  # type: ignore[attr-defined]
    assert toggle.get_attribute("aria-pressed") == "true"
    assert "zh Ж" in page.inner_text("#translit-help")  # type: ignore[attr-defined]
    first, surname = cyrillic.truth[q[0]].split(" ")
    page.locator(".col.low .alt").first.click()  # type: ignore[attr-defined]
    assert (_value(page, "first_name"), _value(page, "surname")) == (first, surname)
    kb.press("Enter")

    # 2: retype both fields on a Latin keyboard: zh, x for the Kazakh letters, q for Қ
    page.wait_for_selector(f'#card[data-row-id="{q[1]}"]')  # type: ignore[attr-defined]
    page.focus('input.name-input[data-field="first_name"]')  # type: ignore[attr-defined]
    kb.press("Control+KeyA")
    kb.type("Zhuxldyz")
    assert _value(page, "first_name") == "ЖҰЛДЫЗ"
    page.focus('input.name-input[data-field="surname"]')  # type: ignore[attr-defined]
    kb.press("Control+KeyA")
    kb.type("qaxsymova")  # x after А: Ә
    assert _value(page, "surname") == "ҚӘСЫМОВА"
    kb.press("Backspace")
    kb.type("a-shchukina'")  # shch: Щ; ' : Ь
    assert _value(page, "surname") == "ҚӘСЫМОВА-ЩУКИНАЬ"
    kb.type("''")  # ' cycles Ь → Ъ → apostrophe
    assert _value(page, "surname") == "ҚӘСЫМОВА-ЩУКИНА'"
    kb.press("Backspace")
    kb.type("yuyaux")  # yu, ya, then x turns У into Ұ
    assert _value(page, "surname") == "ҚӘСЫМОВА-ЩУКИНАЮЯҰ"
    kb.press("Enter")

    # 3: Alt+K turns the table off: Latin letters go in as typed
    page.wait_for_selector(f'#card[data-row-id="{q[2]}"]')  # type: ignore[attr-defined]
    kb.press("Alt+KeyK")
    assert toggle.get_attribute("aria-pressed") == "false"
    page.focus('input.name-input[data-field="first_name"]')  # type: ignore[attr-defined]
    kb.press("Control+KeyA")
    kb.type("Nurlan")
    assert _value(page, "first_name") == "Nurlan"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"

    assert _stored(cyrillic, q[0]) == (first, surname, "confirmed")
    assert _stored(cyrillic, q[1]) == ("ЖҰЛДЫЗ", "ҚӘСЫМОВА-ЩУКИНАЮЯҰ", "confirmed")


@browser_only
def test_latin_sheets_start_with_the_table_off(page: object, cyrillic: Campaign) -> None:
    latin = next(i for i in cyrillic.queue if cyrillic.truth[i] == "ANNA NOWAK")
    kb = page.keyboard  # type: ignore[attr-defined]
    for _ in cyrillic.queue:  # skip to the Latin sheet's row, the last in the queue
        shown = page.get_attribute("#card", "data-row-id")  # type: ignore[attr-defined]
        if int(shown) == latin:
            break
        kb.press("Alt+KeyS")
        page.wait_for_selector(f'#card:not([data-row-id="{shown}"])')  # type: ignore[attr-defined]
    assert page.get_attribute("#translit-toggle", "aria-pressed") == "false"  # type: ignore[attr-defined]
    page.focus('input.name-input[data-field="first_name"]')  # type: ignore[attr-defined]
    kb.press("Control+KeyA")
    kb.type("Anna")
    assert _value(page, "first_name") == "Anna"


@browser_only
def test_sheet_page_types_cyrillic(page: object, cyrillic: Campaign) -> None:
    sheet = next(iter(cyrillic.sheets))
    page.goto(page.url.split("?")[0].rstrip("/") + f"/sheets/{sheet}")  # type: ignore[attr-defined]
    assert page.get_attribute("#translit-toggle", "aria-pressed") == "true"  # type: ignore[attr-defined]
    box = page.locator(f'#row-{cyrillic.sheets[sheet][0]} input[data-field="surname"]')  # type: ignore[attr-defined]
    box.click()
    page.keyboard.press("Control+KeyA")  # type: ignore[attr-defined]
    page.keyboard.type("Toktarov")  # type: ignore[attr-defined]
    assert box.input_value() == "ТОКТАРОВ"
