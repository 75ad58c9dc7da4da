"""Scan stations and reviewers at once on one PostgreSQL campaign, in real browsers.

Two ``petitionscan scan`` processes read the same new batch while two
reviewers, logged in from two browser contexts, work through the queue of
a shared review server. Afterwards: every page stored once, every decision
in the audit trail, and no row decided twice.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from review_data import CHROMIUM, CHROMIUM_ARGS, build_campaign

from petitionscan import reviewers, store
from petitionscan.forms import generate
from petitionscan.review import ReviewServer
from petitionscan.review import app as review_app
from petitionscan.simulate import simulate

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def log_in(browser: object, server: ReviewServer, name: str, password: str) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(server.url)
    page.wait_for_selector("form.login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_function("n => document.getElementById('reviewer-name')?.textContent === n", arg=name)
    return page


def shown_row(page: object) -> int | None:
    """The row on the card, or None once the queue is empty."""
    page.wait_for_selector("#card:not([hidden]), #empty:not([hidden])")  # type: ignore[attr-defined]
    if page.locator("#empty:not([hidden])").count():  # type: ignore[attr-defined]
        return None
    return int(page.get_attribute("#card", "data-row-id"))  # type: ignore[attr-defined]


def test_stations_and_reviewers_at_once(browser: object, pg_url: str, tmp_path: Path) -> None:
    campaign = build_campaign(pg_url, queue_rows=12)  # type: ignore[arg-type]
    passwords = {name: reviewers.add_reviewer(pg_url, name) for name in ("Ann", "Bob")}
    pdf, layout = tmp_path / "sheets.pdf", tmp_path / "layout.json"
    generate(None, sheets=2, out=pdf, layout_out=layout, with_appeal=False)
    scans = simulate(pdf, layout, tmp_path / "scans", profile="flatbed", seed=5).out_dir
    command = [sys.executable, "-m", "petitionscan", "scan", str(scans), "--db", pg_url, "--jobs", "1", "-q"]
    stations = [
        subprocess.Popen([*command, "--rejected", str(tmp_path / f"rejected-{i}.csv")], stderr=subprocess.PIPE)
        for i in range(2)
    ]
    server = ReviewServer(pg_url, port=0, login=True)
    server.start_in_thread()
    try:
        pages = {name: log_in(browser, server, name, pw) for name, pw in passwords.items()}
        decided: dict[str, list[int]] = {name: [] for name in pages}
        active = set(pages)
        while active:
            for name in sorted(active):
                page = pages[name]
                row = shown_row(page)
                if row is None or (decided[name] and decided[name][-1] == row):
                    active.discard(name)
                    continue
                decided[name].append(row)
                page.keyboard.press("Alt+KeyU")  # type: ignore[attr-defined]
                page.wait_for_function(  # type: ignore[attr-defined]
                    "r => document.getElementById('card').dataset.rowId !== String(r)"
                    " || !document.getElementById('empty').hidden",
                    arg=row,
                )
    finally:
        server.shutdown()
        for station in stations:
            _, err = station.communicate(timeout=600)
            assert station.returncode == 0, err.decode()

    assert not set(decided["Ann"]) & set(decided["Bob"]), "two reviewers were shown the same row"
    assert decided["Ann"] and decided["Bob"], "both reviewers got work"
    with closing(store.connect(pg_url)) as conn:
        log = Counter(r[0] for r in conn.execute("SELECT row_id FROM review_log"))
        assert set(log.values()) == {1}, "a row was decided twice"
        assert set(log) == set(decided["Ann"]) | set(decided["Bob"])
        assert set(campaign.queue) <= set(log)
        by = dict(conn.execute("SELECT row_id, reviewer FROM review_log").fetchall())
        assert {by[r] for r in decided["Ann"]} == {"Ann"} and {by[r] for r in decided["Bob"]} == {"Bob"}
        read = conn.execute("SELECT count(*) FROM scans WHERE status = 'read' AND source_file LIKE ?", (f"{scans}%",))
        assert read.fetchone()[0] == 2, "each scanned sheet stored once"
        pages_stored = conn.execute("SELECT count(*), count(DISTINCT page_hash) FROM scans WHERE status != 'rejected'")
        total, distinct = pages_stored.fetchone()
        assert total == distinct


def test_a_login_that_ends_mid_page_says_so_and_saves_nothing(
    browser: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = build_campaign(tmp_path / "campaign.db")
    password = reviewers.add_reviewer(campaign.path, "Ann")
    ahead = [0.0]

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return time.monotonic() + ahead[0]

    monkeypatch.setattr(review_app, "time", Clock)
    server = ReviewServer(campaign.path, port=0, login=True)
    server.start_in_thread()
    try:
        page = log_in(browser, server, "Ann", password)
        row = shown_row(page)
        assert row == campaign.queue[0]
        notice = page.locator("#logged-out")  # type: ignore[attr-defined]
        assert notice.is_hidden()
        ahead[0] = review_app.SESSION_SECONDS + 1  # the page stays open past the end of the login
        page.keyboard.press("Alt+KeyU")  # type: ignore[attr-defined]
        notice.wait_for(state="visible")
        assert "Your login has ended" in notice.inner_text() and "Log in again" in notice.inner_text()
        assert shown_row(page) == row, "the row stays on the page, undecided"
        with closing(store.connect(campaign.path)) as conn:
            assert conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 0

        page.click("#logged-out a")  # type: ignore[attr-defined]
        page.wait_for_selector("form.login")  # type: ignore[attr-defined]
        page.fill("input[name=name]", "Ann")  # type: ignore[attr-defined]
        page.fill("input[name=password]", password)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_function("() => document.getElementById('reviewer-name')?.textContent === 'Ann'")  # type: ignore[attr-defined]
        assert shown_row(page) == row, "back in, the tab shows the row it held"
        page.keyboard.press("Alt+KeyU")  # type: ignore[attr-defined]
        page.wait_for_function(  # type: ignore[attr-defined]
            "r => document.getElementById('card').dataset.rowId !== String(r)", arg=row
        )
        assert page.locator("#logged-out").is_hidden()  # type: ignore[attr-defined]
    finally:
        server.shutdown()
    with closing(store.connect(campaign.path)) as conn:
        log = [tuple(r) for r in conn.execute("SELECT row_id, reviewer, action FROM review_log")]
    assert log == [(row, "Ann", "unreadable")]
