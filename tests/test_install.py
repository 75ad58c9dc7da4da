"""From the source distribution to a wheel in a fresh virtual environment, then the whole workflow.

This is what a volunteer on any laptop gets from ``pip install``: the test
builds the sdist, builds the wheel from the unpacked sdist (so the sdist is
complete), installs it into a new venv (dependencies from the package index
as pip is configured), and runs every command (tests/install_workflow.py)
from a folder outside the repository with only the venv on PATH, so without
Tesseract. As root on Linux it runs in its own mount namespace where the
system font folders, the repository and the shared data folder are empty
directories: the package must carry everything itself.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest

REPO = Path(__file__).resolve().parents[1]
HIDDEN = ("/usr/share/fonts", "/usr/local/share/fonts", str(REPO), str(REPO.parent / "shared"))
MAX_WHEEL_BYTES = 6_000_000
"""Three letter networks (1.3 MB each; the Cyrillic file holds two), two lexicons, the fonts and the demo strokes: about 5.2 MB."""


def _build(backend_call: str, cwd: Path, out: Path) -> Path:
    code = f"from setuptools import build_meta as b; print(b.{backend_call}({str(out)!r}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


def _can_hide_folders() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("mount")):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode == 0


def _pdf_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(path)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    sdist = _build("build_sdist", REPO, out)
    with tarfile.open(sdist) as tar:
        tar.extractall(out / "unpacked", filter="data")
    (source,) = (out / "unpacked").iterdir()
    wheel = _build("build_wheel", source, out)
    return sdist, wheel


def test_the_distributions_carry_licences_data_and_tests(dists: tuple[Path, Path]) -> None:
    sdist, wheel = dists
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("LICENSE", "THIRD-PARTY-NOTICES.md", "tests/test_install.py", "tests/install_workflow.py",
                   "petitionscan/fontfiles/LICENSE-DejaVu.txt", "petitionscan/forms/campaigns/mangystau.toml",
                   "training/build_demo_hands.py"):  # fmt: skip
        assert needed in names, needed
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    for needed in ("petitionscan/fontfiles/DejaVuSans.ttf", "petitionscan/fontfiles/DejaVuSans-Bold.ttf",
                   "petitionscan/fontfiles/LICENSE-DejaVu.txt", "petitionscan/forms/campaigns/mangystau.toml",
                   "petitionscan/forms/campaigns/mangystau-ru.toml", "petitionscan/forms/campaigns/mangystau-kk.toml",
                   "petitionscan/simulate/hands.json.gz", "petitionscan/recognize/letters.onnx",
                   "petitionscan/recognize/cyrillic.onnx", "petitionscan/recognize/cyrillic.json",
                   "petitionscan/recognize/names.json.gz", "petitionscan/recognize/names-cyrillic.json.gz",
                   "petitionscan/review/static/translit.js",
                   f"{info}/licenses/LICENSE", f"{info}/licenses/THIRD-PARTY-NOTICES.md"):  # fmt: skip
        assert needed in names, needed
    assert not any(n.startswith("tests/") for n in names)
    assert wheel.stat().st_size < MAX_WHEEL_BYTES


def test_a_fresh_install_runs_the_whole_workflow_without_fonts_or_tesseract(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = dists
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(wheel)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]

    work = tmp_path / "work"
    work.mkdir()
    driver = tmp_path / "install_workflow.py"
    shutil.copy(REPO / "tests" / "install_workflow.py", driver)
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8", "TMPDIR": str(tmp_path)}
    command = [str(venv / "bin" / "python"), str(driver), str(work)]
    hidden = _can_hide_folders()
    if hidden:
        empty = tmp_path / "empty"
        empty.mkdir()
        mount = shutil.which("mount")
        mounts = "".join(f'if [ -d "{d}" ]; then {mount} --bind "{empty}" "{d}" || exit 99; fi; ' for d in HIDDEN)
        unshare = str(shutil.which("unshare"))
        command = [unshare, "-m", "--propagation", "private", "/bin/sh", "-c", mounts + 'exec "$@"', "sh", *command]
    else:  # still no Tesseract and no repository on sys.path; fonts stay visible
        print("note: not root or no mount namespaces here, so system fonts are not hidden for this run")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    results = json.loads((work / "results.json").read_text(encoding="utf-8"))

    where = results.pop("where")
    assert Path(where["package"]).is_relative_to(venv), where  # the wheel's files, not the checkout's
    assert where["tesseract"] is None
    if hidden:
        assert where["fonts"] == []
    review = results.pop("review")
    for key, result in results.items():
        expected = (11,) if key == "scan without tesseract" else (0,)  # its one page could not be read
        assert result["rc"] in expected, (key, result)

    assert results["version"]["stdout"].startswith("petitionscan, version")
    assert "real pen strokes of 11 UJI Pen Characters writers" in results["demo"]["stdout"]
    assert "database:" in results["scan"]["stdout"] and (work / "campaign.db").is_file()  # ./campaign.db
    assert "rejected: 0" in results["scan"]["stdout"]
    with (work / "returned" / "truth.csv").open(encoding="utf-8", newline="") as fh:
        written = len(list(csv.DictReader(fh)))
    with (work / "rows.csv").open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == written
    assert "Unique signatures:" in _pdf_text(work / "report.pdf")
    assert "unique signatories" in _pdf_text(work / "signatories.pdf")
    for name in ("campaign.db", "rows.csv", "signatures.csv", "duplicates.csv", "report.pdf", "signatories.pdf"):
        assert stat.S_IMODE((work / name).stat().st_mode) == 0o600, name
    assert "new sheets" in results["merge"]["stdout"]
    with (work / "tally.csv").open(encoding="utf-8", newline="") as fh:
        total = next(r for r in csv.DictReader(fh) if r["group"] == "TOTAL")
    with (work / "demo" / "tally.csv").open(encoding="utf-8", newline="") as fh:
        demo_total = next(r for r in csv.DictReader(fh) if r["branch"] == "TOTAL")
    assert int(total["rows read"]) == written + int(demo_total["rows read"])  # both campaigns' rows, once

    assert review["rc"] == 0 and review["http"] == 200, review
    assert "stopped; every decision is saved" in review["stdout"]
    line = [x for x in results["scan without tesseract"]["stdout"].splitlines() if x.startswith("Tesseract is not")]
    assert len(line) == 1 and "brew install tesseract" in line[0]
