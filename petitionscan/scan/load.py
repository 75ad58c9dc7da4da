"""From files on disk to page images.

Volunteers send whatever their scanner or phone made: multi-page PDFs, TIFFs
(often bitonal Group 4), PNG, JPEG and HEIC photos. Every kind ends up as one
:class:`Page`: an RGB or greyscale uint8 array and a hash of its pixels, so
the same page is recognised again whatever file it arrives in.

A scanner's PDF is a picture per page: its embedded image is taken as it is
(no resampling, no second compression); anything else in a PDF is rendered.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

from petitionscan.errors import InputFileError

PDF_RENDER_DPI = 220
"""Resolution for rendering PDF pages that are not plain scans (above the 8 px/mm read)."""
MAX_PIXELS = 80_000_000
"""Larger pictures are refused before they are decoded: a decompression bomb, not a scan."""
MAX_RENDER_PIXELS = 9_400_000
"""Most pixels a rendered PDF page gets: A3 paper at 220 dpi. A larger page (no
sheet is printed on one) is rendered smaller, so its pixels stay within this."""

KINDS: dict[str, str] = {
    ".pdf": "pdf",
    ".tif": "image",
    ".tiff": "image",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".jpe": "image",
    ".heic": "image",
    ".heif": "image",
}


@dataclass(frozen=True)
class InputFile:
    """A file that looks like a scan, by its name."""

    path: str
    kind: str  # "pdf" or "image"


@dataclass(frozen=True)
class Skipped:
    """A file that was not read at all, and why (one line)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Page:
    """One decoded page. ``page`` is 1-based, as people count pages."""

    source_file: str
    page: int
    image: np.ndarray  # HxW (grey) or HxWx3 (RGB), uint8
    page_hash: str


@dataclass(frozen=True)
class Found:
    """What a search for scans found: files to read, files that are not scans, and
    folders or files that could not be looked at (signatures may be in them)."""

    files: list[InputFile]
    skipped: list[Skipped]
    unreadable: list[Skipped]


def find_inputs(paths: Sequence[Path], ignore: Iterable[Path] = ()) -> Found:
    """Files to read (folders recursively, sorted, links to folders followed once).

    Hidden files and the paths in ``ignore`` (the database, the rejected list)
    are passed over silently: they live next to the scans by design. A folder
    that cannot be listed is reported, never skipped without a word.
    """
    ignored = {os.path.abspath(p) for p in ignore}
    files: list[InputFile] = []
    skipped: list[Skipped] = []
    unreadable: list[Skipped] = []
    seen: set[str] = set()
    walked: set[str] = set()

    def consider(path: Path) -> None:
        full = os.path.abspath(path)
        if full in seen or full in ignored or path.name.startswith("."):
            return
        if any(full == p + suffix for p in ignored for suffix in ("-wal", "-shm", "-journal")):
            return
        seen.add(full)
        kind = KINDS.get(path.suffix.lower())
        if kind is None:
            skipped.append(Skipped(str(path), f"not a scan file ({path.suffix or 'no extension'})"))
        elif path.is_symlink() and not path.exists():
            unreadable.append(Skipped(str(path), "a link to a file that does not exist"))
        elif path.exists() and not path.is_file():
            unreadable.append(Skipped(str(path), "not a regular file (a device or a pipe); copy the scan into a file"))
        else:
            files.append(InputFile(str(path), kind))

    def cannot_list(exc: OSError) -> None:
        unreadable.append(
            Skipped(str(exc.filename), f"cannot read this folder ({exc.strerror}); its scans were not read")
        )

    for path in paths:
        if path.is_dir():
            for root, dirs, names in os.walk(path, onerror=cannot_list, followlinks=True):
                real = os.path.realpath(root)
                if real in walked:  # a link back to a folder already read: read it once
                    dirs[:] = []
                    continue
                walked.add(real)
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    consider(Path(root) / name)
        elif path.exists() or path.is_symlink():
            consider(path)
        else:
            raise InputFileError(f"{path}: no such file or folder; check the path")
    return Found(files, skipped, unreadable)


