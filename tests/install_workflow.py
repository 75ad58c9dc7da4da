"""The workflow a newcomer runs after ``pip install petitionscan``, run by tests/test_install.py.

It runs inside the fresh virtual environment, from a folder outside the
repository, with only that environment's ``bin`` on PATH (so no Tesseract)
and, where the test could arrange it, with the system font folders, the
repository and the shared data hidden. Every command's exit code and output
go to ``results.json`` for the test to check; nothing here asserts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

WORK = Path(sys.argv[1])
results: dict[str, dict[str, object]] = {}


def run(key: str, *args: str) -> dict[str, object]:
    done = subprocess.run(["petitionscan", *args], cwd=WORK, capture_output=True, text=True, timeout=300)
    results[key] = {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
    return results[key]


def damaged_scan(folder: Path) -> None:
    """One printed sheet whose QR code is gone: only the printed serial (Tesseract) could name it."""
    from PIL import Image

    from petitionscan import geometry
    from petitionscan.forms import generate
    from petitionscan.scan.register import Registration, register
    from petitionscan.simulate import render_pages

    generate(None, sheets=1, out=WORK / "one.pdf", with_appeal=False)
    page = render_pages(WORK / "one.pdf", [0], dpi=150)[0]
    found = register(page)
    assert isinstance(found, Registration)
    x0, y0, x1, y1 = geometry.sheet_geometry(geometry.parse_layout_code(found.layout_code)).qr_rect_mm
    px = 150 / 25.4
    page[int(y0 * px) : int(y1 * px), int(x0 * px) : int(x1 * px)] = 255
    folder.mkdir()
    Image.fromarray(page).save(folder / "no-qr.png")


def review() -> dict[str, object]:
    """Start the review page, open it over loopback, stop it with Ctrl+C."""
    proc = subprocess.Popen(
        ["petitionscan", "review", "--no-browser", "--port", "0", "--reviewer", "Test"],
        cwd=WORK, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ctrl+C as a terminal gives it, even when this run was started in the background (SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.stdout is not None
    first, status = proc.stdout.readline(), 0
    try:
        match = re.search(r"(http://127\.0\.0\.1:\d+/\S*)", first)
        if match:  # the key in the address becomes a cookie on the first answer, as in a browser
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            with opener.open(match.group(1), timeout=30) as answer:
                status = answer.status
    finally:  # never leave the server running, whatever the page answered
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    return {"rc": proc.returncode, "stdout": first + out, "stderr": err, "http": status}


def main() -> None:
    import petitionscan

    results["where"] = {
        "package": petitionscan.__file__,
        "tesseract": shutil.which("tesseract"),
        "fonts": sorted(os.listdir("/usr/share/fonts")) if os.path.isdir("/usr/share/fonts") else None,
    }
    run("version", "--version")
    results["python -m"] = {
        "rc": subprocess.run([sys.executable, "-m", "petitionscan", "--help"], cwd=WORK, capture_output=True).returncode
    }
    run("demo", "demo", "demo", "--jobs", "2")
    run("generate", "generate", "--sheets", "3", "--branch", "Aktau drivers", "--out", "sheets.pdf", "--layout",
        "sheets.json")  # fmt: skip
    run("simulate", "simulate", "sheets.pdf", "--layout", "sheets.json", "--out", "returned", "--profile", "mixed",
        "--seed", "3")  # fmt: skip
    run("scan", "scan", "returned", "--jobs", "2")
    run("tally", "tally", "--by", "branch")
    run("export", "export", "--out", "rows.csv")
    run("export unique", "export", "--unique", "--out", "signatures.csv", "--duplicates", "duplicates.csv")
    run("report", "report", "--out", "report.pdf", "--target", "100")
    run("report list", "report", "--signatories", "--out", "signatories.pdf")
    run("merge", "merge", "demo/campaign.db")
    run("tally after merge", "tally", "--out", "tally.csv")
    results["review"] = review()
    damaged_scan(WORK / "damaged")
    run("scan without tesseract", "scan", "damaged", "--db", "damaged.db", "--jobs", "1")
    (WORK / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
