"""Generate a sheet, simulate returned copies, scan them on two computers, merge and count."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from petitionscan import tally
from petitionscan.cli import main
from petitionscan.forms import generate
from petitionscan.merge import merge_databases
from petitionscan.scan import scan_paths
from petitionscan.simulate import simulate

SEED = 4242


def _truth(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _count(db: Path) -> tally.Tally:
    conn = sqlite3.connect(db)
    try:
        return tally.count(conn, save_decisions=False)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Laptop 1 reads a sheet and a photocopy signed by others; laptop 2 photographs the first again."""
    root = tmp_path_factory.mktemp("tally-round-trip")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PETITIONSCAN_HOME", str(root / "home"))
        pdf, layout = root / "sheets.pdf", root / "sheets.json"
        generate(None, sheets=1, out=pdf, layout_out=layout, branch="RAIL DEPOT", with_appeal=False)
        paper = simulate(pdf, layout, root / "paper", profile="flatbed", seed=SEED)
        again = simulate(pdf, layout, root / "again", profile="feeder", seed=SEED)  # same names, other image
        photocopy = simulate(pdf, layout, root / "copy", profile="flatbed", seed=SEED + 1)  # other signers
    laptop1, laptop2 = root / "laptop1.db", root / "laptop2.db"
    scan_paths([root / "paper" / paper.files[0]], db=laptop1, jobs=1, rejected=root / "r1.csv")
    scan_paths([root / "copy" / photocopy.files[0]], db=laptop1, jobs=1, rejected=root / "r1.csv")
    scan_paths([root / "again" / again.files[0]], db=laptop2, jobs=1, rejected=root / "r2.csv")
    return {
        "laptop1": laptop1,
        "laptop2": laptop2,
        "truth": _truth(paper.truth) + _truth(photocopy.truth),
        "root": root,
    }


def test_counts_agree_with_the_simulated_truth(scanned: dict[str, object]) -> None:
    truth = scanned["truth"]
    assert isinstance(truth, list)
    table = _count(scanned["laptop1"])  # type: ignore[arg-type]
    assert table.value("rows read") == len(truth)
    assert table.value("blank") == sum(1 for t in truth if t["name"] == "")
    signed = [t for t in truth if t["name"] and t["signed"] == "yes" and t["crossed_out"] == "no"]
    assert table.value("signatures") <= len(signed) <= table.value("signatures") + table.value("needs review")
    assert table.value("unique signatures") == table.value("signatures") - table.value("duplicates removed")
    assert table.value("unique signatures") >= len({t["name"] for t in signed}) - table.value("needs review")


def test_the_same_paper_from_another_laptop_counts_once(scanned: dict[str, object], tmp_path: Path) -> None:
    target = tmp_path / "merged.db"
    merge_databases(target, [scanned["laptop1"]])  # type: ignore[list-item]
    before = _count(target)
    result = merge_databases(target, [scanned["laptop2"]])[0]  # type: ignore[list-item]
    assert result.sheets_matched == 1 and result.copies_added == 0 and result.sheets_added == 0
    after = _count(target)
    assert after.value("unique signatures") == before.value("unique signatures")
    assert after.value("rows read") == before.value("rows read")
    assert not merge_databases(target, [scanned["laptop2"], scanned["laptop1"]])[0].changed  # type: ignore[list-item]


def test_export_has_every_row_of_both_copies(scanned: dict[str, object]) -> None:
    truth = scanned["truth"]
    assert isinstance(truth, list)
    result = CliRunner().invoke(main, ["export", "--db", str(scanned["laptop1"]), "--out", "-"])
    assert result.exit_code == 0, result.stderr
    lines = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert len(lines) == len(truth)
    assert {(line["sheet_id"], line["row"]) for line in lines} == {(t["sheet_id"], t["row"]) for t in truth}
    assert sorted({line["copy_no"] for line in lines}) == ["1", "2"]
    assert {line["branch"] for line in lines} == {"RAIL DEPOT"}
