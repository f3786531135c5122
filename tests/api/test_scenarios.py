"""Scenarios over HTTP: runs, GeoJSON, bad input as problem+json, thematic documents, reported
values (JSON, CSV, XLSX), incidents, the map's choropleth and warnings, OGC API - Processes, CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import geopandas as gpd
import pytest
from sqlalchemy import create_engine

from gis_core.db import to_sqlalchemy_url

PROBLEM = "application/problem+json"
RADIUS = {"type": "radius", "lon": 103.46, "lat": 22.40, "radius_m": 5000}
SELF_CROSSING = {"type": "Polygon", "coordinates": [[[103.4, 22.3], [103.5, 22.4], [103.5, 22.3],
                                                     [103.4, 22.4], [103.4, 22.3]]]}


def test_list_and_describe(client):
    scenarios = client.get("/api/v1/scenarios").json()["scenarios"]
    ids = {s["id"] for s in scenarios}
    assert {"socio_economic", "sector_health", "sector_education", "sector_transport",
            "sector_environment", "sector_public_order", "sector_social_welfare", "thematic",
            "emergency"} <= ids
    health = client.get("/api/v1/scenarios/sector_health").json()
    assert health["article"] == "Điều 9b"
    assert "selection" in health["parameters"]["properties"]


def test_openapi_shows_each_scenarios_parameters(client):
    spec = client.get("/openapi.json").json()
    run = spec["paths"]["/api/v1/scenarios/emergency/run"]["post"]
    ref = run["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"kind", "lon", "lat", "radius_m", "geometry"} <= set(schema["properties"])
    health = spec["paths"]["/api/v1/scenarios/sector_health/run"]["post"]
    assert "requestBody" in health


def test_run_json_and_geojson(client):
    body = {"selection": RADIUS}
    result = client.post("/api/v1/scenarios/sector_health/run", json=body)
    assert result.status_code == 200
    groups = result.json()["groups"]
    assert groups and all(g["indicators"] for g in groups)
    by_param = client.post("/api/v1/scenarios/sector_health/run?f=geojson", json=body)
    by_accept = client.post("/api/v1/scenarios/sector_health/run", json=body,
                            headers={"Accept": "application/geo+json"})
    for response in (by_param, by_accept):
        assert response.headers["content-type"].startswith("application/geo+json")
        collection = response.json()
        assert collection["type"] == "FeatureCollection"
        groups_on_map = [f for f in collection["features"] if f["properties"]["role"] == "group"]
        assert len(groups_on_map) == len(groups)
        assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in groups_on_map)


@pytest.mark.parametrize("body, status, says", [
    ({"selection": {**RADIUS, "radius_m": 0}}, 400, "Bán kính"),
    ({"selection": {**RADIUS, "radius_m": 500_000}}, 400, "100,000"),
    ({"selection": {"type": "point", "lon": 105.85, "lat": 21.03}}, 400, "ngoài tỉnh"),
    ({"selection": {"type": "radius", "lon": 105.85, "lat": 21.03, "radius_m": 1000}}, 400,
     "ngoài tỉnh"),
    ({"selection": {"type": "communes", "codes": ["99999"]}}, 404, "99999"),
    ({"selection": {"type": "communes", "names": ["Hà Nội"]}}, 404, "Hà Nội"),
    ({"selection": {"type": "polygon", "geometry": SELF_CROSSING}}, 422, "tự cắt"),
    ({"selection": {"type": "polygon", "geometry": SELF_CROSSING["coordinates"]}}, 422, "geometry"),
    ({"selection": {"type": "polygon", "geometry": {"type": "Polygon", "coordinates": [[
        [540000, 2470000], [541000, 2470000], [541000, 2471000], [540000, 2470000]]]},
        "crs": "EPSG:32648"}}, 400, "crs"),
    ({"selection": {"type": "circle"}}, 422, "selection"),
    ({"indicators": ["no_such_indicator"]}, 404, "no_such_indicator"),
    ({"indicators": ["poor_household_rate"]}, 400, "không thuộc"),
    ({"period": "2025-13"}, 400, "2025-13"),
    ({"group_by": "village"}, 422, "group_by"),
])
def test_bad_input_is_problem_json(client, body, status, says):
    response = client.post("/api/v1/scenarios/sector_health/run", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert says in problem["detail"] + problem.get("detail_en", "")
    assert problem["detail_en"]


def test_unknown_scenario_and_bad_format(client):
    missing = client.post("/api/v1/scenarios/nothing_here/run", json={})
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    bad_f = client.post("/api/v1/scenarios/sector_health/run?f=xml", json={})
    assert bad_f.status_code == 400 and bad_f.json()["parameter"] == "f"


THEME = """
id: nha_tam_doan_ket
title: {vi: Nhà tạm khu vực trung tâm, en: Temporary houses in the centre}
instruction: Chỉ đạo của Chủ tịch UBND tỉnh (kiểm thử)
indicators: [temporary_house_rate, poor_household_rate]
selection: {type: communes, names: [Đoàn Kết, Tân Phong]}
group_by: commune
period: "2025"
thresholds: {temporary_house_rate: 2.5}
"""


def test_thematic_scenario_defined_only_as_a_document(client, staff, database_url):
    stored = client.post("/api/v1/scenarios/thematic", content=THEME.encode(),
                         headers={"Content-Type": "application/yaml", **staff("leader", "so_xay_dung")})
    assert stored.status_code == 201, stored.text
    assert "nha_tam_doan_ket" in {s["id"] for s in client.get("/api/v1/scenarios").json()["scenarios"]}
    result = client.post("/api/v1/scenarios/nha_tam_doan_ket/run", json={}).json()
    engine = create_engine(to_sqlalchemy_url(database_url))
    housing = gpd.read_postgis("SELECT geom, house_type, commune_code FROM housing", engine,
                               geom_col="geom")
    engine.dispose()
    assert [g["key"] for g in result["groups"]] == ["03388", "03408"]
    for group in result["groups"]:
        h = housing[housing.commune_code == group["key"]]
        rate = 100 * (h.house_type == "temporary").sum() / len(h)
        r = next(r for r in group["indicators"] if r["id"] == "temporary_house_rate")
        assert r["value"] == pytest.approx(rate, abs=1e-3)
        assert r["target"] == 2.5 and r["legal_basis"].startswith("Chỉ đạo")
        assert r["status"] == ("met" if rate <= 2.5 else "at_risk" if rate <= 2.75 else "not_met")
    # Fields in the body replace the document's.
    one = client.post("/api/v1/scenarios/nha_tam_doan_ket/run",
                      json={"selection": {"type": "communes", "codes": ["03408"]}}).json()
    assert [g["key"] for g in one["groups"]] == ["03408"]


@pytest.mark.parametrize("document, says", [
    ("id: x\ntitle: T\nindicators: [poor_household_rate]\n", "id"),
    ("id: theme_one\ntitle: T\nindicators: [nope]\n", "nope"),
    ("id: theme_one\ntitle: T\nindicators: [poor_household_rate]\nthresholds: {beds_per_10k: 3}\n",
     "beds_per_10k"),
    ("id: theme_one\ntitle: T\nindicators: [poor_household_rate]\nselection: {type: radius}\n",
     "selection"),
    ("id: sector_health\ntitle: T\nindicators: [poor_household_rate]\n", "built-in"),
    ("id: [unclosed\n", "YAML"),
])
def test_bad_thematic_documents(client, staff, document, says):
    response = client.post("/api/v1/scenarios/thematic", content=document.encode(),
                           headers={"Content-Type": "application/yaml", **staff("leader", "so_xay_dung")})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM
    assert says in response.json()["detail_en"]


def test_reported_values_json_csv_xlsx(client, staff):
    posted = client.post("/api/v1/reported-values", headers=staff("leader", "so_xay_dung"), json=[
        {"indicator": "budget_revenue_bn_vnd", "period": "2025", "value": 2810}])
    assert posted.status_code == 201 and posted.json() == {"written": 1}
    csv = "indicator;period;unit_code;value;note\nhouseholds_on_grid_pct;2025;province;96,2;Sở Công Thương\n"
    up = client.post("/api/v1/reported-values/upload", headers=staff("leader", "so_xay_dung"),
                     files={"file": ("values.csv", csv.encode("utf-8"), "text/csv")})
    assert up.status_code == 201, up.text
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["indicator", "period", "unit_code", "value"])
    sheet.append(["ntm_communes_share_pct", "2025", "province", 48.5])
    buffer = io.BytesIO()
    book.save(buffer)
    up = client.post("/api/v1/reported-values/upload", headers=staff("leader", "so_xay_dung"),
                     files={"file": ("values.xlsx", buffer.getvalue(), "application/octet-stream")})
    assert up.status_code == 201, up.text
    values = {v["indicator"]: v for v in client.get("/api/v1/reported-values?period=2025").json()["values"]}
    assert values["budget_revenue_bn_vnd"]["entered_by"] == "t-leader-so-xay-dung"
    assert values["households_on_grid_pct"]["value"] == 96.2
    assert values["households_on_grid_pct"]["note"] == "Sở Công Thương"
    assert values["ntm_communes_share_pct"]["source"] == "xlsx"
    result = client.post("/api/v1/scenarios/socio_economic/run", json={"period": "2025"}).json()
    by = {r["id"]: r for r in result["groups"][0]["indicators"]}
    assert by["budget_revenue_bn_vnd"]["status"] == "at_risk"  # 2,810 of 3,000
    assert by["ntm_communes_share_pct"]["status"] == "not_met"  # 48.5 of 57.5


def test_bad_upload_writes_nothing(client, staff):
    before = client.get("/api/v1/reported-values").json()["values"]
    csv = "indicator,period,unit_code,value\ncriminal_cases,2027,province,4\ncriminal_cases,2027,province,x\n"
    response = client.post("/api/v1/reported-values/upload", headers=staff("leader", "so_xay_dung"),
                           files={"file": ("bad.csv", csv.encode(), "text/csv")})
    assert response.status_code == 422 and "Row 3" in response.json()["detail_en"]
    missing = client.post("/api/v1/reported-values/upload", headers=staff("leader", "so_xay_dung"),
                          files={"file": ("bad.csv", b"indicator,value\nx,1\n", "text/csv")})
    assert missing.status_code == 400 and "period" in missing.json()["detail_en"]
    assert client.get("/api/v1/reported-values").json()["values"] == before


def test_a_csv_cell_over_the_csv_limit_is_a_400_naming_the_line(client, staff):
    before = client.get("/api/v1/reported-values").json()["values"]
    csv = ("indicator,period,unit_code,value,note\ncriminal_cases,2027,province,4,ok\n"
           f"criminal_cases,2028,province,5,{'x' * 140_000}\n")
    response = client.post("/api/v1/reported-values/upload", headers=staff("leader", "so_xay_dung"),
                           files={"file": ("long.csv", csv.encode(), "text/csv")})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert "Line 3" in body["detail_en"] and "shorten" in body["detail_en"]
    assert body["parameter"] == "file" and "Dòng 3" in body["detail"]
    assert client.get("/api/v1/reported-values").json()["values"] == before


def test_incident_timeline_and_impact(client, staff):
    lead = staff("leader", "so_xay_dung")
    created = client.post("/api/v1/incidents", headers=lead, json={
        "kind": "flash_flood", "title": "Lũ quét suối Nậm Lùm", "lon": 103.47, "lat": 22.39,
        "radius_m": 1200})
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["status"] == "reported" and incident["created_by"] == "t-leader-so-xay-dung"
    iid = incident["id"]
    status = f"/api/v1/incidents/{iid}/status"
    assert client.post(status, headers=lead, json={"status": "responding"}).status_code == 200
    bad = client.post(f"/api/v1/incidents/{iid}/status", headers=lead, json={"status": "reported"})
    assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM
    timeline = client.get(f"/api/v1/incidents/{iid}").json()["timeline"]
    assert [t["status"] for t in timeline] == ["reported", "responding"]
    impact = client.get(f"/api/v1/incidents/{iid}/impact").json()
    direct = client.post("/api/v1/scenarios/emergency/run", json={
        "kind": "flash_flood", "lon": 103.47, "lat": 22.39, "radius_m": 1200}).json()
    assert impact["affected"] == direct["affected"] and impact["affected"]["households"] > 0
    warnings = client.get("/api/v1/warnings").json()
    assert iid in {i["id"] for i in warnings["open_incidents"]}
    client.post(status, headers=lead, json={"status": "closed", "note": "Đã xong"})
    assert iid not in {i["id"] for i in client.get("/api/v1/warnings").json()["open_incidents"]}
    outside = client.post("/api/v1/incidents", headers=lead, json={
        "kind": "fire", "title": "Hà Nội", "lon": 105.85, "lat": 21.03, "radius_m": 100})
    assert outside.status_code == 400
    assert client.get("/api/v1/incidents/999999").status_code == 404


def test_choropleth_shape(client):
    response = client.get("/api/v1/indicators/poor_household_rate/choropleth?period=2025")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 38
    run = client.post("/api/v1/scenarios/sector_social_welfare/run", json={
        "indicators": ["poor_household_rate"], "period": "2025", "drilldown_limit": 0}).json()
    expected = {g["key"]: g["indicators"][0] for g in run["groups"]}
    for feature in collection["features"]:
        props = feature["properties"]
        assert set(props) == {"code", "name", "value", "target", "status", "unit"}
        assert props["value"] == expected[props["code"]]["value"]
        assert props["status"] == expected[props["code"]]["status"]
    assert client.get("/api/v1/indicators/nope/choropleth").status_code == 404
    assert client.get("/api/v1/indicators/poor_household_rate/choropleth?period=20x5").status_code == 400


def test_warnings_shape(client):
    body = client.get("/api/v1/warnings").json()
    assert set(body) >= {"indicators_not_met", "open_incidents"}
    assert body["indicators_not_met"]
    for w in body["indicators_not_met"]:
        assert set(w) >= {"indicator", "name", "commune_code", "commune_name", "value", "target",
                          "lon", "lat"}
        assert 102 < w["lon"] < 104 and 21.5 < w["lat"] < 23


def test_indicator_catalogue(client):
    indicators = client.get("/api/v1/indicators").json()["indicators"]
    sectors = {}
    for i in indicators:
        sectors.setdefault(i["sector"], []).append(i)
        assert i["name"]["vi"] and i["name"]["en"] and i["direction"] in ("higher", "lower")
    for sector in ("health", "education", "transport", "environment", "public_order",
                   "social_welfare"):
        assert len(sectors[sector]) >= 3, sector
    assert any(t["legal_basis"] for i in indicators for t in i["targets"])


def test_ogc_processes(client):
    processes = client.get("/ogc/processes").json()["processes"]
    assert "sector_transport" in {p["id"] for p in processes}
    described = client.get("/ogc/processes/emergency").json()
    assert described["jobControlOptions"] == ["sync-execute"]
    assert described["inputs"]["kind"]["minOccurs"] == 1
    assert "flash_flood" in described["inputs"]["kind"]["schema"]["enum"]
    assert "$ref" not in json.dumps(described)
    inputs = {"selection": {"type": "communes", "codes": ["03388"]}}
    executed = client.post("/ogc/processes/sector_transport/execution", json={"inputs": inputs})
    assert executed.status_code == 200
    direct = client.post("/api/v1/scenarios/sector_transport/run", json=inputs).json()
    assert executed.json()["groups"] == direct["groups"]
    geo = client.post("/ogc/processes/sector_transport/execution",
                      json={"inputs": inputs, "outputs": {"geojson": {}}})
    assert geo.headers["content-type"].startswith("application/geo+json")
    bad = client.post("/ogc/processes/sector_transport/execution",
                      json={"inputs": {"selection": {"type": "radius", "lon": 1, "lat": 1}}})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    conformance = client.get("/ogc/conformance", headers={"Accept": "application/json"}).json()
    assert any("ogcapi-processes-1/1.0/conf/core" in c for c in conformance["conformsTo"])
    assert any("ogcapi-features-1/1.0/conf/core" in c for c in conformance["conformsTo"])


def test_cli_scenario_run(database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    ok = subprocess.run([sys.executable, "-m", "api.cli", "scenario", "run", "sector_education",
                         "--selection", '{"type":"communes","names":["Đoàn Kết"]}'],
                        capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["groups"][0]["key"] == "03388"
    listed = subprocess.run([sys.executable, "-m", "api.cli", "scenario", "list"],
                            capture_output=True, text=True, env=env, check=False)
    assert "sector_health" in listed.stdout
    bad = subprocess.run([sys.executable, "-m", "api.cli", "scenario", "run", "sector_education",
                          "--selection", '{"type":"radius","lon":103.46,"lat":22.4,"radius_m":0}'],
                         capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "Radius 0 m" in bad.stderr


def test_writes_need_a_signed_in_role_that_may_make_them(client, staff):
    body = [{"indicator": "criminal_cases", "period": "2031", "unit_code": "province", "value": 1}]
    assert client.post("/api/v1/reported-values", json=body).status_code == 401
    assert client.post("/api/v1/reported-values", json=body,
                       headers=staff("viewer")).status_code == 403
    incident = {"kind": "fire", "title": "Cháy rừng", "lon": 103.47, "lat": 22.39, "radius_m": 100}
    assert client.post("/api/v1/incidents", json=incident).status_code == 401
    assert client.post("/api/v1/scenarios/thematic", content=b"id: x",
                       headers={"Content-Type": "application/yaml",
                                **staff("department_editor", "so_xay_dung")}).status_code == 403
    values = client.get("/api/v1/reported-values", params={"indicator": "criminal_cases"}).json()
    assert all(v["period"] != "2031" for v in values["values"])
