"""Every shipped report generated on the samples and read back with independent readers; every
figure equals an independent SQL computation or the scenario engine's answer."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from reports.definitions import definitions
from reports.figures import ICT
from reports.layout import NO_DATA, fmt
from tests.reports.conftest import generate

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
PERIOD = "2026-Q4"  # still running: the layers are read as they are now


def poor_rates(db) -> dict[str, float]:
    """Share of poor households per commune and for the province, in plain SQL."""
    with db.cursor() as cur:
        cur.execute("SELECT coalesce(commune_code, 'x'), 100.0 * count(*) FILTER (WHERE "
                    "poverty_status = 'poor') / count(*) FROM housing GROUP BY ROLLUP (commune_code)")
        rows = cur.fetchall()
    out = {code: float(v) for code, v in rows if code != "x"}
    out["province"] = next(float(v) for code, v in rows if code == "x")
    return out


def test_docx_reads_back_with_the_header_block_and_figures(client, leader, db):
    run, data = generate(client, leader, "socio_economic_quarterly", PERIOD, "docx")
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    head = "\n".join(c.text for c in doc.tables[0].rows[0].cells).splitlines()
    today = datetime.now(ICT)  # the date of issue is Vietnam's
    assert head == ["UBND TỈNH LAI CHÂU", "TRUNG TÂM ĐIỀU HÀNH THÔNG MINH TỈNH LAI CHÂU",
                    f"Số: {run['number']}", MOTTO, "Độc lập - Tự do - Hạnh phúc",
                    f"Lai Châu, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}"]
    assert "Quý IV năm 2026" in text and "Kính gửi: Ủy ban nhân dân tỉnh Lai Châu" in text
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert len(doc.inline_shapes) == 2  # the chart and the map
    expected = poor_rates(db)
    rows = [r for t in doc.tables for r in ([c.text for c in row.cells] for row in t.rows)
            if len(r) == 7]
    province = next(r for r in rows if r[1] == "Toàn tỉnh" and r[2] == "Tỷ lệ hộ nghèo")
    assert province[4] == fmt(round(expected["province"], 4))
    by_commune = [r for r in rows if r[2] == "Tỷ lệ hộ nghèo" and r[1] != "Toàn tỉnh"]
    assert len(by_commune) == 38
    # Reported indicators with nothing entered for the period say so, never zero.
    grdp = next(r for r in rows if r[2] == "Tốc độ tăng trưởng GRDP")
    assert grdp[4] == NO_DATA


def test_pdf_text_keeps_vietnamese_diacritics(client, leader, db):
    run, data = generate(client, leader, "socio_economic_quarterly", PERIOD, "pdf")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for words in (MOTTO, "Độc lập - Tự do - Hạnh phúc", "Kính gửi: Ủy ban nhân dân tỉnh Lai Châu",
                  "Tỷ lệ hộ nghèo", "Quý IV năm 2026", run["number"]):
        assert words in text, words
    assert fmt(round(poor_rates(db)["province"], 4)) in text
    fonts = {f for page in reader.pages for f in (page["/Resources"].get("/Font") or {}).values()}
    assert fonts, "fonts are embedded"
    assert reader.metadata.title == "Báo cáo tình hình thực hiện các chỉ tiêu kinh tế – xã hội"


def test_xlsx_tables_equal_independent_sql(client, leader, db):
    _, data = generate(client, leader, "sector_social_welfare_monthly", PERIOD, "xlsx")
    book = load_workbook(io.BytesIO(data))
    expected = poor_rates(db)
    seen = {}
    for sheet in book.worksheets[1:]:
        header = [c.value for c in sheet[2]]
        for row in sheet.iter_rows(min_row=3, values_only=True):
            seen[row[header.index("Khóa số liệu")]] = row[header.index("Kết quả")]
    assert seen["poor_household_rate@province"] == pytest.approx(expected["province"], abs=1e-4)
    communes = {k.split("@")[1]: v for k, v in seen.items()
                if k.startswith("poor_household_rate@") and not k.endswith("province")}
    assert len(communes) == 38
    for code, value in communes.items():
        assert value == pytest.approx(expected[code], abs=1e-4), code


@pytest.mark.parametrize("report_id", sorted(set(definitions()) - {"emergency_incident"}))
def test_every_shipped_report_matches_the_scenario_engine(client, leader, database_url, report_id):
    """Each definition generated for a period of its kind; every indicator figure of its
    snapshot equals the engine's answer for that unit and period."""
    from gis_core.db import engine_for, raw_cursor
    from reports.figures import data_moment
    from scenarios.engine import Request, evaluate
    from scenarios.indicators import get_indicator
    from scenarios.selection import ProvinceSelection, resolve

    definition = definitions()[report_id]
    period = {"month": "2026-11", "quarter": "2026-Q3", "year": "2025"}[definition.periods[0]]
    run, data = generate(client, leader, report_id, period, "xlsx")
    info = [c.value for c in load_workbook(io.BytesIO(data)).worksheets[0]["A"]]
    assert f"Số: {run['number']}" in info and f"IOC-REPORT:{run['id']}" in info
    with raw_cursor(engine_for(database_url)) as cursor:
        cursor.execute("SELECT figures FROM report_runs WHERE id = %s", (run["id"],))
        figures = cursor.fetchone()[0]["figures"]
        area = resolve(cursor, ProvinceSelection(type="province"))
        for key, value in figures.items():
            ind = get_indicator(key.split("@")[0])
            if ind is None:
                continue
            unit, at = (key.split("@") + [period])[1:3]  # a chart's figure names its period
            result = evaluate(cursor, Request((ind,), area, at,
                                              "none" if unit == "province" else "commune",
                                              drilldown_limit=0, as_of=data_moment(at)))
            group = result["groups"][0] if unit == "province" else next(
                g for g in result["groups"] if g["key"] == unit)
            assert group["indicators"][0]["value"] == value, key
    assert run["figures"] > 0


def test_emergency_report_counts_the_households_reached(client, leader, staff, db):
    operator = staff("operator")
    with db.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM housing ORDER BY id LIMIT 1")
        lon, lat = cur.fetchone()
    made = client.post("/api/v1/incidents", headers=operator, json={
        "kind": "landslide", "title": "Sạt lở đất tại bản Nà Luồng", "lon": lon, "lat": lat,
        "radius_m": 1500, "time": datetime(2026, 11, 20, 8, 0).isoformat() + "+07:00"})
    assert made.status_code == 201, made.text
    incident = made.json()["id"]
    missing = client.post("/api/v1/reports/emergency_incident/generate", headers=leader,
                          json={"period": "2026-11", "format": "pdf"})
    assert missing.status_code == 400 and missing.json()["parameter"] == "incident"
    _, data = generate(client, leader, "emergency_incident", "2026-11", "pdf", incident=incident)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM housing WHERE ST_DWithin(geom::geography, ST_SetSRID("
                    "ST_MakePoint(%s, %s), 4326)::geography, 1500)", (lon, lat))
        households = cur.fetchone()[0]
    assert "Sạt lở đất tại bản Nà Luồng" in text
    assert f"Hộ trong vùng ảnh hưởng\n{fmt(households)}\n" in text
    assert f"với {fmt(households)} hộ" in text
