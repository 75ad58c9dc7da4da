"""Reading returned sheets: scans in, one stored reading per signature row out.

The steps, one module each: :mod:`.load` (files to pages), :mod:`.register`
(markers, QR code, homography), :mod:`.fields` (boxes, line removal, ink
decisions, crops), :mod:`.pipeline` (parallel run, resuming, summary) and
:mod:`.persist` (one transaction per page); :mod:`.results` holds what a
worker hands back for a page, shared by the last two.
"""

from __future__ import annotations

from petitionscan.scan.fields import FieldCut, PageCut, RowCut
from petitionscan.scan.load import InputFile, Page, Skipped
from petitionscan.scan.pipeline import Rejection, ScanSummary, read_page, scan_paths, watch_folder
from petitionscan.scan.register import KnownLayout, Registration, Unregistered
from petitionscan.scan.results import FieldRead, PageResult, PageTask, RowResult

__all__ = [
    "FieldCut",
    "FieldRead",
    "InputFile",
    "KnownLayout",
    "Page",
    "PageCut",
    "PageResult",
    "PageTask",
    "Registration",
    "Rejection",
    "RowCut",
    "RowResult",
    "ScanSummary",
    "Skipped",
    "Unregistered",
    "read_page",
    "scan_paths",
    "watch_folder",
]
