"""The review server's API through Flask's test client: safety, locking, audit trail."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from review_data import TOKEN, Campaign, overrule_misread_letter

from petitionscan import geometry, tally
from petitionscan.errors import DatabaseError, UsageError
from petitionscan.review import create_app
from petitionscan.review.queries import clean_name
from petitionscan.scan.fields import JPEG_PX_PER_MM


def decide(client: FlaskClient, headers: dict[str, str], row_id: int, decision: str, **values: str) -> tuple[int, dict]:
    row = client.get(f"/api/rows/{row_id}").get_json()["row"]
    r = client.post(
        f"/api/rows/{row_id}/decision",
        json={"version": row["version"], "decision": decision, "values": values},
        headers=headers,
    )
    return r.status_code, r.get_json()


# --- the token, the host, CSRF ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/sheets", "/duplicates", "/api/queue", "/static/queue.js", "/crop/2.png", "/page/2.jpg"]
)
def test_every_path_needs_the_token(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 403
    assert client.get(path + ("&" if "?" in path else "?") + "token=wrong").status_code == 403
    assert client.get(path, headers={"Cookie": "ps_token_x=" + TOKEN}).status_code == 403


def test_token_in_address_sets_cookie_and_leaves_the_address(client: FlaskClient) -> None:
    r = client.get(f"/sheets?token={TOKEN}")
    assert r.status_code == 303
    assert r.headers["Location"] == "/sheets"
    cookie = r.headers["Set-Cookie"]
    assert TOKEN in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/sheets").status_code == 200  # the cookie is enough to read


def test_writes_need_the_header_not_only_the_cookie(client: FlaskClient, campaign: Campaign) -> None:
    headers = {"X-Petitionscan-Token": TOKEN}
    client.get(f"/?token={TOKEN}")
    row = campaign.queue[0]
    body = {"version": 1, "decision": "unreadable", "values": {}}
    assert client.post("/api/reviewer", json={"name": "Mallory"}).status_code == 403
    assert client.post(f"/api/rows/{row}/decision", json=body).status_code == 403
    assert client.post(f"/api/rows/{row}/decision", json=body, headers={"X-Petitionscan-Token": "x"}).status_code == 403
    hostile = dict(headers, Origin="http://evil.example")
    assert client.post(f"/api/rows/{row}/decision", json=body, headers=hostile).status_code == 403
    with campaign.connect() as conn:
        assert conn.execute("SELECT status FROM rows WHERE id = ?", (row,)).fetchone()[0] == "needs_review"
        assert conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 0


def test_other_host_names_are_refused(client: FlaskClient) -> None:
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example", "[::2]:80"):
        assert client.get(f"/?token={TOKEN}", headers={"Host": host}).status_code == 403
    assert client.get(f"/?token={TOKEN}", headers={"Host": "127.0.0.1:8765"}).status_code == 303


def test_security_headers(client: FlaskClient, headers: dict[str, str]) -> None:
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"


def test_only_the_packaged_static_files_are_served(client: FlaskClient, headers: dict[str, str]) -> None:
    assert client.get("/static/queue.js").status_code == 200
    assert client.get("/static/style.css").headers["Content-Type"].startswith("text/css")
    for bad in ("../app.py", "..%2fapp.py", "%2e%2e/queries.py", "app.py", "/etc/passwd", "templates/base.html"):
        assert client.get(f"/static/{bad}").status_code == 404


def test_pages_load_no_outside_resources(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    sheets = [f"/sheets/{s}" for s in campaign.sheets]
    for path in ("/", "/sheets", *sheets, "/duplicates", "/static/style.css", "/static/common.js", "/static/sheet.js"):
        text = client.get(path).get_data(as_text=True)
        assert "http://" not in text and "https://" not in text and "//" + "cdn" not in text, path


# --- reading --------------------------------------------------------------------------------


def test_queue_is_least_confident_first_with_letters(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    data = client.get("/api/queue?limit=50").get_json()
    assert [r["id"] for r in data["rows"]] == campaign.queue
    assert data["progress"]["left"] == len(campaign.queue)
    first = data["rows"][0]
    assert first["name"] == campaign.machine[first["id"]]
    letters = [x for f in first["fields"] for x in f["letters"]]
    doubtful = [x for x in letters if x["uncertain"]]
    assert doubtful and all(x["probability"] < 0.9 for x in doubtful)
    assert all(not x["uncertain"] for x in letters if x["probability"] >= 0.9)
    # the second guess of the misread letter is the letter really written
    truth = campaign.truth[first["id"]]
    field = next(f for f in first["fields"] if any(x["uncertain"] for x in f["letters"]))
    pos = next(x for x in field["letters"] if x["uncertain"])["position"]
    fixed = field["machine_text"][:pos] + doubtful[0]["alternatives"][1][0] + field["machine_text"][pos + 1 :]
    assert fixed in truth


def test_letter_the_name_lists_overruled_shows_what_the_network_saw(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    row_id = campaign.queue[0]
    overrule_misread_letter(campaign, row_id)
    data = client.get("/api/queue?limit=50").get_json()
    letters = {r["id"]: [x for f in r["fields"] for x in f["letters"]] for r in data["rows"]}
    overruled = [x for x in letters[row_id] if x["overruled"]]
    assert len(overruled) == 1
    # the network's letter is the first alternative, and it is the letter really written
    assert overruled[0]["alternatives"][1] == [overruled[0]["alternatives"][1][0], 0.62]
    truth = campaign.truth[row_id].replace(" ", "")
    assert overruled[0]["alternatives"][1][0] in truth
    assert not any(x["overruled"] for rid, xs in letters.items() if rid != row_id for x in xs)


def test_queue_excludes_and_limits(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    skip = campaign.queue[:3]
    data = client.get(f"/api/queue?limit=2&exclude={','.join(map(str, skip))}").get_json()
    assert [r["id"] for r in data["rows"]] == campaign.queue[3:5]


def test_two_tabs_are_given_different_rows(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    a = [r["id"] for r in client.get("/api/queue?limit=3&client=tab-a").get_json()["rows"]]
    b = [r["id"] for r in client.get("/api/queue?limit=3&client=tab-b").get_json()["rows"]]
    assert a == campaign.queue[:3]
    assert b == campaign.queue[3:6]


def test_split_sheet_rows_have_two_fields(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    for sheet, ids in campaign.sheets.items():
        for row_id in ids:
            fields = client.get(f"/api/rows/{row_id}").get_json()["row"]["fields"]
            expected = ["first_name", "surname"] if sheet in campaign.split_sheets else ["name"]
            assert [f["field"] for f in fields] == expected


def test_crop_is_scaled_up_sharp(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    row = campaign.queue[0]
    with campaign.connect() as conn:
        stored = conn.execute("SELECT crop_png FROM rows WHERE id = ?", (row,)).fetchone()[0]
    original = cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_UNCHANGED)
    r = client.get(f"/crop/{row}.png?w=1200")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    big = cv2.imdecode(np.frombuffer(r.data, np.uint8), cv2.IMREAD_UNCHANGED)
    factor = big.shape[1] / original.shape[1]
    assert factor >= 2 and big.shape[1] <= 1200
    assert big.shape[0] == round(original.shape[0] * factor)
    # sharp: shrinking it back gives the original, nearly pixel for pixel
    back = cv2.resize(big, original.shape[::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(back.astype(int) - original.astype(int)).mean() < 4
    assert client.get("/crop/999999.png").status_code == 404
    assert client.get(f"/crop/{campaign.blank[0]}.png").status_code == 200


def test_crop_stored_as_jpeg_is_served_like_a_png_one(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    """Scans store name crops as JPEG, older databases hold PNG: review shows both alike."""
    row = campaign.queue[0]
    with campaign.connect() as conn:
        png = conn.execute("SELECT crop_png FROM rows WHERE id = ?", (row,)).fetchone()[0]
        original = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
        from_png = client.get(f"/crop/{row}.png?w=1200").data
        jpeg = cv2.imencode(".jpg", original, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
        conn.execute("UPDATE rows SET crop_png = ? WHERE id = ?", (jpeg, row))
        conn.commit()
    r = client.get(f"/crop/{row}.png?w=1200")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    a = cv2.imdecode(np.frombuffer(from_png, np.uint8), cv2.IMREAD_UNCHANGED)
    b = cv2.imdecode(np.frombuffer(r.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert a.shape == b.shape
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 2


# --- deciding, locking, audit ---------------------------------------------------------------


def test_correction_is_saved_with_audit_and_machine_reading_kept(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    row = next(i for i in campaign.queue if i not in {x for s in campaign.split_sheets for x in campaign.sheets[s]})
    status, data = decide(client, headers, row, "confirm", name=campaign.truth[row].lower() + "  ")
    assert status == 200
    assert data["row"]["name"] == campaign.truth[row]
    assert data["row"]["version"] == 2
    with campaign.connect() as conn:
        r = conn.execute("SELECT * FROM rows WHERE id = ?", (row,)).fetchone()
        assert (r["name"], r["status"], r["updated_by"]) == (campaign.truth[row], "confirmed", "Ala")
        assert r["machine_name"] == campaign.machine[row] and r["machine_status"] == "needs_review"
        log = conn.execute("SELECT * FROM review_log WHERE row_id = ?", (row,)).fetchall()
    assert len(log) == 1
    assert (log[0]["reviewer"], log[0]["action"]) == ("Ala", "correct")
    assert (log[0]["old_name"], log[0]["new_name"]) == (campaign.machine[row], campaign.truth[row])
    assert (log[0]["old_status"], log[0]["new_status"]) == ("needs_review", "confirmed")
    assert log[0]["decided_at"] == r["updated_at"]
    assert row not in [x["id"] for x in client.get("/api/queue?limit=50").get_json()["rows"]]


def test_split_fields_are_saved_apart_and_joined(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    split_rows = {x for s in campaign.split_sheets for x in campaign.sheets[s]}
    row = next(i for i in campaign.queue if i in split_rows)
    first, last = campaign.truth[row].split(" ", 1)
    status, _ = decide(client, headers, row, "confirm", first_name=first, surname=last)
    assert status == 200
    with campaign.connect() as conn:
        r = conn.execute("SELECT name, first_name, surname FROM rows WHERE id = ?", (row,)).fetchone()
    assert tuple(r) == (f"{first} {last}", first, last)


def test_accept_and_marks(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    rows = campaign.queue[:4]
    assert decide(client, headers, rows[0], "confirm")[0] == 200
    for row, decision in zip(rows[1:], ("unreadable", "not_signature", "crossed_out"), strict=True):
        assert decide(client, headers, row, decision)[0] == 200
    with campaign.connect() as conn:
        got = {r["id"]: (r["status"], r["name"]) for r in conn.execute("SELECT id, status, name FROM rows")}
        actions = [r[0] for r in conn.execute("SELECT action FROM review_log ORDER BY id")]
    assert got[rows[0]] == ("confirmed", campaign.machine[rows[0]])
    assert [got[r][0] for r in rows[1:]] == ["unreadable", "not_signature", "crossed_out"]
    assert all(got[r][1] == campaign.machine[r] for r in rows)
    assert actions == ["accept", "unreadable", "not_signature", "crossed_out"]
    progress = client.get("/api/progress").get_json()["progress"]
    assert progress == {"left": len(campaign.queue) - 4, "done_today": 4, "mine_today": 4}


def test_reopen_puts_a_row_back_in_the_queue(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    row = campaign.queue[0]
    decide(client, headers, row, "unreadable")
    status, data = decide(client, headers, row, "reopen")
    assert status == 200 and data["row"]["status"] == "needs_review"
    assert client.get("/api/queue?limit=1").get_json()["rows"][0]["id"] == row


def test_blank_row_can_be_filled(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    for row in campaign.blank:
        fields = client.get(f"/api/rows/{row}").get_json()["row"]["fields"]
        values = {"first_name": "JOLANTA", "surname": "KOS"} if len(fields) == 2 else {"name": "JOLANTA KOS"}
        status, data = decide(client, headers, row, "confirm", **values)
        assert status == 200 and data["row"]["status"] == "confirmed" and data["row"]["name"] == "JOLANTA KOS"
    with campaign.connect() as conn:
        actions = {r[0] for r in conn.execute("SELECT action FROM review_log")}
        counted = conn.execute("SELECT count(*) FROM rows WHERE status IN ('auto', 'confirmed')").fetchone()[0]
    assert actions == {"fill"}
    assert counted == sum(1 for i, n in campaign.truth.items() if n and i not in campaign.queue) + len(campaign.blank)


def test_stale_version_is_409_with_the_other_decision(
    app: Flask, campaign: Campaign, login_as: Callable[..., dict[str, str]]
) -> None:
    ala, ola = app.test_client(), app.test_client()
    h_ala, h_ola = login_as(ala, "Ala"), login_as(ola, "Ola")
    row = campaign.queue[0]
    seen = ala.get(f"/api/rows/{row}").get_json()["row"]["version"]
    assert ola.get(f"/api/rows/{row}").get_json()["row"]["version"] == seen
    first = ola.post(
        f"/api/rows/{row}/decision", json={"version": seen, "decision": "confirm", "values": {}}, headers=h_ola
    )
    assert first.status_code == 200
    late = ala.post(
        f"/api/rows/{row}/decision", json={"version": seen, "decision": "unreadable", "values": {}}, headers=h_ala
    )
    assert late.status_code == 409
    body = late.get_json()
    assert body["current"]["status"] == "confirmed" and body["current"]["updated_by"] == "Ola"
    assert body["current"]["version"] == seen + 1
    assert body["last"]["reviewer"] == "Ola" and body["last"]["action"] == "accept"
    with campaign.connect() as conn:
        assert conn.execute("SELECT status FROM rows WHERE id = ?", (row,)).fetchone()[0] == "confirmed"
        assert conn.execute("SELECT count(*) FROM review_log WHERE row_id = ?", (row,)).fetchone()[0] == 1
    # knowing the other decision, Ala may still change it: that is not silent
    again = ala.post(
        f"/api/rows/{row}/decision",
        json={"version": body["current"]["version"], "decision": "unreadable", "values": {}},
        headers=h_ala,
    )
    assert again.status_code == 200


def test_a_decision_needs_a_reviewer_name(
    client: FlaskClient, campaign: Campaign, login_as: Callable[..., dict]
) -> None:
    headers = login_as(client, None)
    status, data = decide(client, headers, campaign.queue[0], "unreadable")
    assert status == 400 and "name" in data["error"]
    for bad in ("", "   ", "x" * 61, "Ala\x07"):
        assert client.post("/api/reviewer", json={"name": bad}, headers=headers).status_code == 400


def test_reviewer_given_at_start_is_used(campaign: Campaign, login_as: Callable[..., dict]) -> None:
    client = create_app(campaign.path, TOKEN, reviewer="Basia").test_client()
    headers = login_as(client, None)
    assert decide(client, headers, campaign.queue[0], "unreadable")[0] == 200
    with campaign.connect() as conn:
        assert conn.execute("SELECT reviewer FROM review_log").fetchone()[0] == "Basia"


@pytest.mark.parametrize(
    "body",
    [
        {"version": 1, "decision": "explode", "values": {}},
        {"version": "1", "decision": "confirm", "values": {}},
        {"version": 1, "decision": "confirm", "values": {"name": 5}},
        {"version": 1, "decision": "confirm", "values": {"name": "   "}},
        {"version": 1, "decision": "confirm", "values": {"name": "A\nB"}},
        {"version": 1, "decision": "confirm", "values": {"name": "A" * 121}},
        [1, 2],
    ],
)
def test_bad_decisions_are_400_and_change_nothing(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign, body: object
) -> None:
    row = campaign.queue[0]
    r = client.post(f"/api/rows/{row}/decision", json=body, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]
    with campaign.connect() as conn:
        assert conn.execute("SELECT version FROM rows WHERE id = ?", (row,)).fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 0


def test_unknown_row_is_404(client: FlaskClient, headers: dict[str, str]) -> None:
    r = client.post("/api/rows/424242/decision", json={"version": 1, "decision": "confirm"}, headers=headers)
    assert r.status_code == 404
    assert client.get("/api/rows/424242").status_code == 404
    assert client.get("/sheets/424242").status_code == 404


# --- escaping ------------------------------------------------------------------------------


def test_names_are_escaped_everywhere(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    sheet = next(s for s in campaign.sheets if s not in campaign.split_sheets)
    twin = next(i for i in campaign.sheets[sheet] if campaign.truth[i] and i not in campaign.queue)
    with campaign.connect() as conn:
        conn.execute("UPDATE rows SET name = ?, town = ? WHERE id = ?", (evil, evil, twin))
        other = next(i for i in campaign.sheets[sheet] if i != twin and campaign.truth[i])
        conn.execute("UPDATE rows SET name = ?, status = 'auto' WHERE id = ?", (evil, other))
    sheet_html = client.get(f"/sheets/{sheet}").get_data(as_text=True)
    dup_html = client.get("/duplicates").get_data(as_text=True)
    for html in (sheet_html, dup_html):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
    r = client.get(f"/api/rows/{twin}")
    assert r.headers["Content-Type"] == "application/json"
    assert r.get_json()["row"]["name"] == evil  # kept as typed; only ever shown as text


def test_reviewer_name_is_escaped(client: FlaskClient, login_as: Callable[..., dict]) -> None:
    login_as(client, "<b>Bad</b>")
    html = client.get("/").get_data(as_text=True)
    assert "<b>Bad</b>" not in html and "&lt;b&gt;Bad&lt;/b&gt;" in html


# --- sheets and duplicates ---------------------------------------------------------------


def test_sheet_page_lists_rows_in_order_with_crops(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    for sheet, ids in campaign.sheets.items():
        html = client.get(f"/sheets/{sheet}").get_data(as_text=True)
        positions = [html.index(f'data-row-id="{i}"') for i in ids]
        assert positions == sorted(positions)
        assert all(f"/crop/{i}.png" in html for i in ids)
    listing = client.get("/sheets").get_data(as_text=True)
    assert all(f'href="/sheets/{s}"' in listing for s in campaign.sheets)


def _outlines(html: str) -> dict[int, tuple[str, float, float, float, float]]:
    """Row id -> (status, x, y, width, height in mm) of each row outlined on the sheet's page."""
    found = {}
    for m in re.finditer(
        r'<a class="page-row status-(\w+)" href="#row-(\d+)".*?<rect class="outline" (.*?)/>', html, re.S
    ):
        attrs = dict(re.findall(r'(\w+)="([\d.]+)"', m.group(3)))
        found[int(m.group(2))] = (m.group(1), *(float(attrs[k]) for k in ("x", "y", "width", "height")))
    return found


