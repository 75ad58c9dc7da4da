"""PDF reports: the count with its charts, and the list of signatories.

The count report is what organisers show: the totals table, unique
signatures per branch, and signatures per day against the campaign's
target. The signatory list is what is handed over with the petition: one
line per unique signer, numbered, in the order the sheets were read.
Charts are drawn with reportlab's own graphics, text in DejaVu Sans so that
Cyrillic names print.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from petitionscan import dedupe
from petitionscan.errors import UsageError
from petitionscan.fileio import atomic_output
from petitionscan.fonts import register_fonts
from petitionscan.markup import para, printable
from petitionscan.tally import TOTAL, Tally

MAX_BRANCH_BARS = 25
PageProgress = Callable[[int], None]
"""Called with the number of pages laid out so far (long signatory lists take a while)."""
_BLUE = colors.HexColor("#2b5c8a")
_RED = colors.HexColor("#b03a2e")
# Table headings broken where a reader expects, not mid-word.
_HEADINGS = {
    "rows read": "rows<br/>read",
    "crossed out": "crossed<br/>out",
    "unreadable": "unread-<br/>able",
    "unsigned": "un-<br/>signed",
    "not a signature": "not a<br/>signature",
    "needs review": "needs<br/>review",
    "signatures": "signa-<br/>tures",
    "duplicates removed": "dupli-<br/>cates",
    "of which probable": "of which<br/>probable",
    "unique signatures": "<b>unique</b>",
}


@dataclass(frozen=True)
class ReportData:
    """What the count report shows: the table by branch and unique signatures per day."""

    title: str
    by_branch: Tally
    per_day: tuple[tuple[str, int], ...]
    target: int | None = None


def per_day(rows: pd.DataFrame, result: dedupe.DedupeResult) -> tuple[tuple[str, int], ...]:
    """Unique signatures by the day their first row was scanned, in date order."""
    kept = result.rows.loc[~result.rows["is_duplicate"], "row_id"]
    days = rows.loc[rows["row_id"].isin(kept), "day"].astype(object).replace("", "(no date)")
    counts = days.value_counts().sort_index()
    return tuple((str(day), int(n)) for day, n in counts.items())


def _styles(font: str, bold: str) -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8, leading=10),
        "head": ParagraphStyle("head", fontName=font, fontSize=7, leading=8.5),
    }


def _table_style(font: str, bold: str) -> TableStyle:
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, 7.5),
            ("FONT", (0, 0), (-1, 0), bold, 7.5),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f0f3f7")]),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ]
    )


def _branch_chart(table: Tally, font: str) -> Drawing:
    lines = sorted(table.lines, key=lambda line: -table.value("unique signatures", line[0]))[:MAX_BRANCH_BARS]
    lines = list(reversed(lines))
    height = 40 + 14 * max(len(lines), 1)
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 60 * mm, 20
    chart.width, chart.height = 100 * mm, height - 30
    chart.data = [[table.value("unique signatures", name) for name, _ in lines] or [0]]
    chart.categoryAxis.categoryNames = [printable(name)[:40] for name, _ in lines] or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = _BLUE
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    drawing.add(chart)
    return drawing


def _day_chart(days: tuple[tuple[str, int], ...], target: int | None, font: str) -> Drawing:
    drawing = Drawing(170 * mm, 70 * mm)
    cumulative, total = [], 0
    for index, (_, n) in enumerate(days):
        total += n
        cumulative.append((index, total))
    plot = LinePlot()
    plot.x, plot.y = 18 * mm, 18 * mm
    plot.width, plot.height = 140 * mm, 45 * mm
    data = [cumulative or [(0, 0)]]
    if target:
        last = max(len(days) - 1, 1)
        data.append([(0, target), (last, target)])
    plot.data = data
    plot.lines[0].strokeColor = _BLUE
    plot.lines[0].strokeWidth = 1.5
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3)
    if target:
        plot.lines[1].strokeColor = _RED
        plot.lines[1].strokeDashArray = (4, 3)
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = max(len(days) - 1, 1)
    step = max(1, len(days) // 8)
    plot.xValueAxis.valueSteps = list(range(0, max(len(days), 1), step))
    plot.xValueAxis.labelTextFormat = lambda i: days[int(i)][0][5:] if 0 <= int(i) < len(days) else ""
    plot.yValueAxis.valueMin = 0
    plot.yValueAxis.valueMax = max(total, target or 0, 1) * 1.1
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = font
        axis.labels.fontSize = 7
    drawing.add(plot)
    legend = "unique signatures so far" + (f"  —  target {target}" if target else "")
    drawing.add(String(18 * mm, 66 * mm, legend, fontName=font, fontSize=8, fillColor=colors.black))
    return drawing


def _footer(font: str, label: str):  # type: ignore[no-untyped-def]
    def draw(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(15 * mm, 10 * mm, printable(label))
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    return draw


def write_report(data: ReportData, out: Path | BinaryIO, progress: PageProgress | None = None) -> Path | BinaryIO:
    """Write the count report PDF (totals, table by branch, two charts)."""
    if data.target is not None and data.target <= 0:
        raise UsageError("--target must be a positive number of signatures")
    font, bold = register_fonts()
    st = _styles(font, bold)
    table = data.by_branch
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    story: list[Flowable] = [
        Paragraph(para(data.title), st["title"]),
        Paragraph(
            f"Counted {stamp}. Only rows read with confidence or confirmed by a person count; "
            "rows needing review are shown apart and not counted.",
            st["body"],
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"Unique signatures: {table.value('unique signatures')}", st["h2"]),
    ]
    if data.target:
        share = 100.0 * table.value("unique signatures") / data.target
        story.append(Paragraph(f"Target: {data.target} ({share:.1f} % reached)", st["body"]))
    header = ["branch", *table.columns]
    body = [[Paragraph(para(name), st["cell"]), *values] for name, values in table.lines]
    body.append([Paragraph(f"<b>{TOTAL}</b>", st["cell"]), *table.total])
    wrapped_header = [Paragraph(_HEADINGS.get(h, h), st["head"]) for h in header]
    grid = Table([wrapped_header, *body], repeatRows=1, colWidths=[31.5 * mm] + [13.5 * mm] * len(table.columns))
    grid.setStyle(_table_style(font, bold))
    grid.setStyle(
        TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black)])
    )
    story += [Spacer(1, 3 * mm), grid, Paragraph("Unique signatures per branch", st["h2"])]
    story.append(_branch_chart(table, font))
    story.append(Paragraph("Unique signatures by day scanned", st["h2"]))
    story.append(_day_chart(data.per_day, data.target, font))
    _build(out, story, data.title, progress)
    return out


def write_signatories(
    rows: pd.DataFrame,
    result: dedupe.DedupeResult,
    out: Path | BinaryIO,
    title: str,
    progress: PageProgress | None = None,
) -> Path | BinaryIO:
    """Write the numbered list of unique signatories, for handing the petition over."""
    font, bold = register_fonts()
    st = _styles(font, bold)
    kept = result.rows.loc[~result.rows["is_duplicate"], ["row_id"]]
    people = kept.merge(rows, on="row_id", how="left")
    people["sheet_id"] = people["sheet_id"].astype(object).astype(str)
    people = people.sort_values(["sheet_id", "copy_no", "row"], kind="stable")
    header = ["No.", "Name", "Workplace", "Town", "Sheet / row"]
    lines = [[Paragraph(h, st["cell"]) for h in header]]
    for number, person in enumerate(people.to_dict("records"), start=1):
        copy_no = int(person["copy_no"])
        sheet = str(person["sheet_id"]) + (f" ({copy_no})" if copy_no > 1 else "")
        lines.append(
            [
                str(number),
                Paragraph(para(dedupe.normalize_name(str(person["name"]))), st["cell"]),
                Paragraph(para(str(person["workplace"])), st["cell"]),
                Paragraph(para(str(person["town"])), st["cell"]),
                f"{sheet} / {person['row']}",
            ]
        )
    grid = LongTable(lines, repeatRows=1, colWidths=[12 * mm, 58 * mm, 50 * mm, 35 * mm, 25 * mm])
    grid.setStyle(_table_style(font, bold))
    story: list[Flowable] = [
        Paragraph(para(title), st["title"]),
        Paragraph(f"{len(people)} unique signatories.", st["body"]),
        Spacer(1, 4 * mm),
        grid,
    ]
    _build(out, story, title, progress)
    return out


def _build(out: Path | BinaryIO, story: list[Flowable], label: str, progress: PageProgress | None) -> None:
    """Lay out ``story`` into a file (atomically, owner-only: it may hold names) or a binary stream."""
    if not isinstance(out, Path):
        buffer = io.BytesIO()
        _layout(buffer, story, label, progress)
        out.write(buffer.getvalue())
        out.flush()
        return
    with atomic_output(out, private=True) as tmp:
        _layout(str(tmp), story, label, progress)


def _layout(target: str | BinaryIO, story: list[Flowable], label: str, progress: PageProgress | None) -> None:
    font, _ = register_fonts()
    doc = SimpleDocTemplate(
        target,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=printable(label),
        author="petitionscan",
    )
    footer = _footer(font, label)
    if progress is not None:
        report_page = progress
        doc.setProgressCallBack(lambda kind, value: report_page(int(value)) if kind == "PAGE" else None)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def report_database(
    db: Path | str,
    out: Path | BinaryIO,
    *,
    target: int | None = None,
    signatories: bool = False,
    title: str | None = None,
    progress: PageProgress | None = None,
) -> Path | BinaryIO:
    """The ``report`` command: the count report, or the printable list of unique signatories.

    ``out`` is a file path, or a binary stream such as standard output.
    """
    from contextlib import closing

    from petitionscan import store, tally

    with closing(store.connect(db, create=False)) as conn:
        rows = tally.load_rows(conn)
        result = tally.dedupe_rows(rows, tally.people_decisions(conn))
    if signatories:
        return write_signatories(rows, result, out, title or "Signatories", progress)
    data = ReportData(
        title=title or "Signature count",
        by_branch=tally.tally(rows, result, "branch"),
        per_day=per_day(rows, result),
        target=target,
    )
    return write_report(data, out, progress)
