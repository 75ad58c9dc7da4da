"""Printable petition sheets: campaign file in, one PDF (and its layout JSON) out."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from petitionscan import geometry
from petitionscan.errors import UsageError
from petitionscan.fileio import atomic_output
from petitionscan.forms.campaign import MAX_BRANCH, Campaign, load_campaign
from petitionscan.forms.serials import new_serials, record_serials
from petitionscan.markup import first_control

MAX_SHEETS = 5000

__all__ = ["Campaign", "GenerateResult", "generate", "load_campaign"]


@dataclass(frozen=True)
class GenerateResult:
    pdf: Path
    layout: Path | None
    pages: int
    appeal_pages: int
    serials: tuple[str, ...]


def check_branch(branch: str) -> None:
    """A branch name that prints on one line and keeps the QR code readable, or UsageError."""
    control = first_control(branch)
    if control is not None:
        raise UsageError(f"--branch contains the invisible control character {control}; remove it")
    length = len(" ".join(branch.split()))
    if length > MAX_BRANCH:
        raise UsageError(
            f"--branch is {length} characters long; the limit is {MAX_BRANCH} "
            "(it is printed on every sheet and carried in its QR code): shorten it"
        )


def generate(
    campaign_path: Path | None,
    *,
    sheets: int,
    out: Path,
    branch: str | None = None,
    layout_out: Path | None = None,
    with_appeal: bool = True,
    progress: Callable[[int, int], None] | None = None,
    serial_seed: int | None = None,
) -> GenerateResult:
    """Write the appeal and ``sheets`` signature sheets as one PDF, atomically.

    The serials are recorded as issued before the PDF appears, so a serial is
    never printed twice even if the run is interrupted just after. ``progress``
    is told (sheets drawn, sheets in all) as the PDF is laid out.
    ``serial_seed``: the same serials on every run, for simulated sheets only
    (:func:`~petitionscan.forms.serials.new_serials`).
    """
    if not 1 <= sheets <= MAX_SHEETS:
        raise UsageError(f"--sheets must be between 1 and {MAX_SHEETS}, not {sheets}; print in several runs")
    if branch is not None:
        check_branch(branch)
    campaign = load_campaign(campaign_path)
    branch_name = " ".join((branch if branch is not None else campaign.branch).split())
    sheet = geometry.sheet_geometry(campaign.layout)
    serials = new_serials(sheets, campaign.campaign_id, serial_seed)

    from petitionscan.forms import pdf  # ReportLab: a fifth of a second that scanning never needs

    with atomic_output(out) as pdf_tmp:
        appeal_pages = pdf.write_pdf(str(pdf_tmp), campaign, sheet, serials, branch_name, with_appeal, progress)
        pages: list[dict[str, object]] = [
            {"sheet_id": None, "page_size": [round(v * geometry.PT_PER_MM, 2) for v in sheet.page_size_mm], "rows": []}
            for _ in range(appeal_pages)
        ]
        pages += [geometry.layout_page_json(sheet, s) for s in serials]
        layout_doc = {
            "campaign_id": campaign.campaign_id,
            "layout_code": campaign.layout.code,
            "units": "pt",
            "origin": "top-left",
            "pages": pages,
        }
        if layout_out is not None:
            with atomic_output(layout_out) as json_tmp:
                json_tmp.write_text(json.dumps(layout_doc, ensure_ascii=False, indent=1), encoding="utf-8")
        record_serials(campaign.campaign_id, serials)
    return GenerateResult(out, layout_out, appeal_pages + len(serials), appeal_pages, tuple(serials))
