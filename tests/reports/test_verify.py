"""A report proves later that it is intact and that its figures still hold, or says which changed."""

from __future__ import annotations

import io
import subprocess
import sys

from docx import Document

from tests.reports.conftest import generate


def _verify(client, headers, data, name="report.pdf"):
    response = client.post("/api/v1/reports/verify", headers=headers,
                           files={"file": (name, data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    return response.json()


def test_an_untouched_report_verifies(client, leader):
    run, data = generate(client, leader, "sector_health_monthly", "2026-11", "pdf")
    result = _verify(client, leader, data)
    assert result["ok"] and result["file_intact"] and result["changed"] == []
    assert result["report"] == run["id"]


def test_a_tampered_pdf_is_detected(client, leader, database_url, tmp_path):
    run, data = generate(client, leader, "sector_health_monthly", "2026-11", "pdf")
    tampered = bytearray(data)
    middle = len(tampered) // 2
    tampered[middle] = (tampered[middle] + 1) % 256
    result = _verify(client, leader, bytes(tampered))
    assert result["report"] == run["id"]
    assert not result["ok"] and not result["file_intact"]
    assert "SHA-256" in result["reasons"][0]["vi"]
    path = tmp_path / "bao_cao.pdf"
    path.write_bytes(bytes(tampered))
    cli = subprocess.run([sys.executable, "-m", "api.cli", "report", "verify", str(path)],
                         capture_output=True, text=True, env={"DATABASE_URL": database_url,
                                                              "PATH": "/usr/bin:/bin"})
    assert cli.returncode == 2
    assert "Tệp đã bị sửa sau khi lập" in cli.stdout


def test_a_figure_edited_in_word_is_detected(client, leader):
    _, data = generate(client, leader, "sector_social_welfare_monthly", "2026-Q4", "docx")
    doc = Document(io.BytesIO(data))
    row = next(r for t in doc.tables for r in t.rows if len(r.cells) == 7 and
               r.cells[2].text == "Tỷ lệ hộ nghèo" and r.cells[1].text == "Toàn tỉnh")
    row.cells[4].paragraphs[0].runs[0].text = "12,00"
    edited = io.BytesIO()
    doc.save(edited)
    result = _verify(client, leader, edited.getvalue(), "report.docx")
    assert not result["file_intact"] and not result["ok"]


def test_verify_names_the_figure_a_changed_record_moved(client, leader, db):
    run, data = generate(client, leader, "sector_social_welfare_monthly", "2026-Q4", "xlsx")
    with db.cursor() as cur:
        cur.execute("SELECT id, commune_code FROM housing WHERE poverty_status = 'none' "
                    "ORDER BY id LIMIT 1")
        feature, commune = cur.fetchone()
        cur.execute("UPDATE housing SET poverty_status = 'poor', updated_at = now() WHERE id = %s",
                    (feature,))
    result = _verify(client, leader, data, "report.xlsx")
    assert result["file_intact"] and not result["ok"]
    changed = {c["figure"]: c for c in result["changed"]}
    assert {"poor_household_rate@province", f"poor_household_rate@{commune}"} <= set(changed)
    assert "near_poor_household_rate@province" not in changed
    figure = changed[f"poor_household_rate@{commune}"]
    assert figure["now"] > figure["was"]
    assert any(e["layer"] == "housing" and e["feature"] == feature for e in figure["edits_since"])


def test_a_past_period_generated_again_gives_the_same_figures(client, leader, db):
    first, _ = generate(client, leader, "sector_social_welfare_monthly", "2026-Q3", "xlsx")
    with db.cursor() as cur:  # an edit after the period ended does not move its figures
        cur.execute("UPDATE housing SET poverty_status = 'poor', updated_at = now() WHERE id = "
                    "(SELECT min(id) FROM housing WHERE poverty_status = 'none')")
    second, data = generate(client, leader, "sector_social_welfare_monthly", "2026-Q3", "xlsx")
    assert second["figures_sha256"] == first["figures_sha256"]
    assert second["as_of"] == first["as_of"]
    assert _verify(client, leader, data, "report.xlsx")["ok"]


def test_a_file_not_made_here_is_refused(client, leader):
    response = client.post("/api/v1/reports/verify", headers=leader,
                           files={"file": ("x.pdf", b"%PDF-1.4 nothing", "application/pdf")})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "không phải báo cáo" in response.json()["detail"]


def test_scheduled_reports_are_made_once_for_the_last_closed_period(database_url):
    from datetime import UTC, datetime

    from gis_core.db import engine_for, raw_cursor
    from reports.schedule import due, run_due

    now = datetime(2027, 1, 15, 3, 0, tzinfo=UTC)
    with raw_cursor(engine_for(database_url)) as cursor:
        expected = {("socio_economic_quarterly", "2026-Q4"), ("ioc_activity_quarterly", "2026-Q4"),
                    *{(f"sector_{s}_monthly", "2026-12") for s in (
                        "health", "education", "transport", "environment", "public_order",
                        "social_welfare")}}
        before = set(due(cursor, "xlsx", now))  # less those other tests already made
        assert before and before <= expected
        made = run_due(cursor, "xlsx", "lich-bao-cao", now)
        assert {(r["definition"], r["period"]) for r in made} == before
        assert due(cursor, "xlsx", now) == []
        cursor.execute("SELECT definition, period FROM report_runs WHERE format = 'xlsx'")
        assert expected <= set(cursor.fetchall())
