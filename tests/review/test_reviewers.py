"""Several reviewers at once: logins, queue leases and a shared server, on both back-ends."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from review_data import TOKEN, build_campaign

from petitionscan import reviewers, store
from petitionscan.cli import main
from petitionscan.errors import UsageError
from petitionscan.review import app as review_app
from petitionscan.review import create_app, queries

KEY = re.compile(r'<meta name="ps-token" content="([^"]+)">')


class Clock:
    """The review app's monotonic clock, moved forward at will (sessions end by it)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(review_app, "time", moved)
    return moved


class LeasesRunOut(datetime):
    """The queue's wall clock, past the lease of every row handed out so far."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return datetime.now(tz) + timedelta(seconds=review_app.LEASE_SECONDS + 5)


def decisions_on(target: store.Target, row_id: int) -> list[tuple[str, str]]:
    with closing(store.connect(target)) as conn:
        return [tuple(r) for r in conn.execute("SELECT reviewer, action FROM review_log WHERE row_id = ?", (row_id,))]


def log_in(client: FlaskClient, name: str, password: str) -> dict[str, str]:
    """Log in through the form; returns the write headers (the session's key, read from the page)."""
    answer = client.post("/login", data={"name": name, "password": password})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    page = client.get("/")
    assert page.status_code == 200
    found = KEY.search(page.get_data(as_text=True))
    assert found is not None
    return {"X-Petitionscan-Token": found.group(1)}


def test_passwords_are_hashed_and_checked(db_target: store.Target) -> None:
    password = reviewers.add_reviewer(db_target, "  Ann   Lee ")
    assert len(password) == 16
    with closing(store.connect(db_target)) as conn:
        stored = conn.execute("SELECT name, password_hash FROM reviewers").fetchone()
        assert stored[0] == "Ann Lee" and stored[1].startswith("scrypt$") and password not in stored[1]
        assert reviewers.check_login(conn, "Ann Lee", password) == "Ann Lee"
        assert reviewers.check_login(conn, "Ann Lee", password + "x") is None
        assert reviewers.check_login(conn, "Nobody", password) is None
    again = reviewers.add_reviewer(db_target, "Ann Lee")  # a new password replaces the old one
    with closing(store.connect(db_target)) as conn:
        assert reviewers.check_login(conn, "Ann Lee", password) is None
        assert reviewers.check_login(conn, "Ann Lee", again) == "Ann Lee"
    assert [r.name for r in reviewers.list_reviewers(db_target)] == ["Ann Lee"]
    reviewers.remove_reviewer(db_target, "Ann Lee")
    assert reviewers.list_reviewers(db_target) == []


def test_reviewers_command(tmp_path: Path) -> None:
    db = str(tmp_path / "campaign.db")
    added = CliRunner().invoke(main, ["reviewers", "add", "Ann", "--db", db])
    assert added.exit_code == 0, added.output
    assert re.search(r"^password: [a-z0-9]{16}$", added.stdout, re.MULTILINE)
    listed = CliRunner().invoke(main, ["reviewers", "list", "--db", db])
    assert listed.stdout.startswith("Ann\t")
    assert CliRunner().invoke(main, ["reviewers", "remove", "Bob", "--db", db]).exit_code == 2


def test_a_shared_server_needs_reviewers(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "campaign.db")
    with pytest.raises(UsageError, match="reviewers add"):
        create_app(campaign.path, TOKEN, login=True)


def test_every_request_of_a_shared_server_is_logged_in(db_target: store.Target) -> None:
    campaign = build_campaign(db_target)
    password = reviewers.add_reviewer(db_target, "Ann")
    client = create_app(campaign.path, TOKEN, login=True).test_client()
    assert client.get("/").headers["Location"] == "/login"
    assert client.get(f"/?token={TOKEN}").headers["Location"] == "/login"  # the local key is no login
    assert client.get("/api/queue").status_code == 401
    assert client.get(f"/crop/{campaign.queue[0]}.png").status_code == 303
    wrong = client.post("/login", data={"name": "Ann", "password": "guess"})
    assert wrong.status_code == 200 and "Wrong name or password" in wrong.get_data(as_text=True)
    headers = log_in(client, "Ann", password)
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 403  # DNS rebinding
    assert (
        client.get("/login", headers={"Host": "192.168.1.20:8765"}).status_code == 200
    )  # an address cannot be rebound
    row = client.get("/api/queue?client=tab1").get_json()["rows"][0]
    body = {"version": row["version"], "decision": "unreadable", "values": {}}
    assert client.post(f"/api/rows/{row['id']}/decision", json=body).status_code == 403  # no key: CSRF
    bad_origin = {**headers, "Origin": "http://evil.example"}
    assert client.post(f"/api/rows/{row['id']}/decision", json=body, headers=bad_origin).status_code == 403
    done = client.post(f"/api/rows/{row['id']}/decision", json=body, headers=headers)
    assert done.status_code == 200 and done.get_json()["row"]["updated_by"] == "Ann"
    assert client.post("/api/reviewer", json={"name": "Eve"}, headers=headers).status_code == 403
    assert client.post("/logout", data={"key": headers["X-Petitionscan-Token"]}).status_code == 303
    assert client.get("/api/queue").status_code == 401


def test_wrong_passwords_pause_the_name(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "campaign.db")
    password = reviewers.add_reviewer(campaign.path, "Ann")
    client = create_app(campaign.path, TOKEN, login=True).test_client()
    for _ in range(5):
        client.post("/login", data={"name": "Ann", "password": "guess"})
    paused = client.post("/login", data={"name": "Ann", "password": password})
    assert paused.status_code == 200 and "wait a minute" in paused.get_data(as_text=True)


def test_a_login_that_ends_mid_page_saves_nothing_until_the_reviewer_logs_in_again(
    db_target: store.Target, clock: Clock
) -> None:
    campaign = build_campaign(db_target)
    password = reviewers.add_reviewer(db_target, "Ann")
    client = create_app(campaign.path, TOKEN, login=True).test_client()
    headers = log_in(client, "Ann", password)
    row = client.get("/api/queue?client=tab1").get_json()["rows"][0]
    decision = f"/api/rows/{row['id']}/decision"
    body = {"version": row["version"], "decision": "unreadable", "values": {}}

    clock.ahead = review_app.SESSION_SECONDS - 60  # near the end of the day the login still holds
    assert client.get("/api/queue?client=tab1").status_code == 200
    clock.ahead = review_app.SESSION_SECONDS + 1  # the page stayed open past the end of the login
    fetch = client.get("/api/queue?client=tab1")
    assert fetch.status_code == 401 and "log in again" in fetch.get_json()["error"]
    late = client.post(decision, json=body, headers=headers)
    assert late.status_code == 401 and late.get_json()["error"] == review_app.LOGGED_OUT
    assert decisions_on(db_target, row["id"]) == []
    with closing(store.connect(db_target)) as conn:
        kept = queries.get_row(conn, row["id"])
        assert (kept.status, kept.version) == ("needs_review", row["version"])
    assert client.get("/").headers["Location"] == "/login"
    assert client.post("/logout", data={"key": headers["X-Petitionscan-Token"]}).status_code == 401

    again = log_in(client, "Ann", password)
    assert again != headers
    assert client.post(decision, json=body, headers=headers).status_code == 403  # the ended login's key is dead
    rows = [r["id"] for r in client.get("/api/queue?client=tab1").get_json()["rows"]]
    assert rows[0] == row["id"], "the tab gets back the row it was showing"
    done = client.post(decision, json=body, headers=again)
    assert done.status_code == 200 and done.get_json()["row"]["updated_by"] == "Ann"
    assert decisions_on(db_target, row["id"]) == [("Ann", "unreadable")]


def test_rows_of_an_ended_login_go_to_others_when_their_lease_runs_out(
    db_target: store.Target, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = build_campaign(db_target, queue_rows=8)
    passwords = {name: reviewers.add_reviewer(db_target, name) for name in ("Ann", "Bob")}
    app = create_app(campaign.path, TOKEN, login=True)
    ann, bob = app.test_client(), app.test_client()
    log_in(ann, "Ann", passwords["Ann"])
    held = [r["id"] for r in ann.get("/api/queue?client=a&limit=3").get_json()["rows"]]
    assert held == campaign.queue[:3]

    clock.ahead = review_app.SESSION_SECONDS + 1  # Ann's login ends with her rows on her page
    assert ann.get("/api/queue?client=a").status_code == 401
    log_in(bob, "Bob", passwords["Bob"])
    first = [r["id"] for r in bob.get("/api/queue?client=b&limit=50").get_json()["rows"]]
    assert first == campaign.queue[3:], "rows still leased to Ann are not handed to Bob"

    monkeypatch.setattr(queries, "datetime", LeasesRunOut)
    later = [r["id"] for r in bob.get("/api/queue?client=b&limit=50").get_json()["rows"]]
    assert sorted(later) == sorted(campaign.queue), "once the lease ran out, Ann's rows are Bob's to decide"


def test_leases_hand_each_reviewer_other_rows(db_target: store.Target) -> None:
    campaign = build_campaign(db_target, queue_rows=8)
    with closing(store.connect(db_target)) as conn:
        ann = [r.id for r in queries.claim(conn, "Ann|1", 3)]
        bob = [r.id for r in queries.claim(conn, "Bob|1", 3)]
        assert ann == campaign.queue[:3] and bob == campaign.queue[3:6]
        assert [r.id for r in queries.claim(conn, "Ann|1", 3)] == ann  # her own rows again, lease extended
        later = datetime.now(UTC) + timedelta(minutes=10)
        assert [r.id for r in queries.claim(conn, "Cy|1", 2, now=later)] == ann[:2]  # expired leases are free
        row = queries.get_row(conn, bob[0])
        queries.decide(conn, row.id, version=row.version, decision="unreadable", reviewer="Bob")
        assert conn.execute("SELECT count(*) FROM row_leases WHERE row_id = ?", (row.id,)).fetchone()[0] == 0
        queries.release_leases(conn, "Bob")
        assert conn.execute("SELECT count(*) FROM row_leases WHERE leased_by LIKE 'Bob|%'").fetchone()[0] == 0


def test_many_reviewers_at_once_decide_each_row_once(pg_url: str) -> None:
    """Five reviewers, each with their own connection, empty one queue: every row decided exactly once."""
    campaign = build_campaign(pg_url, queue_rows=40)
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def reviewer(name: str) -> None:
        try:
            with closing(store.connect(pg_url)) as conn:
                while rows := queries.claim(conn, f"{name}|1", 1):
                    try:
                        queries.decide(conn, rows[0].id, version=rows[0].version, decision="unreadable", reviewer=name)
                    except queries.Conflict:
                        conflicts.append(rows[0].id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(f"R{i}",)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert conflicts == []
    with closing(store.connect(pg_url)) as conn:
        decided = Counter(r[0] for r in conn.execute("SELECT row_id FROM review_log"))
        assert sorted(decided) == sorted(campaign.queue)
        assert set(decided.values()) == {1}, "a row was decided twice"
        assert conn.execute("SELECT count(*) FROM rows WHERE status = 'needs_review'").fetchone()[0] == 0
