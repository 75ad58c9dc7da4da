"""Fuzzing the review API: any method, address and body; never a 500, and no change unless a decision was taken."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from review_data import TOKEN, Campaign, build_campaign, login

from petitionscan.review import create_app

FUZZ = settings.get_profile(f"fuzz-{os.environ.get('PETITIONSCAN_FUZZ', 'default')}")
ANSWERS = {200, 204, 303, 400, 403, 404, 405, 409, 413}

ids = st.one_of(st.integers(-3, 40), st.integers(-(2**80), 2**80), st.text(max_size=6))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
decisions = st.fixed_dictionaries(
    {},
    optional={
        "version": st.one_of(st.integers(-2, 3), json_values),
        "decision": st.sampled_from(["confirm", "correct", "unreadable", "not_signature", "crossed_out", "x"])
        | json_values,
        "values": st.dictionaries(st.sampled_from(["name", "first_name", "surname", "workplace", "town"]), json_values)
        | json_values,
        "row_a": ids,
        "row_b": ids,
        "seen": json_values,
        "name": json_values,
    },
)
paths = st.one_of(
    st.builds(lambda i: f"/api/rows/{i}/decision", ids),
    st.builds(lambda i: f"/api/rows/{i}", ids),
    st.builds(lambda i: f"/crop/{i}.png", ids),
    st.builds(lambda i: f"/page/{i}.jpg", ids),
    st.builds(lambda i: f"/sheets/{i}", ids),
    st.sampled_from(["/api/duplicates/decision", "/api/reviewer", "/api/queue", "/api/progress", "/", "/duplicates"]),
    st.text(max_size=20).map(lambda t: "/" + t),
)


@pytest.fixture(scope="module")
def served(fuzz_dir: Path) -> tuple[Campaign, FlaskClient, dict[str, str]]:
    campaign = build_campaign(fuzz_dir / "campaign.db")
    client = create_app(campaign.path, TOKEN).test_client()
    return campaign, client, login(client, "Ala")


def _snapshot(campaign: Campaign) -> tuple[tuple[Any, ...], ...]:
    with campaign.connect() as conn:
        rows = conn.execute("SELECT id, name, status, version FROM rows ORDER BY id").fetchall()
        log = conn.execute("SELECT count(*) FROM review_log").fetchone()
        pairs = conn.execute("SELECT count(*) FROM duplicate_decisions").fetchone()
        return (*tuple(tuple(r) for r in rows), tuple(log), tuple(pairs))


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "POST", "PUT"]),
    path=paths,
    body=st.one_of(decisions, json_values, st.binary(max_size=200)),
    with_key=st.booleans(),
)
def test_any_request_is_answered_without_a_server_error(
    served: tuple[Campaign, FlaskClient, dict[str, str]], method: str, path: str, body: Any, with_key: bool
) -> None:
    campaign, client, headers = served
    before = _snapshot(campaign)
    kwargs: dict[str, Any] = {"headers": headers if with_key else {}}
    if isinstance(body, bytes):
        kwargs["data"] = body
        kwargs["content_type"] = "application/json"
    else:
        kwargs["json"] = body
    try:
        response = client.open(path, method=method, **kwargs)
    except ValueError:  # the test client itself refuses some addresses (e.g. a bad percent escape)
        return
    assert response.status_code in ANSWERS, (path, response.status_code, response.get_data()[:200])
    after = _snapshot(campaign)
    if not (method == "POST" and response.status_code == 200):
        assert after == before, (method, path)
    else:
        assert len(after) == len(before)  # a decision changes a row, never adds or removes one
