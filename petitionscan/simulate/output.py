"""Writing captures as the files devices really produce, byte-for-byte reproducible.

Scanners make multi-page PDFs of JPEG pages, fax servers multi-page Group 4
TIFFs, phones one JPEG per photo with an EXIF orientation tag. Dates and
titles that Pillow would take from the clock or the file name are fixed, and
each file is written to a temporary name and moved into place.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from PIL import Image

from petitionscan.fileio import atomic_output
from petitionscan.simulate.degrade import Capture

# A fixed timestamp keeps PDFs identical from run to run.
FIXED_DATE = time.struct_time((2024, 5, 1, 9, 0, 0, 2, 122, 0))
EXIF_ORIENTATION = 0x0112


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def _pil(cap: Capture) -> Image.Image:
    if cap.image.dtype == bool:
        return Image.fromarray(cap.image).convert("1")
    return Image.fromarray(cap.image)


def pdf_bytes(pages: list[Capture], title: str) -> bytes:
    """A multi-page PDF with each page stored as a JPEG at its capture resolution."""
    images = [_pil(c) for c in pages]
    buf = io.BytesIO()
    images[0].save(
        buf,
        "PDF",
        save_all=True,
        append_images=images[1:],
        resolution=float(pages[0].dpi),
        quality=pages[0].jpeg_quality,
        title=title,
        creator="petitionscan simulate",
        producer="petitionscan",
        creationDate=FIXED_DATE,
        modDate=FIXED_DATE,
    )
    return buf.getvalue()


def tiff_bytes(pages: list[Capture]) -> bytes:
    """A multi-page bitonal TIFF in CCITT Group 4, as fax servers store faxes."""
    images = [_pil(c) for c in pages]
    buf = io.BytesIO()
    images[0].save(
        buf,
        "TIFF",
        save_all=True,
        append_images=images[1:],
        compression="group4",
        dpi=(pages[0].dpi, pages[0].dpi),
    )
    return buf.getvalue()


def jpeg_bytes(cap: Capture) -> bytes:
    """A phone photo: colour JPEG, EXIF orientation set when the pixels are stored turned."""
    img = _pil(cap)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = cap.orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=cap.jpeg_quality, exif=exif.tobytes(), dpi=(int(cap.dpi), int(cap.dpi)))
    return buf.getvalue()
