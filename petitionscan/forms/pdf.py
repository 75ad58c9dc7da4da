"""Drawing the appeal and the signature sheets with reportlab.

Everything on a signature sheet is placed from :mod:`petitionscan.geometry`,
the same module the reader uses, so what is printed is where it is looked for.
Boxes are printed in a light red-orange drop-out colour: it vanishes from the
red channel of a colour scan, while blue and black ink stay dark there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    ListFlowable,
    ListItem,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
)

from petitionscan import geometry
from petitionscan.fonts import register_fonts
from petitionscan.forms.campaign import Campaign
from petitionscan.forms.texts import instructions, text
from petitionscan.markup import para as escape
from petitionscan.markup import printable
from petitionscan.sheetcode import QR_PREFIX as QR_PREFIX
from petitionscan.sheetcode import parse_qr_payload as parse_qr_payload
from petitionscan.sheetcode import qr_payload as qr_payload

DROPOUT = Color(1.0, 0.55, 0.40)  # light red-orange: R stays ~255 for the reader
DROPOUT_TEXT = Color(0.85, 0.35, 0.25)
GREY = Color(0.35, 0.35, 0.35)

mm = geometry.PT_PER_MM


def aruco_bits(marker_id: int) -> np.ndarray:
    """The marker as a boolean grid, border included (True = black)."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, geometry.ARUCO_DICT_NAME))
    img = cv2.aruco.generateImageMarker(dictionary, marker_id, 6)
    return np.asarray(img < 128)


class _Page:
    """Top-left millimetre coordinates onto a reportlab canvas."""

    def __init__(self, canvas: Canvas, height_mm: float) -> None:
        self.c = canvas
        self.h = height_mm

    def rect(self, r: geometry.Rect, *, stroke: bool = True, fill: bool = False) -> None:
        x0, y0, x1, y1 = r
        self.c.rect(x0 * mm, (self.h - y1) * mm, (x1 - x0) * mm, (y1 - y0) * mm, stroke=int(stroke), fill=int(fill))

    def text(self, x_mm: float, y_mm: float, s: str, size: float, font: str, align: str = "left") -> None:
        self.c.setFont(font, size)
        x, y = x_mm * mm, (self.h - y_mm) * mm
        if align == "right":
            self.c.drawRightString(x, y, s)
        elif align == "center":
            self.c.drawCentredString(x, y, s)
        else:
            self.c.drawString(x, y, s)

    def paragraph(self, r: geometry.Rect, markup: str, font: str, max_size: float, min_size: float = 6.0) -> None:
        """Set text in a rectangle, shrinking the font until it fits."""
        x0, y0, x1, y1 = r
        size = max_size
        while True:
            style = ParagraphStyle("p", fontName=font, fontSize=size, leading=size * 1.22)
            para = Paragraph(markup, style)
            _, height = para.wrap((x1 - x0) * mm, (y1 - y0) * mm)
            if height <= (y1 - y0) * mm or size <= min_size:
                break
            size -= 0.25
        para.drawOn(self.c, x0 * mm, (self.h - y0) * mm - height)