def test_page_picture_is_served_whole_at_the_layouts_scale(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    sheet, code = next(iter(campaign.pages.items()))
    width_mm, height_mm = geometry.sheet_geometry(geometry.parse_layout_code(code)).page_size_mm
    r = client.get(f"/page/{sheet}.jpg")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    picture = cv2.imdecode(np.frombuffer(r.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert picture is not None and picture.ndim == 2  # greyscale, as the scan keeps it
    assert picture.shape == (round(height_mm * JPEG_PX_PER_MM), round(width_mm * JPEG_PX_PER_MM))
    with campaign.connect() as conn:
        stored = conn.execute("SELECT page_jpeg FROM scans WHERE sheet_id = ?", (sheet,)).fetchone()[0]
    assert r.data == stored  # served as stored, never re-compressed
    assert client.get("/page/424242.jpg").status_code == 404
    old = next(s for s in campaign.sheets if s not in campaign.pages)
    assert client.get(f"/page/{old}.jpg").status_code == 404
    assert client.get(f"/page/{sheet}.png").status_code == 404
    assert client.get("/page/..%2f..%2fetc%2fpasswd.jpg").status_code == 404


def test_page_picture_needs_the_token(app: Flask, campaign: Campaign) -> None:
    sheet = next(iter(campaign.pages))
    stranger = app.test_client()
    assert stranger.get(f"/page/{sheet}.jpg").status_code == 403
    assert stranger.get(f"/page/{sheet}.jpg", headers={"Cookie": "ps_token_x=" + TOKEN}).status_code == 403
    assert stranger.get(f"/page/{sheet}.jpg?token=wrong").status_code == 403
    assert stranger.get(f"/page/{sheet}.jpg?token={TOKEN}").status_code == 200


def test_damaged_page_picture_is_404_and_the_sheet_still_opens(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    sheet = next(iter(campaign.pages))
    with campaign.connect() as conn:
        conn.execute("UPDATE scans SET page_jpeg = ? WHERE sheet_id = ?", (b"\xff\xd8\xff broken", sheet))
    r = client.get(f"/page/{sheet}.jpg")
    assert r.status_code == 404 and "damaged" in r.get_data(as_text=True)
    assert client.get(f"/sheets/{sheet}").status_code == 200


def test_sheet_view_outlines_each_row_where_it_is_written(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    sheet, code = next(iter(campaign.pages.items()))
    html = client.get(f"/sheets/{sheet}").get_data(as_text=True)
    layout = geometry.sheet_geometry(geometry.parse_layout_code(code))
    width_mm, height_mm = layout.page_size_mm
    assert f'viewBox="0 0 {width_mm} {height_mm}"' in html and f"/page/{sheet}.jpg" in html
    outlines = _outlines(html)
    ids = campaign.sheets[sheet]
    assert sorted(outlines) == sorted(ids)  # every stored row, each linked to its place in the list
    with campaign.connect() as conn:
        status = dict(conn.execute("SELECT id, status FROM rows WHERE sheet_id = ?", (sheet,)).fetchall())
    assert {i: o[0] for i, o in outlines.items()} == status
    # unstored rows of the layout are drawn but lead nowhere
    assert html.count('class="page-row missing"') == len(layout.rows) - len(ids)
    picture = cv2.imdecode(np.frombuffer(client.get(f"/page/{sheet}.jpg").data, np.uint8), cv2.IMREAD_GRAYSCALE)
    for row_no, row_id in enumerate(ids, start=1):
        _, x, y, w, h = outlines[row_id]
        printed = layout.rows[row_no - 1].rect_mm
        assert x <= printed[0] and y <= printed[1] and x + w >= printed[2] and y + h >= printed[3]
        assert y > printed[1] - 2 and y + h < printed[3] + 2  # and not reaching into the next row
        inside = picture[
            round(y * JPEG_PX_PER_MM) : round((y + h) * JPEG_PX_PER_MM),
            round(x * JPEG_PX_PER_MM) : round((x + w) * JPEG_PX_PER_MM),
        ]
        dark = int((inside < 110).sum())
        if campaign.truth[row_id]:
            assert dark > 200, f"row {row_no}: the name written there should be inside its outline"
        else:  # the row the machine thought blank: its printed number, and a faint pencil
            assert dark < 50 and int((inside < 215).sum()) > 200


def test_sheet_without_a_page_picture_or_known_layout(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    old = next(s for s in campaign.sheets if s not in campaign.pages)
    html = client.get(f"/sheets/{old}").get_data(as_text=True)
    assert "<svg" not in html and "/page/" not in html
    assert all(f"/crop/{i}.png" in html for i in campaign.sheets[old])
    sheet = next(iter(campaign.pages))
    evil = '<script>alert("x")</script>'
    with campaign.connect() as conn:
        conn.execute("UPDATE sheets SET layout_code = ? WHERE id = ?", (evil, sheet))
    html = client.get(f"/sheets/{sheet}").get_data(as_text=True)
    assert f"/page/{sheet}.jpg" in html and "<script>alert" not in html  # the picture, without outlines
    assert not _outlines(html) and "&lt;script&gt;" in html
    assert client.get(f"/page/{sheet}.jpg").status_code == 200


def test_duplicates_page_shows_the_counts_pairs_likeliest_mistakes_first(
    client: FlaskClient, headers: dict[str, str], campaign: Campaign
) -> None:
    by_name: dict[str, list[int]] = {}
    for row_id, name in campaign.truth.items():
        if name and row_id not in campaign.queue:
            by_name.setdefault(name, []).append(row_id)
    probable = tuple(by_name["MAREK WOZNIAK"] + by_name["MAREK WDZNIAK"])
    namesakes = tuple(by_name["OLGA DABROWSKA"])
    exact = set(combinations(sorted(by_name["ANNA NOWAK"]), 2))
    html = client.get("/duplicates").get_data(as_text=True)
    shown = [(int(a), int(b)) for a, b in re.findall(r'data-row-a="(\d+)" data-row-b="(\d+)"', html)]
    assert shown[0] == probable and shown[1] == namesakes
    assert exact <= set(shown[2:]) and len(shown) == 2 + len(shown[2:])
    assert "letters the reader confuses" in html and "kept apart" in html
    # a person's "different people" on the probable match changes the count at once
    with campaign.connect() as conn:
        unique_before = tally.count(conn, save_decisions=False).value("unique signatures")
    r = client.post(
        "/api/duplicates/decision",
        json={"row_a": probable[0], "row_b": probable[1], "decision": "different", "seen": ""},
        headers=headers,
    )
    assert r.status_code == 200
    with campaign.connect() as conn:
        assert tally.count(conn, save_decisions=False).value("unique signatures") == unique_before + 1
    html = client.get("/duplicates").get_data(as_text=True)
    shown_after = [(int(a), int(b)) for a, b in re.findall(r'data-row-a="(\d+)" data-row-b="(\d+)"', html)]
    assert shown_after[-1] == probable  # decided pairs go last


def test_duplicate_decision_is_saved_locked_and_logged(
    app: Flask, campaign: Campaign, login_as: Callable[..., dict[str, str]]
) -> None:
    ala, ola = app.test_client(), app.test_client()
    h_ala, h_ola = login_as(ala, "Ala"), login_as(ola, "Ola")
    twice = [i for i, n in campaign.truth.items() if n == "ANNA NOWAK" and campaign.machine[i] == n]
    a, b = sorted(twice)[:2]
    pair = {"row_a": b, "row_b": a, "seen": ""}
    r = ola.post("/api/duplicates/decision", json=dict(pair, decision="same"), headers=h_ola)
    assert r.status_code == 200
    stamp = r.get_json()["decision"]["stamp"]
    late = ala.post("/api/duplicates/decision", json=dict(pair, decision="different"), headers=h_ala)
    assert late.status_code == 409 and late.get_json()["current"]["decided_by"] == "Ola"
    ok = ala.post("/api/duplicates/decision", json=dict(pair, decision="different", seen=stamp), headers=h_ala)
    assert ok.status_code == 200
    with campaign.connect() as conn:
        stored = conn.execute(
            "SELECT row_a, row_b, decision, decided_by FROM duplicate_decisions WHERE decided_by IS NOT NULL"
        ).fetchall()
        log = conn.execute("SELECT row_id, reviewer, action FROM review_log ORDER BY id").fetchall()
    assert [tuple(x) for x in stored] == [(a, b, "different", "Ala")]
    assert [(x[0], x[1]) for x in log] == [(a, "Ola"), (a, "Ala")]
    assert "same" in log[0][2] and "different" in log[1][2]
    bad = ala.post("/api/duplicates/decision", json={"row_a": a, "row_b": a, "decision": "same"}, headers=h_ala)
    assert bad.status_code == 400


# --- pieces -------------------------------------------------------------------------------


def test_clean_name() -> None:
    assert clean_name("  jan   de  la  cruz ") == "JAN DE LA CRUZ"
    assert clean_name("józef kos \u2013 nowak") == "JÓZEF KOS-NOWAK"
    with pytest.raises(UsageError):
        clean_name("A\x00B")


def test_missing_database_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError):
        create_app(tmp_path / "none.db", TOKEN)


def test_decisions_survive_a_new_server(campaign: Campaign, login_as: Callable[..., dict]) -> None:
    client = create_app(campaign.path, TOKEN).test_client()
    headers = login_as(client, "Ala")
    row = campaign.queue[0]
    assert decide(client, headers, row, "unreadable")[0] == 200
    del client
    again = create_app(campaign.path, "another-token").test_client()
    assert again.get(f"/api/rows/{row}", headers={"Cookie": ""}).status_code == 403
    again.get("/?token=another-token")
    assert again.get(f"/api/rows/{row}").get_json()["row"]["status"] == "unreadable"
    conn = sqlite3.connect(campaign.path)
    assert conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 1
    conn.close()


def test_database_moved_away_is_a_clear_503(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(campaign.path) + suffix).unlink(missing_ok=True)
    r = client.get("/api/queue")
    assert r.status_code == 503 and "no such database" in r.get_json()["error"]
    assert not campaign.path.exists()  # never re-created empty behind the volunteer's back


# --- hostile requests: huge numbers, huge bodies, failures without tracebacks ----------------


def _rows_snapshot(campaign: Campaign) -> list[tuple[object, ...]]:
    with campaign.connect() as conn:
        return [tuple(r) for r in conn.execute("SELECT id, name, status, version FROM rows ORDER BY id")]


@pytest.mark.parametrize(
    "path",
    ["/crop/12345678901234567890123.png", "/page/12345678901234567890123.jpg", "/sheets/99999999999999999999999",
     "/api/rows/99999999999999999999999", "/crop/9223372036854775808.png"],
)  # fmt: skip
def test_numbers_beyond_sqlite_are_no_such_row(
    client: FlaskClient, headers: dict[str, str], path: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.get(path).status_code == 404
    assert not [r for r in caplog.records if r.exc_info]


def test_huge_numbers_in_a_body_are_refused(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    before = _rows_snapshot(campaign)
    row = campaign.queue[0]
    r = client.post(
        f"/api/rows/{row}/decision", json={"version": 10**30, "decision": "confirm", "values": {}}, headers=headers
    )
    assert r.status_code in (400, 409)
    pair = {"row_a": 10**30, "row_b": 10**31, "decision": "same", "seen": ""}
    assert client.post("/api/duplicates/decision", json=pair, headers=headers).status_code == 400
    assert client.get("/api/queue?exclude=" + "9" * 40).status_code == 200
    assert _rows_snapshot(campaign) == before


def test_request_body_size_is_limited(client: FlaskClient, headers: dict[str, str], campaign: Campaign) -> None:
    from petitionscan.review.app import MAX_REQUEST_BYTES

    before = _rows_snapshot(campaign)
    row = campaign.queue[0]
    big = b'{"version": 1, "decision": "unreadable", "values": {"name": "' + b"A" * MAX_REQUEST_BYTES + b'"}}'
    r = client.post(f"/api/rows/{row}/decision", data=big, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert "error" in r.get_json()

    assert _rows_snapshot(campaign) == before


def test_a_chunked_body_is_limited_on_the_real_server(campaign: Campaign) -> None:
    """Without a Content-Length the server never buffers more than the limit (a real socket, chunked)."""
    import http.client

    from petitionscan.review.app import MAX_REQUEST_BYTES
    from petitionscan.review.server import ReviewServer

    server = ReviewServer(campaign.path, port=0, reviewer="Ala")
    server.start_in_thread()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

        def chunks() -> Iterator[bytes]:
            yield b'{"name": "'
            for _ in range(40):
                yield b"A" * (MAX_REQUEST_BYTES // 8)
            yield b'"}'

        conn.request(
            "POST", "/api/reviewer", body=chunks(), encode_chunked=True,
            headers={"Content-Type": "application/json", "X-Petitionscan-Token": server.token,
                     "Cookie": "", "Host": f"127.0.0.1:{server.port}"},
        )  # fmt: skip
        first = conn.getresponse()
        assert first.status == 403  # no cookie: refused before the body is read
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", "/?token=" + server.token)
        cookie = conn.getresponse().getheader("Set-Cookie", "").split(";")[0]
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request(
            "POST", "/api/reviewer", body=chunks(), encode_chunked=True,
            headers={"Content-Type": "application/json", "X-Petitionscan-Token": server.token, "Cookie": cookie},
        )  # fmt: skip
        answer = conn.getresponse()
        # werkzeug either stops at the limit (413) or, not knowing the length, reads nothing (400)
        assert answer.status in (400, 413), answer.read()
        assert answer.getheader("Set-Cookie") is None
        conn.close()
    finally:
        server.shutdown()


def test_an_unexpected_failure_is_one_line_and_a_500(
    app: Flask, client: FlaskClient, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from petitionscan.review import queries

    def broken(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(queries, "crop_png", broken)
    caplog.set_level("WARNING")
    r = client.get(f"/crop/{1}.png")
    assert r.status_code == 500
    assert [r.getMessage() for r in caplog.records] == ["GET /crop/1.png failed: RuntimeError: disk on fire"]
    assert not [r for r in caplog.records if r.exc_info]
