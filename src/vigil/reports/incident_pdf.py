"""An incident report as a PDF (reportlab's page layout): the same facts, durations, checklist with times, timeline,
notes, snapshots and evidence list as the HTML form. Text in Chinese is set in reportlab's built-in CID font
(STSong-Light), everything else in Helvetica; no font file is read or embedded."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from vigil.reports.facts import checklist_rows, durations, evidence_rows, facts, timeline_rows, when
from vigil.usecases.incident_report import IncidentReport

CJK_FONT = "STSong-Light"
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _registered = True


def _text(value: str, style: ParagraphStyle) -> Paragraph:
    safe = escape(value).replace("\n", "<br/>")
    if any(ord(ch) > 0x2FF for ch in value):
        style = ParagraphStyle(style.name + "-cjk", parent=style, fontName=CJK_FONT, wordWrap="CJK")
    return Paragraph(safe, style)


def _table(rows: Sequence[Sequence[str]], widths: Sequence[float], cell: ParagraphStyle, head: bool) -> Table:
    data = [[_text(str(v), cell) for v in row] for row in rows]
    table = Table(data, colWidths=list(widths), repeatRows=1 if head else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    style.append(
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)
        if head
        else ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)
    )
    table.setStyle(TableStyle(style))
    return table


def render_pdf(report: IncidentReport) -> bytes:
    _fonts()
    inc = report.view.incident
    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=8.5, leading=10.5)
    h1, h2, body = styles["Title"], styles["Heading2"], styles["BodyText"]
    width = A4[0] - 30 * mm
    story: list[object] = [
        _text(f"Incident report #{inc.id}: {inc.title}", h1),
        _text(
            f"{report.site} · generated {when(report, report.generated_us)} by {report.generated_by} · "
            f"times in {report.timezone}",
            body,
        ),
        _text("Facts", h2),
        _table(facts(report), [40 * mm, width - 40 * mm], cell, head=False),
        _text("Durations", h2),
        _table(durations(report), [40 * mm, width - 40 * mm], cell, head=False),
        _text("Checklist", h2),
    ]
    rows = checklist_rows(report)
    if rows:
        widths = [8 * mm, width - 98 * mm, 25 * mm, 17 * mm, 48 * mm]
        story.append(_table([("#", "Step", "Who", "Status", "Done"), *rows], widths, cell, head=True))
    else:
        story.append(_text("No emergency plan for this type of incident.", body))
    story += [_text("Timeline", h2)]
    widths = [30 * mm, 22 * mm, 45 * mm, width - 97 * mm]
    story.append(_table([("When", "Who", "What", "Details"), *timeline_rows(report)], widths, cell, head=True))
    story.append(_text("Notes", h2))
    if report.view.notes:
        notes = [
            (
                str(n.id),
                when(report, n.at_us),
                n.author,
                n.text + (f" (corrects note {n.corrects})" if n.corrects else ""),
            )
            for n in report.view.notes
        ]
        story.append(
            _table([("#", "When", "Who", "Note"), *notes], [8 * mm, 30 * mm, 22 * mm, width - 60 * mm], cell, True)
        )
    else:
        story.append(_text("No notes.", body))
    story.append(_text("Snapshots", h2))
    for shot in report.snapshots:
        camera = report.camera_names.get(shot.event.camera_id or "", shot.event.camera_id or "")
        image = Image(io.BytesIO(shot.jpeg))
        scale = min(1.0, (90 * mm) / image.imageWidth)
        image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
        story += [
            image,
            _text(
                f"Event {shot.event.id} · {camera} · {when(report, shot.event.start_us)} · {shot.event.description}",
                cell,
            ),
            Spacer(1, 3 * mm),
        ]
    if not report.snapshots:
        story.append(_text("No snapshots.", body))
    story.append(_text("Evidence", h2))
    evidence = evidence_rows(report)
    if evidence:
        widths = [32 * mm, 50 * mm, 50 * mm, width - 132 * mm]
        story.append(_table([("Package", "Made", "Footage", "Manifest SHA-256"), *evidence], widths, cell, head=True))
    else:
        story.append(_text("No evidence package exported yet.", body))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Incident {inc.id}: {inc.title}",
        author=f"Vigil ({report.site})",
    )
    doc.build(story)
    return out.getvalue()
