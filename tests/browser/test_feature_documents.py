"""A plan's documents in its details on the situation view: both versions of its drawings, with
their decisions and the first page's thumbnail."""

from __future__ import annotations

import io

import psycopg2
import pytest

pytestmark = pytest.mark.browser


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(40, 700, "Ban ve quy hoach")
    page.save()
    return out.getvalue()


def test_a_plans_documents_show_in_its_details(visit, database_url, client, staff):  # noqa: ANN001, ANN201
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) p "
                    "FROM planning_zones ORDER BY ST_Area(geom) DESC LIMIT 1) z")
        zone, lon, lat = cur.fetchone()
    title = "Bản vẽ tổng mặt bằng sử dụng đất"
    for decision in ("101/QĐ-UBND", "202/QĐ-UBND"):
        sent = client.post(f"/api/v1/layers/planning_zones/features/{zone}/documents",
                           headers=staff("operator"), data={"title": title, "kind": "drawing",
                                                            "decision": decision},
                           files={"file": ("tong_mat_bang.pdf", _pdf(), "application/pdf")})
        assert sent.status_code == 201, sent.text
    visit.open("/map")
    visit.page.evaluate("([lat, lon]) => { IOC.groups.planning.addTo(IOC.map); "
                        "IOC.map.setView([lat, lon], 14, {animate: false}); }", [lat, lon])
    visit.settle()
    visit.click_at(lon, lat)
    visit.page.wait_for_selector("#details .documents li", timeout=30_000)
    items = visit.page.locator("#details .documents li").all_inner_texts()
    ours = [i for i in items if title in i]
    assert len(ours) == 2, items
    assert "bản 2" in ours[0] and "202/QĐ-UBND" in ours[0] and "bản 1" in ours[1]
    visit.page.wait_for_function(
        "[...document.querySelectorAll('#details .documents img.thumb')].some(i => i.naturalWidth > 0)")
    assert "Tài liệu: 2" in visit.page.locator(".leaflet-popup-content").inner_text()
    assert not visit.errors
