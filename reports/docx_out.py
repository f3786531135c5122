"""The report as DOCX (python-docx), in the Decree 30/2020 layout, Times New Roman, for Word."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from reports.layout import MOTTO, SOURCE, Header, lead_text, table_rows

FONT = "Times New Roman"


def _para(doc: Any, text: str, *, bold: bool = False, italic: bool = False, size: int = 13,
          align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY, cell: Any = None) -> Any:
    p = (cell or doc).add_paragraph()
    p.alignment = align
    run = p.add_run(text)
    run.bold, run.italic, run.font.size, run.font.name = bold, italic, Pt(size), FONT
    return p


def render(header: Header, content: dict[str, Any], images: dict[int, bytes]) -> bytes:
    """DOCX bytes; ``images`` maps a section's index to its PNG."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)
    doc.core_properties.title = header.title
    doc.core_properties.identifier = header.marker
    doc.core_properties.subject = header.number
    top = doc.add_table(rows=1, cols=2)
    left, right = top.rows[0].cells
    centre = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].add_run(header.parent).font.size = Pt(12)
    left.paragraphs[0].alignment = centre
    _para(doc, header.issuer, bold=True, size=12, align=centre, cell=left)
    _para(doc, f"Số: {header.number}", size=13, align=centre, cell=left)
    run = right.paragraphs[0].add_run(MOTTO[0])
    run.bold, run.font.size = True, Pt(12)
    right.paragraphs[0].alignment = centre
    _para(doc, MOTTO[1], bold=True, size=13, align=centre, cell=right)
    _para(doc, header.place_date, italic=True, size=13, align=centre, cell=right)
    _para(doc, "BÁO CÁO", bold=True, size=14, align=centre)
    _para(doc, header.title, bold=True, size=14, align=centre)
    _para(doc, header.subtitle, italic=True, size=13, align=centre)
    _para(doc, "Kính gửi: " + "; ".join(header.recipients), align=centre)
    for n, s in enumerate(content["sections"]):
        _para(doc, f"{_roman(n + 1)}. {s['title']['vi'].upper()}", bold=True)
        text = lead_text(s)
        if text:
            _para(doc, text)
        if n in images:
            doc.add_picture(io.BytesIO(images[n]), width=Cm(16))
            _para(doc, SOURCE, italic=True, size=11)
        columns, rows = table_rows(s)
        if rows:
            table = doc.add_table(rows=1, cols=len(columns))
            table.style = "Table Grid"
            for cell, name in zip(table.rows[0].cells, columns, strict=True):
                cell.text = ""
                r = cell.paragraphs[0].add_run(name)
                r.bold, r.font.size = True, Pt(11)
            for row in rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.paragraphs[0].add_run(value).font.size = Pt(11)
    closing = doc.add_table(rows=1, cols=2)
    left, right = closing.rows[0].cells
    r = left.paragraphs[0].add_run("Nơi nhận:")
    r.bold, r.italic, r.font.size = True, True, Pt(12)
    for name in (*header.recipients, "Lưu: VT, TTĐHTM."):
        _para(doc, f"- {name};", size=11, align=WD_ALIGN_PARAGRAPH.LEFT, cell=left)
    right.paragraphs[0].add_run(header.signer).bold = True
    right.paragraphs[0].alignment = centre
    _para(doc, header.marker, size=8, align=WD_ALIGN_PARAGRAPH.LEFT)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _roman(n: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")[n - 1]
