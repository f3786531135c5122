"""Every table of the report as XLSX (openpyxl): one sheet per table, the header block on top."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.layout import Header, table_rows

FONT = "Times New Roman"


def render(header: Header, content: dict[str, Any], images: dict[int, bytes]) -> bytes:
    """XLSX bytes (maps are left to the DOCX and PDF)."""
    book = Workbook()
    book.properties.title = header.title
    book.properties.identifier = header.marker
    book.properties.subject = header.number
    info = book.active
    info.title = "Thông tin"
    for row in ((header.parent,), (header.issuer,), (f"Số: {header.number}",), (header.place_date,),
                ("BÁO CÁO",), (header.title,), (header.subtitle,), (header.marker,)):
        info.append(row)
    for cell in info["A"]:
        cell.font = Font(name=FONT, size=13, bold=cell.row in (2, 5, 6))
    used: set[str] = set()
    for n, s in enumerate(content["sections"], 1):
        columns, rows = table_rows(s)
        if not rows:
            continue
        name = f"{n}. {s['title']['vi']}"[:31].replace("/", "-").replace(":", "")
        while name in used:
            name = name[:29] + f"_{n}"
        used.add(name)
        sheet = book.create_sheet(name)
        sheet.append([s["title"]["vi"]])
        sheet.append(list(columns) + (["Khóa số liệu"] if s["kind"] in ("indicators", "activity") else []))
        for row, raw in zip(rows, s.get("rows") or [{}] * len(rows), strict=True):
            values: list[Any] = list(row)
            if s["kind"] == "indicators":
                values[4] = raw["value"] if isinstance(raw["value"], int | float) else row[4]
                values[5] = raw["target"] if raw["target"] is not None else row[5]
                values.append(raw["key"])
            elif s["kind"] == "activity":
                values[2] = raw["value"] if isinstance(raw["value"], int | float) else row[2]
                values.append(raw["key"])
            sheet.append(values)
        for line in sheet.iter_rows():
            for cell in line:
                cell.font = Font(name=FONT, size=12, bold=cell.row <= 2)
        sheet.column_dimensions["C"].width = 45
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
