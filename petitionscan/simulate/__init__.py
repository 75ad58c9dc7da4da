"""The returned-sheet simulator: printed sheets in, filled and captured sheets out.

``simulate`` renders each signature page of a generated sheets PDF, fills it
with handwritten names (:mod:`.fill`), passes it through a capture profile
(:mod:`.degrade`) and writes the files a volunteer would bring back, with a
``truth.csv`` saying what is on every row. The same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from petitionscan.errors import InputFileError, OutputError, UsageError
from petitionscan.simulate.degrade import PROFILES, WORK_DPI, Capture, capture
from petitionscan.simulate.fill import EXTRA_FIELDS, SheetTruth, fill_page
from petitionscan.simulate.handwriting import WriterHand, available_cyrillic_hands, handwriting_source
from petitionscan.simulate.layout import PageLayout, load_layout
from petitionscan.simulate.names import DEFAULT_LOCALES
from petitionscan.simulate.output import atomic_write, jpeg_bytes, pdf_bytes, tiff_bytes

__all__ = [
    "MIXED_WEIGHTS",
    "PROFILES",
    "TRUTH_HEADER",
    "SimulationResult",
    "render_pages",
    "simulate",
]

ALL_PROFILES = (*PROFILES, "mixed")
MIXED_WEIGHTS = {"flatbed": 0.3, "feeder": 0.25, "phone": 0.2, "fax": 0.1, "photocopy": 0.15}
TRUTH_HEADER = (
    "file", "page", "sheet_id", "row", "name", "signed", "crossed_out",
    "first_name", "surname", *EXTRA_FIELDS, "profile", "turned", "script",
)  # fmt: skip
MAX_BATCH = {"flatbed": 6, "feeder": 8, "photocopy": 6, "fax": 5, "phone": 1}
SUFFIX = {"flatbed": "pdf", "feeder": "pdf", "photocopy": "pdf", "fax": "tif", "phone": "jpg"}


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation wrote: the image files (relative to the output folder) and the truth."""

    out_dir: Path
    files: tuple[str, ...]
    truth: Path
    sheets: int
    rows: int
    filled_rows: int
    profiles: tuple[tuple[str, int], ...]  # (profile, sheets)
    handwriting: str = ""  # one line: whose handwriting filled the rows


def render_pages(pdf: Path, indices: list[int], dpi: int = WORK_DPI) -> list[np.ndarray]:
    """Render the given PDF pages to RGB arrays; one-shot helper for tests and previews."""
    doc = _open_pdf(pdf)
    try:
        return [_render(doc, i, dpi) for i in indices]
    finally:
        doc.close()


def _open_pdf(pdf: Path) -> pdfium.PdfDocument:
    if not pdf.is_file():
        raise InputFileError(f"{pdf}: no such sheets PDF; give the file written by 'petitionscan generate'")
    try:
        return pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError as exc:
        raise InputFileError(f"{pdf}: not a readable PDF ({exc}); regenerate the sheets") from exc


def _render(doc: pdfium.PdfDocument, index: int, dpi: int) -> np.ndarray:
    page = doc[index]
    try:
        bitmap = page.render(scale=dpi / 72.0)
        return np.array(bitmap.to_pil().convert("RGB"))
    finally:
        page.close()


def _check_args(profile: str, fill: float) -> None:
    if profile not in ALL_PROFILES:
        raise UsageError(f"unknown profile {profile!r}; use one of {', '.join(ALL_PROFILES)}")
    if not 0.0 <= fill <= 1.0:
        raise UsageError(f"--fill {fill} is not a share; give a number from 0 to 1")


def _file_bytes(profile: str, pages: list[Capture], name: str) -> bytes:
    if profile == "fax":
        return tiff_bytes(pages)
    if profile == "phone":
        return jpeg_bytes(pages[0])
    return pdf_bytes(pages, Path(name).stem)


