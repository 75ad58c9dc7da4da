"""Shared test set-up: keep every test's serial ledger out of the user's home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("petitionscan-home")
    monkeypatch.setenv("PETITIONSCAN_HOME", str(home))
    monkeypatch.delenv("PETITIONSCAN_DB", raising=False)  # every test names its database or its folder
    return home


# --- fuzzing: how many generated inputs each fuzz target gets -------------------------------
# The default run gives every target 2,000 inputs; PETITIONSCAN_FUZZ=long gives 50,000
# (25 times as long: for a quiet machine, not for every test run).
FUZZ_PROFILES = {"default": 2000, "long": 50_000}
FUZZ_PROFILE = os.environ.get("PETITIONSCAN_FUZZ", "default")
if FUZZ_PROFILE not in FUZZ_PROFILES:
    raise pytest.UsageError(f"PETITIONSCAN_FUZZ must be one of {', '.join(FUZZ_PROFILES)}, not {FUZZ_PROFILE!r}")
for _name, _examples in FUZZ_PROFILES.items():
    settings.register_profile(
        f"fuzz-{_name}",
        max_examples=_examples,
        deadline=None,
        derandomize=_name == "default",  # the everyday run is repeatable; the long run explores
        database=None,  # failures are printed with their input; a database on a busy disk costs more than the runs
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder for files written once per fuzz example: in memory (/dev/shm) where there is one,
    since thousands of small writes to a busy disk would cost more than the checks themselves."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="petitionscan-fuzz-", dir=shm))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("fuzz")


# --- PostgreSQL: the same tests against a real server ----------------------------------------
# A throw-away server is started once per session (see pgserver.py). Without PostgreSQL the
# PostgreSQL variants are skipped with the reason; PETITIONSCAN_REQUIRE_PG=1 (set by .ci/run)
# makes that a failure instead, so CI never skips them.


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    import pgserver

    try:
        with pgserver.server() as running:
            yield running
    except pgserver.Unavailable as exc:
        message = f"PostgreSQL tests cannot run: {exc}"
        if os.environ.get("PETITIONSCAN_REQUIRE_PG"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def pg_url(pg_server: object) -> Iterator[str]:
    """A new empty PostgreSQL database for one test; dropped after it."""
    import pgserver

    assert isinstance(pg_server, pgserver.Server)
    url = pg_server.new_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """The campaign database on each back-end: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "campaign.db"
    return str(request.getfixturevalue("pg_url"))
