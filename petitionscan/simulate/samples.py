"""Regenerate the checked-in samples: ``python -m petitionscan.simulate.samples``.

Prints two sheets of the default campaign, simulates one or two of them per
capture profile into ``samples/<profile>/`` (each with its ``truth.csv``) and crops a
few handwritten rows into ``docs/img/handwriting-*.png`` for the README. The
sheet serials are new on every run (they are random by design); everything
else follows from the seeds below.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from petitionscan.forms import generate
from petitionscan.simulate import PROFILES, render_pages, simulate
from petitionscan.simulate.fill import fill_page
from petitionscan.simulate.handwriting import available_hands
from petitionscan.simulate.layout import load_layout
from petitionscan.simulate.output import atomic_write

REPO = Path(__file__).resolve().parents[2]
SEEDS = {"flatbed": 1, "feeder": 2, "phone": 3, "fax": 4, "photocopy": 5}
# Pages per profile: enough to show each kind of file, small enough to keep in the repository.
PAGES = {"flatbed": 1, "feeder": 1, "phone": 1, "fax": 2, "photocopy": 1}


def handwriting_crops(pdf: Path, layout: Path, out_dir: Path, seed: int = 7, count: int = 3) -> list[Path]:
    """Crops of filled rows (name band only) from a clean, undegraded page."""
    pages = load_layout(layout)
    index = next(i for i, p in enumerate(pages) if p.sheet_id)
    written: list[Path] = []
    for n in range(count):
        page = render_pages(pdf, [index])[0]
        fill_page(page, pages[index], available_hands(), np.random.default_rng(seed + n), fill=1.0)
        scale = page.shape[1] / pages[index].page_size[0]
        rows = pages[index].rows[:3]
        x0 = rows[0].rect[0] * scale
        x1 = rows[0].rect[2] * scale
        y0 = rows[0].rect[1] * scale - 15
        y1 = rows[-1].rect[3] * scale + 10
        crop = page[int(y0) : int(y1), int(x0) : int(x1)]
        crop = cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        ok, png = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError("PNG encoding failed")
        path = out_dir / f"handwriting-{n + 1}.png"
        atomic_write(path, png.tobytes())
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "samples", help="samples folder")
    parser.add_argument("--img", type=Path, default=REPO / "docs" / "img", help="folder for handwriting crops")
    parser.add_argument("--sheets", type=int, default=2, help="signature sheets per profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # A private serial ledger: samples must not use up the user's serials.
        os.environ["PETITIONSCAN_HOME"] = tmp
        args.out.mkdir(parents=True, exist_ok=True)
        pdf, layout = args.out / "sheets.pdf", args.out / "sheets.json"
        generate(None, sheets=args.sheets, out=pdf, layout_out=layout, with_appeal=False)
        for profile in PROFILES:
            folder = args.out / profile
            if folder.exists():
                shutil.rmtree(folder)
            result = simulate(
                pdf, layout, folder, profile=profile, seed=SEEDS[profile], max_sheets=min(args.sheets, PAGES[profile])
            )
            print(f"{profile}: {', '.join(result.files)}")
        args.img.mkdir(parents=True, exist_ok=True)
        for path in handwriting_crops(pdf, layout, args.img):
            print(path)


if __name__ == "__main__":
    main()
