"""Fetch the handwriting fonts used as extra writers in training and the benchmark.

    .venv/bin/python training/fetch_fonts.py [--out build/fonts]

Each font of Google Fonts' "handwriting" category is one designer's capitals,
many of them made from their own pen or marker handwriting: another source
than the tablet recordings in ``../shared/handwriting``, and closer to the ink
on returned sheets. They come from the npm registry as Fontsource packages
(72 under the SIL Open Font License 1.1, 11 Apache 2.0, 1 MIT; each font's
licence is saved beside it in ``LICENSES/``) with
``npm pack`` at the pinned versions below; only the regular-weight Latin WOFF
file is kept, and for the ten fonts that draw Russian letters (CYRILLIC_FONTS)
their Cyrillic files too, in ``cyrillic/`` (``NAME.woff``, and ``NAME-ext.woff``
with the Kazakh letters where the font has them): a folder apart, so that
nothing that reads the Latin fonts takes them for more Latin writers. Nothing here is used when
reading sheets, and no font file is committed.

Left out of the category on sight, before any was read by the recognizer:
outline, shadow and sketch faces (cabin-sketch, kranky, londrina-sketch,
rubik-doodle-shadow), brush scripts with cursive capitals (comforter-brush,
liu-jian-mao-cao, ma-shan-zheng, zhi-mang-xing), and faces whose capitals
include lower-case shapes (mansalva, swanky-and-moo-moo); yeon-sung, whose
package carries no licence file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FONTS = {
    "amatic-sc": "5.3.0",
    "annie-use-your-telescope": "5.3.0",
    "architects-daughter": "5.3.0",
    "caveat": "5.3.0",
    "caveat-brush": "5.3.0",
    "chewy": "5.3.0",
    "chilanka": "5.3.0",
    "comic-neue": "5.3.0",
    "coming-soon": "5.3.0",
    "covered-by-your-grace": "5.3.0",
    "crafty-girls": "5.3.0",
    "cute-font": "5.2.8",
    "dekko": "5.3.0",
    "delius": "5.3.0",
    "delius-unicase": "5.3.0",
    "east-sea-dokdo": "5.3.0",
    "edu-nsw-act-foundation": "5.3.0",
    "edu-qld-beginner": "5.3.0",
    "edu-sa-beginner": "5.3.0",
    "edu-tas-beginner": "5.3.0",
    "edu-vic-wa-nt-beginner": "5.3.0",
    "finger-paint": "5.3.0",
    "fuzzy-bubbles": "5.3.0",
    "gaegu": "5.3.0",
    "gamja-flower": "5.3.0",
    "give-you-glory": "5.3.0",
    "gloria-hallelujah": "5.3.0",
    "gluten": "5.3.0",
    "gochi-hand": "5.3.0",
    "grape-nuts": "5.3.0",
    "hachi-maru-pop": "5.3.0",
    "handlee": "5.3.0",
    "hi-melody": "5.3.0",
    "indie-flower": "5.3.0",
    "itim": "5.3.0",
    "just-another-hand": "5.3.0",
    "just-me-again-down-here": "5.3.0",
    "kalam": "5.3.0",
    "kite-one": "4.5.0",
    "klee-one": "5.3.0",
    "long-cang": "5.3.0",
    "loved-by-the-king": "5.3.0",
    "mali": "5.3.0",
    "mouse-memoirs": "5.2.7",
    "mynerve": "5.3.0",
    "nanum-brush-script": "5.3.0",
    "nanum-pen-script": "5.3.0",
    "nerko-one": "5.3.0",
    "neucha": "5.3.0",
    "nothing-you-could-do": "5.3.0",
    "oregano": "5.3.0",
    "over-the-rainbow": "5.3.0",
    "pangolin": "5.3.0",
    "patrick-hand": "5.3.0",
    "patrick-hand-sc": "5.3.0",
    "permanent-marker": "5.3.0",
    "playpen-sans": "5.3.0",
    "poor-story": "5.3.0",
    "rancho": "5.3.0",
    "reenie-beanie": "5.3.0",
    "rock-salt": "5.3.0",
    "schoolbell": "5.3.0",
    "sedgwick-ave": "5.3.0",
    "shadows-into-light": "5.3.0",
    "shadows-into-light-two": "5.3.0",
    "shantell-sans": "5.3.0",
    "short-stack": "5.3.0",
    "single-day": "5.3.1",
    "sniglet": "5.3.0",
    "sofadi-one": "5.3.0",
    "solitreo": "5.3.0",
    "sriracha": "5.3.0",
    "stylish": "5.3.1",
    "sue-ellen-francisco": "5.3.0",
    "sunshiney": "5.3.0",
    "the-girl-next-door": "5.3.0",
    "unkempt": "5.3.0",
    "vibur": "5.3.0",
    "waiting-for-the-sunrise": "5.3.0",
    "walter-turncoat": "5.3.0",
    "yomogi": "5.3.0",
    "yusei-magic": "5.3.0",
    "zen-kurenaido": "5.3.0",
    "zeyada": "5.3.0",
}
"""Fontsource package name (without @fontsource/) and version."""

CYRILLIC_FONTS = {
    "amatic-sc": ("cyrillic",),
    "caveat": ("cyrillic", "cyrillic-ext"),
    "hachi-maru-pop": ("cyrillic",),
    "klee-one": ("cyrillic",),
    "neucha": ("cyrillic",),
    "pangolin": ("cyrillic", "cyrillic-ext"),
    "playpen-sans": ("cyrillic", "cyrillic-ext"),
    "shantell-sans": ("cyrillic", "cyrillic-ext"),
    "yomogi": ("cyrillic",),
    "zen-kurenaido": ("cyrillic",),
}
"""The fonts whose packages draw Russian letters, and their Cyrillic subsets (-ext holds the Kazakh ones)."""


def wanted(name: str, out: Path) -> dict[str, Path]:
    """Each file kept of a package (its path inside the package) and where it goes."""
    files = {
        f"package/files/{name}-latin-400-normal.woff": out / f"{name}.woff",
        "package/LICENSE": out / "LICENSES" / f"{name}.txt",
    }
    for subset in CYRILLIC_FONTS.get(name, ()):
        stem = name + subset.removeprefix("cyrillic")
        files[f"package/files/{name}-{subset}-400-normal.woff"] = out / "cyrillic" / f"{stem}.woff"
    return files


def fetch(name: str, version: str, out: Path) -> None:
    """``npm pack`` one package and keep its regular WOFF files (:func:`wanted`) and its licence."""
    with tempfile.TemporaryDirectory(prefix="font-") as tmp:
        subprocess.run(
            ["npm", "pack", "--silent", f"@fontsource/{name}@{version}"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=300,
        )
        (tgz,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tgz) as tar:
            for inside, dest in wanted(name, out).items():
                try:
                    member = tar.extractfile(inside)
                except KeyError:
                    member = None
                if member is None:
                    raise SystemExit(f"{name}@{version}: no {inside} in the package")
                part = dest.with_name(dest.name + ".part")
                with part.open("wb") as fh:
                    shutil.copyfileobj(member, fh)
                os.replace(part, dest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "fonts")
    args = ap.parse_args()
    if shutil.which("npm") is None:
        raise SystemExit("npm not found: install Node.js and npm (Debian: apt install npm), then run this again")
    (args.out / "LICENSES").mkdir(parents=True, exist_ok=True)
    (args.out / "cyrillic").mkdir(exist_ok=True)
    for i, (name, version) in enumerate(sorted(FONTS.items()), 1):
        if all(dest.exists() for dest in wanted(name, args.out).values()):
            continue
        print(f"[{i}/{len(FONTS)}] {name} {version}", file=sys.stderr)
        fetch(name, version, args.out)
    print(f"{len(FONTS)} fonts in {args.out}")


if __name__ == "__main__":
    main()
