"""Benchmark: peak memory of ``scan`` on hostile and oversized single inputs.

Each input is read by ``petitionscan scan FILE -j 1`` in a fresh process (one
worker: the whole read happens in that process), and the peak resident size
of that process is taken from ``os.wait4``. The inputs are built here:

* a 1.3 KB PDF with one 20000 x 20000 pt page (rendered within the render cap);
* a 12500 x 12500 PNG (156 megapixels: refused before decoding);
* a PDF whose single full-page picture is 12000 x 12000 pixels, and one with
  that picture drawn small on a letter (both refused before decoding);
* the largest pictures accepted: a 79-megapixel grey PNG and a 79-megapixel colour JPEG.

    .venv/bin/python benchmarks/bench_memory.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIMIT_GIB = 1.5


def make_inputs(folder: Path) -> list[Path]:
    """Write the inputs (run in its own process: a child's peak counts its parent's size at fork)."""
    import cv2
    import numpy as np
    from PIL import Image
    from reportlab.pdfgen.canvas import Canvas

    Image.MAX_IMAGE_PIXELS = None

    huge_page = folder / "huge-page.pdf"
    canvas = Canvas(str(huge_page), pagesize=(20000, 20000))
    canvas.line(0, 0, 100, 100)
    canvas.showPage()
    canvas.save()

    huge_png = folder / "huge-12500.png"
    cv2.imwrite(str(huge_png), np.full((12500, 12500), 255, np.uint8))

    embedded = folder / "embedded-12000.pdf"
    picture = folder / "embedded.png"
    Image.new("L", (12000, 12000), 255).save(picture)
    canvas = Canvas(str(embedded), pagesize=(595, 842))
    canvas.drawImage(str(picture), 0, 0, 595, 842)
    canvas.showPage()
    canvas.save()
    small = folder / "drawn-small-12000.pdf"
    canvas = Canvas(str(small), pagesize=(595, 842))
    canvas.drawString(50, 800, "a letter with a small picture")
    canvas.drawImage(str(picture), 50, 50, 100, 100)
    canvas.showPage()
    canvas.save()
    picture.unlink()

    grey = folder / "largest-grey.png"
    cv2.imwrite(str(grey), np.full((8900, 8900), 250, np.uint8))
    colour = folder / "largest-colour.jpg"
    rng = np.random.default_rng(1)
    noise = rng.integers(200, 256, (7900, 10000, 3), dtype=np.uint8)
    cv2.imwrite(str(colour), noise, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return [huge_page, huge_png, embedded, grey, colour]


def _peak(command: list[str]) -> tuple[int, float, int]:
    """(exit code, seconds, peak resident bytes) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - started, usage.ru_maxrss * 1024


def main() -> int:
    exe = Path(sys.executable).with_name("petitionscan")
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, __file__, "--make", tmp], check=True)
        names = ["huge-page.pdf", "huge-12500.png", "embedded-12000.pdf", "drawn-small-12000.pdf", "largest-grey.png",
                 "largest-colour.jpg"]  # fmt: skip
        print(f"{'input':24} {'size':>10} {'exit':>4} {'seconds':>8} {'peak MiB':>9}")
        for path in (folder / n for n in names):
            db = folder / f"{path.stem}.db"
            code, seconds, peak = _peak([str(exe), "scan", str(path), "--db", str(db), "-j", "1", "-q"])
            worst = max(worst, peak)
            print(f"{path.name:24} {path.stat().st_size:>10} {code:>4} {seconds:>8.1f} {peak / 2**20:>9.0f}")
    print(f"worst peak {worst / 2**30:.2f} GiB (floor: {LIMIT_GIB} GiB per worker)")
    return 0 if worst <= LIMIT_GIB * 2**30 else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--make":
        make_inputs(Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(main())