def file_hash(path: str) -> str:
    """SHA-256 of the file's bytes: the cheap test for a file already read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read it ({exc.strerror})") from exc
    return digest.hexdigest()


def page_hash(image: np.ndarray) -> str:
    """Hash of the decoded pixels: equal for the same page in any container.

    XXH3 (128 bits), not SHA-256: a colour page is 26 MB of pixels, which
    SHA-256 takes 14 ms to hash and XXH3 under 1. The hash only has to tell
    scans apart, never stand against someone forging a collision. Pages
    stored with the SHA-256 hashes of earlier versions (64 hex digits, these
    are 32) are still found again by their file's hash or, if rescanned, by
    their serial and rows.
    """
    digest = xxhash.xxh3_128(repr(image.shape).encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


def _register_heif() -> None:
    from PIL import Image

    # Pillow warns about large pictures on stderr; _check_pixels refuses them in one line instead.
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")  # damaged files: rejected in one line
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # HEIC photos are then reported as unreadable
        pass


def page_count(item: InputFile) -> int:
    """Number of pages; raises InputFileError for an empty or corrupt file."""
    _check_not_empty(item.path)
    if item.kind == "pdf":
        import pypdfium2 as pdfium

        try:
            doc = pdfium.PdfDocument(item.path)
        except Exception as exc:  # pdfium raises its own error types
            raise InputFileError(f"{item.path}: not a readable PDF ({exc})") from exc
        try:
            return len(doc)
        finally:
            doc.close()
    from PIL import Image

    _register_heif()
    try:
        with Image.open(item.path) as img:
            if img.format == "TIFF":
                return int(getattr(img, "n_frames", 1))
            return 1
    except Exception as exc:  # PIL raises many kinds for broken files
        raise InputFileError(f"{item.path}: not a readable image ({exc})") from exc


def _check_not_empty(path: str) -> None:
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read it ({exc.strerror})") from exc
    if size == 0:
        raise InputFileError(f"{path}: the file is empty")


def load_page(item: InputFile, page: int) -> Page:
    """Decode page ``page`` (1-based) of a file."""
    _check_not_empty(item.path)
    image = _pdf_page(item.path, page - 1) if item.kind == "pdf" else _image_page(item.path, page - 1)
    if image.size == 0 or image.shape[0] < 50 or image.shape[1] < 50:
        raise InputFileError(f"{item.path}: page {page} is too small to be a scan")
    return Page(item.path, page, image, page_hash(image))


def _pdf_page(path: str, index: int) -> np.ndarray:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(path)
    except Exception as exc:
        raise InputFileError(f"{path}: not a readable PDF ({exc})") from exc
    try:
        if not 0 <= index < len(doc):
            raise InputFileError(f"{path}: has no page {index + 1}")
        pdf_page = doc[index]
        embedded = _embedded_scan(pdf_page, path)
        if embedded is not None:
            return embedded
        _check_page_pictures(pdf_page, path)  # rendering decodes every picture at its full size
        bitmap = pdf_page.render(scale=render_scale(*pdf_page.get_size()), rev_byteorder=True)
        array = bitmap.to_numpy()
        return np.ascontiguousarray(array[:, :, :3]) if array.ndim == 3 else array.copy()
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"{path}: page {index + 1} cannot be rendered ({exc})") from exc
    finally:
        doc.close()


def _embedded_scan(pdf_page: object, path: str) -> np.ndarray | None:
    """The page's single full-page picture, if it is a plain scan; else None.

    Only an upright or rotated (not mirrored) picture covering most of the
    page qualifies; the reader copes with any rotation itself.
    """
    import pypdfium2.raw as pdfium_c

    try:
        objects = list(pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))  # type: ignore[attr-defined]
        if len(objects) != 1:
            return None
        obj = objects[0]
        width, height = pdf_page.get_size()  # type: ignore[attr-defined]
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) < 0.85 * width * height:
            return None
        m = obj.get_matrix()
        if m.a * m.d - m.b * m.c <= 0:
            return None
        pixels = obj.get_px_size()
    except Exception:  # anything unusual: render the page instead
        return None
    _check_pixels(path, *pixels)
    direct = _scanner_jpeg(obj, pixels)
    if direct is not None:
        return direct
    try:
        bitmap = obj.get_bitmap(render=False)
        pil = bitmap.to_pil()
    except Exception:  # anything unusual: render the page instead
        return None
    return _pil_to_array(pil)


def _scanner_jpeg(obj: object, pixels: tuple[int, int]) -> np.ndarray | None:
    """A plain grey or RGB JPEG (what scanners embed) decoded straight from its bytes; else None.

    The same libjpeg-turbo decoding PDFium does, without its bitmap and the
    copies through PIL: two to four times cheaper, the same pixels. Anything
    else (other filters, CMYK or indexed colour, a size that disagrees) takes
    PDFium's way.
    """
    import pypdfium2.raw as pdfium_c

    try:
        if obj.get_filters() != ["DCTDecode"]:  # type: ignore[attr-defined]
            return None
        meta = obj.get_metadata()  # type: ignore[attr-defined]
        spaces = {pdfium_c.FPDF_COLORSPACE_DEVICEGRAY: "GRAY", pdfium_c.FPDF_COLORSPACE_DEVICERGB: "RGB"}
        space = spaces.get(meta.colorspace)
        if space is None or meta.bits_per_pixel not in (8, 24):
            return None
        image = decode_jpeg(bytes(obj.get_data(decode_simple=False)), space)  # type: ignore[attr-defined]
    except Exception:  # anything unusual: PDFium decodes it
        return None
    if image is None or (image.shape[1], image.shape[0]) != tuple(pixels):
        return None
    return image


def decode_jpeg(data: bytes, space: str) -> np.ndarray | None:
    """JPEG bytes as grey (``GRAY``, 2-D) or ``RGB`` pixels, as stored (no EXIF turn); None if it will not decode.

    simplejpeg drives libjpeg-turbo's own API: the same pixels as OpenCV's
    decoder, in a fraction of the time for colour (measured: a 12-megapixel
    phone photo in 28 ms against 53, a colour scanner page in 19.5 against 23.5).
    """
    import simplejpeg

    try:
        image: np.ndarray = simplejpeg.decode_jpeg(data, colorspace=space)
    except ValueError:  # not a JPEG it can read (12-bit, damaged): the caller's slower way
        return None
    return image[:, :, 0] if space == "GRAY" else image


def _upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """The picture turned as its EXIF orientation tag says, as Pillow's ``exif_transpose`` turns it."""
    import cv2

    turns: dict[int, Callable[[np.ndarray], np.ndarray]] = {
        2: lambda a: cv2.flip(a, 1),
        3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
        4: lambda a: cv2.flip(a, 0),
        5: lambda a: cv2.transpose(a),
        6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
        7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
        8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    turn = turns.get(orientation)
    return turn(image) if turn is not None else image


def _plain_jpeg(img: object) -> np.ndarray | None:
    """A grey or RGB JPEG photo decoded by :func:`decode_jpeg`, turned upright by its EXIF tag; else None.

    The same libjpeg-turbo pixels and the same turn as Pillow's decoding and
    ``exif_transpose``, without Pillow's copies and colour conversion: a
    12-megapixel phone photo turned upright in 62 ms instead of 80 (OpenCV)
    or 100 (Pillow). Anything else (CMYK, a size that disagrees) is left to
    Pillow.
    """
    from PIL import Image

    assert isinstance(img, Image.Image)
    space = {"RGB": "RGB", "L": "GRAY"}.get(img.mode)
    if img.format != "JPEG" or space is None:
        return None
    try:
        fp = getattr(img, "fp", None)  # the file Pillow read the header from: read from its start, not reopened
        if fp is None:
            return None
        fp.seek(0)
        image = decode_jpeg(fp.read(), space)
        orientation = int(img.getexif().get(0x0112, 1))
    except (OSError, ValueError, TypeError):
        return None
    if image is None or (image.shape[1], image.shape[0]) != img.size:
        return None
    return _upright(image, orientation)


def _pil_to_array(img: object) -> np.ndarray:
    """RGB or L uint8 array from any PIL image mode."""
    from PIL import Image

    assert isinstance(img, Image.Image)
    if img.mode.startswith("I;16"):
        return (np.asarray(img).astype(np.uint32) >> 8).astype(np.uint8)
    if img.mode in ("1", "I", "F", "LA"):
        img = img.convert("L")
    elif img.mode not in ("L", "RGB"):
        img = img.convert("RGB")  # palette, RGBA, CMYK, YCbCr
    return np.asarray(img)


def _check_page_pictures(pdf_page: object, path: str) -> None:
    """Refuse a page whose pictures together exceed MAX_PIXELS, before rendering decodes them."""
    import pypdfium2.raw as pdfium_c

    total = 0
    try:
        for obj in pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):  # type: ignore[attr-defined]
            width, height = obj.get_px_size()
            total += width * height
    except Exception:  # unusual objects: the renderer decides
        return
    if total > MAX_PIXELS:
        raise InputFileError(
            f"{path}: the pictures on this page hold {total / 1e6:.0f} megapixels; "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels: scan at 300 dpi or less"
        )


