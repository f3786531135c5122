"""The report as PDF (ReportLab: pure Python, embeds a TrueType subset so every Vietnamese letter
prints, no browser or system library needed), in the Decree 30/2020 layout."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.docx_out import _roman
from reports.fonts import serif_faces
from reports.layout import MOTTO, SOURCE, Header, lead_text, table_rows

_REGISTERED: list[str] = []


def _fonts() -> None:
    if not _REGISTERED:
        regular, bold, italic = serif_faces()
        pdfmetrics.registerFont(TTFont("Serif", str(regular)))
        pdfmetrics.registerFont(TTFont("Serif-Bold", str(bold)))
        pdfmetrics.registerFont(TTFont("Serif-Italic", str(italic)))
        pdfmetrics.registerFontFamily("Serif", normal="Serif", bold="Serif-Bold", italic="Serif-Italic")
        _REGISTERED.append("Serif")


def _style(size: float = 13, *, bold: bool = False, italic: bool = False, align: int = TA_JUSTIFY
           ) -> ParagraphStyle:
    font = "Serif-Bold" if bold else "Serif-Italic" if italic else "Serif"
    return ParagraphStyle(f"s{size}{bold}{italic}{align}", fontName=font, fontSize=size,
                          leading=size * 1.3, alignment=align, spaceAfter=4)


def render(header: Header, content: dict[str, Any], images: dict[int, bytes]) -> bytes:
    """PDF bytes; ``images`` maps a section's index to its PNG."""
    _fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=3 * cm, rightMargin=2 * cm,
                            topMargin=2 * cm, bottomMargin=2 * cm, title=header.title,
                            subject=header.number, keywords=header.marker, creator="Lai Châu IOC")
    c, p = TA_CENTER, Paragraph
    head = Table([[p(escape(header.parent), _style(12, align=c)),
                   p(MOTTO[0], _style(12, bold=True, align=c))],
                  [p(escape(header.issuer), _style(12, bold=True, align=c)),
                   p(MOTTO[1], _style(13, bold=True, align=c))],
                  [p(f"Số: {escape(header.number)}", _style(13, align=c)),
                   p(header.place_date, _style(13, italic=True, align=c))]],
                 colWidths=[6.5 * cm, 9.5 * cm])
    story: list[Any] = [head, Spacer(1, 0.5 * cm), p("BÁO CÁO", _style(14, bold=True, align=c)),
                        p(escape(header.title), _style(14, bold=True, align=c)),
                        p(escape(header.subtitle), _style(13, italic=True, align=c)),
                        p("Kính gửi: " + escape("; ".join(header.recipients)), _style(13, align=c))]
    cell = _style(10, align=TA_LEFT)
    for n, s in enumerate(content["sections"]):
        story.append(p(f"{_roman(n + 1)}. {escape(s['title']['vi'].upper())}", _style(13, bold=True)))
        text = lead_text(s)
        if text:
            story.append(p(escape(text), _style()))
        if n in images:
            w, h = ImageReader(io.BytesIO(images[n])).getSize()
            story += [Image(io.BytesIO(images[n]), width=16 * cm, height=16 * cm * h / w),
                      p(escape(SOURCE), _style(10, italic=True))]
        columns, rows = table_rows(s)
        if rows:
            data = [[p(escape(v), _style(10, bold=True, align=TA_LEFT)) for v in columns]]
            data += [[p(escape(v), cell) for v in row] for row in rows]
            widths = _widths(len(columns))
            table = Table(data, colWidths=widths, repeatRows=1)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(table)
        story.append(Spacer(1, 0.3 * cm))
    closing = [p("Nơi nhận:", _style(12, bold=True, italic=True, align=TA_LEFT))]
    closing += [p(f"- {escape(r)};", _style(11, align=TA_LEFT)) for r in (*header.recipients,
                                                                          "Lưu: VT, TTĐHTM.")]
    story.append(Table([[closing, p(escape(header.signer), _style(13, bold=True, align=c))]],
                       colWidths=[8 * cm, 8 * cm]))
    story.append(p(header.marker, _style(7, align=TA_LEFT)))
    doc.build(story)
    return out.getvalue()


def _widths(n: int) -> list[float]:
    if n == 7:
        return [w * cm for w in (1.2, 2.5, 4.3, 2.2, 2, 1.8, 2)]
    if n == 4:
        return [w * cm for w in (1.2, 6, 4.4, 4.4)]
    if n == 5:
        return [w * cm for w in (1.2, 1.2, 6.8, 3.3, 3.5)]
    return [1.2 * cm, 10.8 * cm, 4 * cm]