def simulate(
    pdf: Path,
    layout: Path,
    out_dir: Path,
    profile: str = "flatbed",
    seed: int = 0,
    fill: float = 0.8,
    locales: tuple[tuple[str, float], ...] = DEFAULT_LOCALES,
    max_sheets: int | None = None,
    hands: tuple[WriterHand, ...] | None = None,
    cyrillic_hands: tuple[WriterHand, ...] | None = None,
) -> SimulationResult:
    """Fill and capture every signature page of ``pdf``; write the files and ``truth.csv``.

    ``profile`` is one capture kind for all sheets, or ``mixed`` to pick one per
    sheet. ``fill`` is the expected share of rows with a signer. ``max_sheets``
    stops after that many signature pages (for quick previews). ``hands`` are
    the writers (default: the recognizer's held-out writers, or fonts);
    ``cyrillic_hands`` write the sheets whose layout asks for Cyrillic
    (default: the held-out sessions of the Cyrillic drawings, or fonts).
    """
    _check_args(profile, fill)
    pages: tuple[PageLayout, ...] = load_layout(layout)
    doc = _open_pdf(pdf)
    try:
        if len(doc) != len(pages):
            raise InputFileError(
                f"{pdf}: has {len(doc)} pages but {layout} describes {len(pages)}; give the matching pair"
            )
        sheets = [i for i, p in enumerate(pages) if p.sheet_id is not None]
        if max_sheets is not None:
            sheets = sheets[:max_sheets]
        if not sheets:
            raise InputFileError(f"{pdf}: has no signature pages to fill (only appeal pages)")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{out_dir}: cannot create the output folder ({exc.strerror}); choose another") from exc
        if hands:
            handwriting = f"{len(hands)} writers given by the caller"
        else:
            hands, handwriting = handwriting_source()
        if any(pages[i].alphabet != "latin" for i in sheets):
            cyrillic_hands = cyrillic_hands or available_cyrillic_hands()
        batch_rng = np.random.default_rng([seed, 0xB47C4])
        names = list(MIXED_WEIGHTS)
        weights = np.array([MIXED_WEIGHTS[n] for n in names])
        pending: dict[str, list[tuple[Capture, SheetTruth]]] = {}
        limit: dict[str, int] = {}
        counters: dict[str, int] = {}
        files: list[str] = []
        rows: list[list[str]] = []
        used: dict[str, int] = {}

        def flush(kind: str) -> None:
            batch = pending.pop(kind, [])
            if not batch:
                return
            counters[kind] = counters.get(kind, 0) + 1
            name = f"{kind}-{counters[kind]:03d}.{SUFFIX[kind]}"
            atomic_write(out_dir / name, _file_bytes(kind, [c for c, _ in batch], name))
            files.append(name)
            for page_no, (cap, truth) in enumerate(batch, 1):
                for r in truth.rows:
                    rows.append(
                        [name, str(page_no), truth.sheet_id, str(r.row), r.name,
                         "yes" if r.signed else "no", "yes" if r.crossed_out else "no",
                         r.first_name, r.surname, *(r.extra(k) for k in EXTRA_FIELDS),
                         kind, str(cap.rotation), r.script]
                    )  # fmt: skip

        for index in sheets:
            rng = np.random.default_rng([seed, index])
            kind = profile
            if profile == "mixed":
                kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            rgb = _render(doc, index, WORK_DPI)
            _, truth = fill_page(rgb, pages[index], hands, rng, fill, locales, cyrillic_hands or ())
            cap = capture(kind, rgb, rng)
            if kind not in pending:
                limit[kind] = int(batch_rng.integers(1, MAX_BATCH[kind] + 1))
            pending.setdefault(kind, []).append((cap, truth))
            used[kind] = used.get(kind, 0) + 1
            if len(pending[kind]) >= limit[kind]:
                flush(kind)
        for kind in list(pending):
            flush(kind)
    finally:
        doc.close()

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TRUTH_HEADER)
    writer.writerows(rows)
    truth_path = out_dir / "truth.csv"
    atomic_write(truth_path, buf.getvalue().encode("utf-8"))
    return SimulationResult(
        out_dir=out_dir,
        files=tuple(files),
        truth=truth_path,
        sheets=len(sheets),
        rows=len(rows),
        filled_rows=sum(1 for r in rows if r[4]),
        profiles=tuple(sorted(used.items())),
        handwriting=handwriting,
    )