def _check_pixels(path: str, width: int, height: int) -> None:
    """Refuse a picture too large to be a scan before decoding it."""
    if width * height > MAX_PIXELS:
        raise InputFileError(
            f"{path}: the picture is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels: scan at 300 dpi or less"
        )


def render_scale(width_pt: float, height_pt: float) -> float:
    """Scale from PDF points to pixels: PDF_RENDER_DPI, lowered so the page stays within MAX_RENDER_PIXELS."""
    width_pt, height_pt = max(width_pt, 1.0), max(height_pt, 1.0)
    scale = min(PDF_RENDER_DPI / 72.0, (MAX_RENDER_PIXELS / (width_pt * height_pt)) ** 0.5)
    while math.ceil(width_pt * scale) * math.ceil(height_pt * scale) > MAX_RENDER_PIXELS:
        scale *= 0.999  # the renderer rounds sizes up
    return scale


def _image_page(path: str, index: int) -> np.ndarray:
    from PIL import Image, ImageOps

    _register_heif()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as img:
            if index:
                img.seek(index)
            _check_pixels(path, *img.size)
            direct = _plain_jpeg(img) if index == 0 else None
            if direct is not None:
                return direct
            img.load()
            if img.format in ("JPEG", "HEIF", "PNG"):
                ImageOps.exif_transpose(img, in_place=True)  # in place: no copy of an upright photo
            return _pil_to_array(img)
    except EOFError as exc:
        raise InputFileError(f"{path}: has no page {index + 1}") from exc
    except InputFileError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputFileError(f"{path}: the picture is too large to be a scan") from exc
    except Exception as exc:
        raise InputFileError(f"{path}: not a readable image ({exc})") from exc
