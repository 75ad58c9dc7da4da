"""Fixtures of the review tests: a seeded campaign database, the app, a logged-in client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from review_data import TOKEN, Campaign, build_campaign, login

from petitionscan.review import create_app


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return build_campaign(tmp_path / "campaign.db")


@pytest.fixture
def app(campaign: Campaign) -> Flask:
    return create_app(campaign.path, TOKEN)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_as() -> Callable[..., dict[str, str]]:
    """``login_as(client, reviewer)``: open the address, give a name, get the write headers."""
    return login


@pytest.fixture
def headers(client: FlaskClient) -> dict[str, str]:
    return login(client, "Ala")
