"""The same campaign counts, exports, merges and reviews the same on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from petitionscan import export, merge, purge, report, store, tally
from petitionscan.review import queries

from .conftest import Corpus, Truth, build_planted


def _tallies(conn: store.Connection) -> list[tally.Tally]:
    return [tally.count(conn, by) for by in (None, "branch", "workplace", "town", "sheet", "day")]


def _export(db: store.Target, **options: bool) -> str:
    out = io.StringIO()
    export.export_database(db, out, **options)
    return out.getvalue()


@pytest.fixture
def both(tmp_path: Path, pg_url: str) -> tuple[tuple[Corpus, Truth], tuple[Corpus, Truth]]:
    lite = Corpus(tmp_path / "campaign.db")
    pg = Corpus(pg_url)
    yield (lite, build_planted(lite)), (pg, build_planted(pg))
    lite.close()
    pg.close()


def test_counts_and_exports_are_identical(both: tuple[tuple[Corpus, Truth], tuple[Corpus, Truth]]) -> None:
    (lite, truth), (pg, _) = both
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas must not warn about the connection
        assert _tallies(pg.conn) == _tallies(lite.conn)
    assert tally.count(pg.conn).value("unique signatures") == truth.unique
    for options in ({}, {"unique": True}):
        assert _export(pg.path, **options) == _export(lite.path, **options)
    assert report.report_database(pg.path, io.BytesIO()) is not None


def test_commands_take_a_url(both: tuple[tuple[Corpus, Truth], tuple[Corpus, Truth]], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from click.testing import CliRunner

    from petitionscan.cli import main

    (lite, _), (pg, _) = both
    outputs = []
    for db in (str(lite.path), str(pg.path)):
        result = CliRunner().invoke(main, ["tally", "--db", db, "--by", "branch", "--out", "-"])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    for name, db in (("lite.csv", str(lite.path)), ("pg.csv", str(pg.path))):
        monkeypatch.setenv("PETITIONSCAN_DB", db)
        result = CliRunner().invoke(main, ["export", "--unique", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "pg.csv").read_bytes() == (tmp_path / "lite.csv").read_bytes()
    result = CliRunner().invoke(main, ["purge", "--db", str(pg.path)])
    assert result.exit_code == 0 and "MB" in result.stdout, result.output


def test_merge_into_the_server_and_back(tmp_path: Path, pg_url: str) -> None:
    station = Corpus(tmp_path / "station.db")
    truth = build_planted(station)
    station.close()
    first = merge.merge_databases(pg_url, [tmp_path / "station.db"])
    assert first[0].rows_added == sum(truth.statuses.values())
    assert not merge.merge_databases(pg_url, [tmp_path / "station.db"])[0].changed  # twice: nothing new
    back = tmp_path / "back.db"
    merge.merge_databases(back, [pg_url])
    server, file = store.connect(pg_url), store.connect(back)
    try:
        assert _tallies(server) == _tallies(file)
        assert tally.count(server).value("unique signatures") == truth.unique
    finally:
        server.close()
        file.close()


def test_review_decisions_and_conflicts(both: tuple[tuple[Corpus, Truth], tuple[Corpus, Truth]]) -> None:
    for c, _ in both:
        waiting = queries.queue(c.conn, 5)
        assert waiting, "the planted corpus has rows needing review"
        row = waiting[0]
        after = queries.decide(c.conn, row.id, version=row.version, decision="confirm", reviewer="Ann",
                               values={f.field: "ANNA BELL" for f in row.fields})  # fmt: skip
        assert after.status == "confirmed" and after.version == row.version + 1
        with pytest.raises(queries.Conflict):
            queries.decide(c.conn, row.id, version=row.version, decision="unreadable", reviewer="Bob")
        assert [e.reviewer for e in queries.history(c.conn, row.id)] == ["Ann"]
        assert queries.sheets(c.conn)[0].needs_review >= 0
    (lite, _), (pg, _) = both
    assert queries.progress(pg.conn, "Ann") == queries.progress(lite.conn, "Ann")
    assert queries.sheets(pg.conn) == queries.sheets(lite.conn)


def test_purge_on_the_server(pg_url: str) -> None:
    pg = Corpus(pg_url)
    build_planted(pg)
    before = tally.count(pg.conn)
    result = purge.purge_database(pg.path)
    assert result.bytes_after > 0
    assert tally.count(pg.conn) == before
    assert pg.conn.execute("SELECT count(*) FROM rows WHERE crop_png IS NOT NULL").fetchone()[0] == 0
    pg.close()