def draw_sheet(
    canvas: Canvas, campaign: Campaign, sheet: geometry.SheetGeometry, serial: str, branch: str, index: int, total: int
) -> None:
    """One signature sheet, every element from the shared geometry."""
    regular, bold = register_fonts()
    lang = campaign.language
    page = _Page(canvas, sheet.page_size_mm[1])
    c = canvas
    c.saveState()

    # Registration markers: solid cells drawn as vector squares.
    c.setFillColorRGB(0, 0, 0)
    for marker in sheet.markers:
        bits = aruco_bits(marker.marker_id)
        x0, y0, x1, _ = marker.rect_mm
        cell = (x1 - x0) / bits.shape[0]
        for (r, col), black in np.ndenumerate(bits):
            if black:
                page.rect(
                    (x0 + col * cell, y0 + r * cell, x0 + (col + 1) * cell, y0 + (r + 1) * cell),
                    stroke=False,
                    fill=True,
                )

    # QR code with campaign, serial, layout and branch.
    qx0, _qy0, qx1, qy1 = sheet.qr_rect_mm
    widget = QrCodeWidget(qr_payload(campaign.campaign_id, serial, sheet.spec.code, branch), barLevel="M")
    bx0, by0, bx1, by1 = widget.getBounds()
    size = (qx1 - qx0) * mm
    drawing = Drawing(size, size, transform=[size / (bx1 - bx0), 0, 0, size / (by1 - by0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, qx0 * mm, (page.h - qy1) * mm)

    # Title, serial and branch.
    c.setFillColorRGB(0, 0, 0)
    page.paragraph(sheet.title_rect_mm, f"<b>{escape(campaign.petition_title)}</b>", regular, 13, 9)
    _sx0, sy0, sx1, sy1 = sheet.serial_rect_mm
    page.text(sx1, sy1 - 1.5, f"{text(lang, 'sheet')} {serial}", 10, bold, align="right")
    if branch:
        page.text(sx1, sy0 - 1.0, f"{text(lang, 'branch')}: {printable(branch)}", 8, regular, align="right")
    page.text(sx1, sy1 + 2.6, f"{index} / {total}", 6, regular, align="right")

    page.paragraph(sheet.statement_rect_mm, escape(campaign.statement), regular, 10.5, 7)
    c.setFillColor(DROPOUT_TEXT)
    page.paragraph(
        sheet.instructions_rect_mm, f"<b>{escape(instructions(lang, campaign.alphabet))}</b>", regular, 8.5, 6
    )

    # Column headings, printed once above the table.
    hx0, _hy0, _hx1, hy1 = sheet.header_rect_mm
    c.setFillColorRGB(0, 0, 0)
    first = sheet.rows[0]
    page.text(hx0, hy1 - 1.0, text(lang, "number"), 7, regular)
    two_bands = any(not f.boxes_mm or f.key not in geometry.NAME_FIELDS for f in first.fields)
    for field in first.fields:
        label = text(lang, field.key)
        if field.key in geometry.NAME_FIELDS:
            page.text(field.rect_mm[0], hy1 - (4.0 if two_bands else 1.0), label, 7.5, bold)
        else:
            page.text(field.rect_mm[0], hy1 - 1.0, label, 7, regular)

    # Rows: number, letter boxes in drop-out colour, signature area, separator.
    for row in sheet.rows:
        c.setFillColor(GREY)
        _nx0, _ny0, nx1, ny1 = row.number_rect_mm
        page.text(nx1, ny1 - 1.8, str(row.row), 9, bold, align="right")
        c.setStrokeColor(DROPOUT)
        c.setLineWidth(0.7)
        for field in row.fields:
            for box in field.boxes_mm:
                page.rect(box)
            if not field.boxes_mm:
                c.setLineWidth(0.5)
                page.rect(field.rect_mm)
                c.setLineWidth(0.7)
        c.setStrokeColor(Color(0.75, 0.75, 0.75))
        c.setLineWidth(0.3)
        rx0, _, rx1, ry1 = row.rect_mm
        c.line(rx0 * mm, (page.h - ry1 - 1.0) * mm, rx1 * mm, (page.h - ry1 - 1.0) * mm)

    # Footer: where to send the sheet.
    c.setFillColorRGB(0, 0, 0)
    address = campaign.return_address or text(lang, "no_address")
    page.paragraph(
        sheet.footer_rect_mm,
        f"<b>{escape(text(lang, 'return_to'))}</b> {escape(address)}",
        regular,
        8,
        6,
    )
    c.restoreState()


def appeal_story(campaign: Campaign) -> list[object]:
    """The appeal as flowing, typeset paragraphs (it may run over pages)."""
    regular, bold = register_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=10.5, leading=14, spaceAfter=6)
    heading = ParagraphStyle("h", fontName=bold, fontSize=16, leading=20, spaceAfter=10, alignment=TA_CENTER)
    sub = ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=6, spaceAfter=6)
    story: list[object] = [Paragraph(escape(campaign.title), heading)]
    if campaign.appeal.title:
        story.append(Paragraph(escape(campaign.appeal.title), sub))
    story += [Paragraph(escape(p), body) for p in campaign.appeal.before]
    if campaign.appeal.demands:
        story.append(
            ListFlowable(
                [ListItem(Paragraph(escape(d), body), leftIndent=18) for d in campaign.appeal.demands],
                bulletType="1",
                bulletFontName=bold,
                bulletFontSize=10.5,
                bulletFormat="%s.",
                leftIndent=18,
            )
        )
    story += [Paragraph(escape(p), body) for p in campaign.appeal.after]
    if campaign.appeal.signed:
        story.append(Paragraph(f"<i>{escape(campaign.appeal.signed)}</i>", body))
    address = campaign.return_address or text(campaign.language, "no_address")
    story += [
        Spacer(1, 8),
        Paragraph(f"<b>{escape(text(campaign.language, 'return_to'))}</b> {escape(address)}", body),
    ]
    return story


def write_pdf(
    target: object,
    campaign: Campaign,
    sheet: geometry.SheetGeometry,
    serials: Sequence[str],
    branch: str,
    with_appeal: bool,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the whole PDF to ``target`` (path or file object); returns the appeal page count.

    ``progress`` is told (sheets drawn, sheets in all) after each signature sheet.
    """
    width, height = sheet.page_size_mm
    counter = {"sheet": 0}

    def on_sheet(canvas: Canvas, _doc: object) -> None:
        serial = serials[counter["sheet"]]
        counter["sheet"] += 1
        draw_sheet(canvas, campaign, sheet, serial, branch, counter["sheet"], len(serials))
        if progress is not None:
            progress(counter["sheet"], len(serials))

    margin = 18 * mm
    doc = BaseDocTemplate(
        target,
        pagesize=(width * mm, height * mm),
        title=campaign.petition_title,
        author=campaign.title,
        subject=f"petitionscan campaign {campaign.campaign_id}",
        creator="petitionscan",
        invariant=1,
    )
    appeal_frame = Frame(margin, margin, width * mm - 2 * margin, height * mm - 2 * margin, id="appeal")
    blank_frame = Frame(0, 0, 20, 20, id="sheet", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates(
        [
            PageTemplate(id="appeal", frames=[appeal_frame]),
            PageTemplate(id="sheet", frames=[blank_frame], onPage=on_sheet),
        ]
    )
    story: list[object] = []
    if with_appeal:
        story += appeal_story(campaign)
        story.append(NextPageTemplate("sheet"))
        story.append(PageBreak())
    else:
        doc.pageTemplates.reverse()  # the first template is the one the first page uses
    for i in range(len(serials)):
        story.append(Spacer(1, 1))
        if i < len(serials) - 1:
            story.append(PageBreak())
    doc.build(story)
    total_pages = doc.page
    return total_pages - len(serials)
