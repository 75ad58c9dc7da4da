"""Regenerate the checked-in samples: ``.venv/bin/python scripts/make_samples.py``.

Prints two sheets of the default campaign, simulates one or two of them per
capture profile into ``samples/<profile>/`` (each with its ``truth.csv``) and crops a
few handwritten rows into ``docs/img/handwriting-*.png`` for the README. A sheet
of the Kazakh campaign, written in Cyrillic, goes to ``samples/cyrillic/`` (its own
sheets PDF and layout, a flatbed scan and ``truth.csv``) and
``docs/img/handwriting-cyrillic.png`` (``--cyrillic-only`` makes just that). The
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
from petitionscan.simulate.handwriting import available_cyrillic_hands, available_hands
from petitionscan.simulate.layout import load_layout
from petitionscan.simulate.output import atomic_write

REPO = Path(__file__).resolve().parents[1]
SEEDS = {"flatbed": 1, "feeder": 2, "phone": 3, "fax": 4, "photocopy": 5}
# Pages per profile: enough to show each kind of file, small enough to keep in the repository.
PAGES = {"flatbed": 1, "feeder": 1, "phone": 1, "fax": 2, "photocopy": 1}


CYRILLIC_SEED = 6


def handwriting_crops(
    pdf: Path, layout: Path, out_dir: Path, seed: int = 7, count: int = 3, name: str = "handwriting-{n}.png"
) -> list[Path]:
    """Crops of filled rows (name band only) from a clean, undegraded page."""
    pages = load_layout(layout)
    index = next(i for i, p in enumerate(pages) if p.sheet_id)
    written: list[Path] = []
    cyrillic = available_cyrillic_hands() if pages[index].alphabet != "latin" else ()
    for n in range(count):
        page = render_pages(pdf, [index])[0]
        rng = np.random.default_rng(seed + n)
        fill_page(page, pages[index], available_hands(), rng, fill=1.0, cyrillic_hands=cyrillic)
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
        path = out_dir / name.format(n=n + 1)
        atomic_write(path, png.tobytes())
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "samples", help="samples folder")
    parser.add_argument("--img", type=Path, default=REPO / "docs" / "img", help="folder for handwriting crops")
    parser.add_argument("--sheets", type=int, default=2, help="signature sheets per profile")
    parser.add_argument("--cyrillic-only", action="store_true", help="only the Cyrillic sample and crop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # A private serial ledger: samples must not use up the user's serials.
        os.environ["PETITIONSCAN_HOME"] = tmp
        cyrillic_sample(args.out / "cyrillic", args.img)
        if args.cyrillic_only:
            return
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


def cyrillic_sample(folder: Path, img: Path) -> None:
    """One sheet of the Kazakh campaign, filled in Cyrillic and scanned flatbed, and a crop of it."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    pdf, layout = folder / "sheets.pdf", folder / "sheets.json"
    generate(
        REPO / "petitionscan" / "forms" / "campaigns" / "mangystau-kk.toml",
        sheets=1,
        out=pdf,
        layout_out=layout,
        with_appeal=False,
    )
    result = simulate(pdf, layout, folder, profile="flatbed", seed=CYRILLIC_SEED)
    print(f"cyrillic: {', '.join(result.files)}")
    img.mkdir(parents=True, exist_ok=True)
    for path in handwriting_crops(pdf, layout, img, seed=CYRILLIC_SEED, count=1, name="handwriting-cyrillic.png"):
        print(path)


if __name__ == "__main__":
    main()
