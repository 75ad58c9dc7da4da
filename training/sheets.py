"""Whole sheets for the page benchmark and the page threshold: printed, filled in by chosen hands, captured.

One place for both, so the sheets the automatic-acceptance threshold is
chosen on (``training/page_threshold.py``, validation hands) and the sheets
it is measured on (``benchmarks/bench_recognizer.py --pages``, test hands)
are made the same way, from different writers. Outside the package: it reads
the handwriting folder, which a volunteer's installation does not have.
"""

from __future__ import annotations

import os
from pathlib import Path

from petitionscan.recognize.render import VALIDATION_LABS
from petitionscan.simulate.handwriting import handwriting_dir


def make_pages(
    root: Path, pages: int, seed: int, hands: str = "test", campaign: Path | None = None, fonts: Path | None = None
) -> list[Path]:
    """Sheets spread over every capture profile: one generated PDF and scans folder each.

    ``hands``: "test" (the simulator's held-out writers), "validation" (the
    tablet writers the threshold was chosen on, harder ones, and the Cyrillic
    validation sessions: a check of the automatic acceptance on other hands and
    sheets to choose settings on, not a measure of generalisation) or
    "paper" (pen-on-paper capitals of writers never trained on or chosen
    on: the held-out SD19 population's test half) or "paper-validation" (the
    same population's validation half, with the Cyrillic validation sessions:
    sheets the automatic-acceptance threshold is chosen on,
    ``training/page_threshold.py``) or "fonts" (the handwriting
    fonts held out of training, from ``fonts``: another source than any the
    networks learned from or were calibrated on, so a check that the promise
    of the automatic acceptance carries to new sources).
    """
    from petitionscan.alphabets import CYRILLIC
    from petitionscan.forms import generate
    from petitionscan.recognize.render import TEST_FONTS
    from petitionscan.simulate import PROFILES, simulate
    from petitionscan.simulate.handwriting import (
        load_cyrillic_writers,
        load_font_writers,
        load_paper_writers,
        load_stroke_writers,
    )

    writers = cyrillic_writers = None
    if hands == "validation":
        writers = load_stroke_writers(str(handwriting_dir()), VALIDATION_LABS, uji=False)
        cyrillic_writers = load_cyrillic_writers(str(handwriting_dir()), "val") or None
        if not writers:
            raise SystemExit(f"no validation writers in {handwriting_dir()}")
    elif hands in ("paper", "paper-validation"):
        writers = load_paper_writers(str(handwriting_dir()), "test" if hands == "paper" else "val")
        if not writers:
            raise SystemExit(f"no pen-on-paper letters in {handwriting_dir()}")
        if hands == "paper-validation":
            cyrillic_writers = load_cyrillic_writers(str(handwriting_dir()), "val") or None
    elif hands == "fonts":
        paths = sorted(str(f) for f in (fonts or Path("build/fonts")).glob("*.woff") if f.stem in TEST_FONTS)
        if not paths:
            raise SystemExit(f"no held-out font in {fonts}: run training/fetch_fonts.py first and give --fonts")
        writers = load_font_writers(tuple(paths))
        # The fonts that draw Russian letters (and four the Kazakh ones): no Cyrillic network saw any font.
        folder = (fonts or Path("build/fonts")) / "cyrillic"
        cyrillic_fonts = [
            (str(f), *([str(ext)] if (ext := f.with_name(f.stem + "-ext.woff")).exists() else []))
            for f in sorted(folder.glob("*.woff"))
            if not f.stem.endswith("-ext")
        ]
        if not cyrillic_fonts:
            raise SystemExit(f"no Cyrillic font in {folder}: run training/fetch_fonts.py again")
        cyrillic_writers = load_font_writers(tuple(cyrillic_fonts), CYRILLIC)

    os.environ["PETITIONSCAN_HOME"] = str(root / "home")
    per = -(-pages // len(PROFILES))
    folders = []
    for i, profile in enumerate(PROFILES):
        pdf, layout = root / f"{profile}.pdf", root / f"{profile}.json"
        # Seeded serials too: the same sheets, pixel for pixel, on every run.
        generate(campaign, sheets=per, out=pdf, layout_out=layout, with_appeal=False, serial_seed=seed + i)
        simulate(
            pdf,
            layout,
            root / profile,
            profile=profile,
            seed=seed + i,
            fill=0.8,
            hands=writers,
            cyrillic_hands=cyrillic_writers,
        )
        folders.append(root / profile)
    return folders
