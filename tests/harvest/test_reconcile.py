"""Construction permits reconciled with a cadastral extract (a zipped VN-2000 shapefile, as the
land registration office hands it out) with planted mismatches: each is found, nothing else."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_core.crs import to_wgs84
from governance.access import Principal
from harvest import reconcile

SPEC = """
layer: construction_permits
key: {commune_code: MA_XA, map_sheet: SO_TO, parcel_number: SO_THUA}
compare: {applicant_name: CHU_SD}
tolerance_m: 5
"""


@pytest.fixture(scope="module")
def planted(engine, tmp_path_factory):  # noqa: ANN001, ANN201
    """Eight permits in one commune and the extract of its parcels, with planted mismatches."""
    with engine.begin() as conn:
        code, wkb = conn.exec_driver_sql(
            "SELECT code, ST_AsBinary(geom) FROM communes ORDER BY code LIMIT 1").one()
        area = shapely.from_wkb(bytes(wkb))
        conn.exec_driver_sql("DELETE FROM construction_permits WHERE commune_code = %(c)s",
                             {"c": code})
        rng = np.random.default_rng(3)
        x0, y0, x1, y1 = area.bounds
        points: list = []
        while len(points) < 8:
            p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if area.buffer(-0.005).contains(p) and all(p.distance(q) > 0.003 for q in points):
                points.append(p)
        ids = []
        for n, p in enumerate(points):
            ids.append(conn.exec_driver_sql(
                "INSERT INTO construction_permits (geom, permit_number, permit_date, applicant_name, "
                "map_sheet, parcel_number, floors, status, commune_code) VALUES "
                "(ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326), %(no)s, '2025-03-01', %(who)s, 12, "
                "%(parcel)s, 2, 'issued', %(c)s) RETURNING id",
                {"x": p.x, "y": p.y, "no": f"{n + 1}/GPXD", "who": f"Lò Văn Thắng {n}",
                 "parcel": 100 + n, "c": code}).scalar())
    to_vn = to_wgs84(9205)
    xs, ys = to_vn.transform([p.x for p in points], [p.y for p in points], direction="INVERSE")
    squares, rows = [], []
    for n, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if n == 3:  # permit 3: no parcel in the extract at all
            continue
        dx = {2: 60.0, 5: 13.0}.get(n, 0.0)  # 2: 50 m off; 5: 3 m off, within the tolerance
        squares.append(shapely.box(x - 10 + dx, y - 10, x + 10 + dx, y + 10))
        rows.append({"MA_XA": code, "SO_TO": 12, "SO_THUA": 999 if n == 4 else 100 + n,
                     "CHU_SD": "Lò Văn Thắng 1 (đã chuyển nhượng)" if n == 1
                     else f"Lò Văn Thắng {n}", "DIEN_TICH": 400.0})
    squares.append(shapely.box(xs[0] + 500, ys[0] + 500, xs[0] + 520, ys[0] + 520))
    rows.append({"MA_XA": code, "SO_TO": 13, "SO_THUA": 7, "CHU_SD": "Giàng A Pháo",
                 "DIEN_TICH": 400.0})
    folder = tmp_path_factory.mktemp("dia_chinh")
    frame = gpd.GeoDataFrame(rows, geometry=squares, crs="EPSG:9205")
    frame.to_file(folder / "thua_dat.shp", engine="pyogrio", encoding="UTF-8")
    archive = folder / "trich_luc_dia_chinh.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for part in folder.glob("thua_dat.*"):
            out.write(part, part.name)
    return {"ids": ids, "code": code, "file": archive}


def _run(engine, planted) -> dict:  # noqa: ANN001
    spec = reconcile.parse_spec(SPEC + f"commune: '{planted['code']}'\n")
    with engine.begin() as conn:
        return reconcile.reconcile(conn, spec, planted["file"], "test")


def test_each_planted_mismatch_and_nothing_else(engine, planted) -> None:  # noqa: ANN001
    ids = planted["ids"]
    with engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM "
                                      "construction_permits t").scalar()
    out = _run(engine, planted)
    assert out["counts"] == {"features": 8, "register": 8, "matched": 4, "attribute": 1,
                             "position": 1, "key": 1, "missing_in_register": 1,
                             "missing_in_layer": 1, "register_duplicate": 0}
    found = {(f["kind"], f["feature_id"], f["field"]) for f in out["findings"]}
    assert found == {("attribute", ids[1], "applicant_name"), ("position", ids[2], None),
                     ("missing_in_register", ids[3], None), ("key", ids[4], "parcel_number"),
                     ("missing_in_layer", None, None)}
    by_kind = {f["kind"]: f for f in out["findings"]}
    assert 49 < by_kind["position"]["distance_m"] < 51
    assert by_kind["key"]["proposal"] == {"parcel_number": 999}
    assert by_kind["attribute"]["register_value"] == "Lò Văn Thắng 1 (đã chuyển nhượng)"
    assert by_kind["missing_in_layer"]["register_key"] == f"{planted['code']}/13/7"
    with engine.connect() as conn:
        after = conn.exec_driver_sql("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM "
                                     "construction_permits t").scalar()
    assert after == before
    masked = reconcile.masked(out, {"applicant_name"})
    hidden = next(f for f in masked["findings"] if f["kind"] == "attribute")
    assert hidden["register_value"] == "***" and hidden["proposal"] is None


def test_findings_are_quality_failures_until_superseded(engine, planted) -> None:  # noqa: ANN001
    from layers.quality import failing_records
    from layers.registry import require_layer

    layer = require_layer("construction_permits")
    first = _run(engine, planted)
    second = _run(engine, planted)
    with engine.connect() as conn:
        cur = conn.connection.cursor()
        failing = failing_records(cur, layer, "register_agrees", commune=planted["code"])
        statuses = dict(conn.exec_driver_sql(
            "SELECT reconciliation, array_agg(DISTINCT status) FROM reconciliation_findings "
            "WHERE reconciliation IN (%(a)s, %(b)s) GROUP BY 1",
            {"a": first["id"], "b": second["id"]}).all())
    assert {r["id"] for r in failing["records"]} == set(planted["ids"][1:5])
    assert statuses == {first["id"]: ["superseded"], second["id"]: ["open"]}


def test_an_accepted_correction_waits_for_approval(engine, planted) -> None:  # noqa: ANN001
    from gis_core.errors import ConflictError
    from governance import accounts
    from governance.editing import review_edit

    out = _run(engine, planted)
    key = next(f for f in out["findings"] if f["kind"] == "key")
    with engine.begin() as conn:
        for name, role in (("r-operator", "operator"), ("r-approver", "operator")):
            if name not in {a["username"] for a in accounts.list_accounts(conn)}:
                accounts.create_account(conn, username=name, role=role, password="Lai-Chau-2026-x")
    operator = Principal(username="r-operator", role="operator")
    with engine.begin() as conn:
        edit = reconcile.accept(conn, operator, key["id"])
    assert edit["status"] == "pending"
    with engine.connect() as conn:
        now = conn.exec_driver_sql("SELECT parcel_number FROM construction_permits WHERE id = "
                                   "%(i)s", {"i": key["feature_id"]}).scalar()
    assert now == 104
    with pytest.raises(ConflictError), engine.begin() as conn:
        reconcile.accept(conn, operator, key["id"])
    with engine.begin() as conn:
        review_edit(conn, Principal(username="r-approver", role="operator"), edit["edit_id"],
                    approve=True)
    with engine.connect() as conn:
        now = conn.exec_driver_sql("SELECT parcel_number FROM construction_permits WHERE id = "
                                   "%(i)s", {"i": key["feature_id"]}).scalar()
    assert now == 999


@pytest.mark.parametrize("text, why", [
    ("layer: nowhere\nkey: {a: b}", "No layer"),
    ("layer: construction_permits\nkey: {parcel: SO_THUA}", "has no field parcel"),
    ("layer: construction_permits", "needs 'layer' and 'key'"),
    ("layer: construction_permits\nkey: {map_sheet: SO_TO}\ntolerance_m: -1", "tolerance_m"),
])
def test_bad_specs(text: str, why: str) -> None:
    from gis_core.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError) as err:
        reconcile.parse_spec(text)
    assert why in err.value.message_en


def test_an_extract_without_the_key_columns(engine, planted, tmp_path: Path) -> None:  # noqa: ANN001
    from gis_core.errors import InvalidParameterError

    spec = reconcile.parse_spec("layer: construction_permits\nkey: {map_sheet: TO_SO}\n")
    with pytest.raises(InvalidParameterError) as err, engine.begin() as conn:
        reconcile.reconcile(conn, spec, planted["file"], "test")
    assert "no column TO_SO" in err.value.message_en


def test_over_http(api, engine, planted) -> None:  # noqa: ANN001
    client, heads = api
    spec = SPEC + f"commune: '{planted['code']}'\n"
    files = {"file": ("trích lục địa chính.zip", planted["file"].read_bytes(), "application/zip")}
    denied = client.post("/api/v1/reconciliations", data={"spec": spec}, files=files,
                         headers=heads["h-reader"])
    assert denied.status_code == 403
    made = client.post("/api/v1/reconciliations", data={"spec": spec}, files=files,
                       headers=heads["h-operator"])
    assert made.status_code == 201, made.text
    body = made.json()
    # The parcel number corrected and approved above now agrees with the register.
    assert body["counts"]["matched"] == 5 and body["counts"]["key"] == 0
    assert body["file_name"] == "trích lục địa chính.zip"
    owner = next(f for f in body["findings"] if f["kind"] == "attribute")
    # Operators do not read personal data: the applicant's name is masked for them too.
    assert owner["register_value"] == "***" and "Thắng" not in str(body["findings"])
    shown = client.get(made.headers["Location"], headers=heads["h-leader"]).json()
    seen = next(f for f in shown["findings"] if f["kind"] == "attribute")
    assert seen["register_value"] == "Lò Văn Thắng 1 (đã chuyển nhượng)"
    with engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'reconcile.read.personal' AND actor = "
            "'h-leader' AND target = %(t)s", {"t": f"reconciliations/{body['id']}"}).scalar() == 1
    assert client.get(made.headers["Location"]).status_code == 401
    refused = client.post(f"/api/v1/reconciliation-findings/{owner['id']}/accept",
                          headers=heads["h-operator"])
    assert refused.status_code == 403
    bad = client.post("/api/v1/reconciliations", data={"spec": "layer: nowhere\nkey: {a: b}"},
                      files=files, headers=heads["h-operator"])
    assert bad.status_code == 400 and "nowhere" in bad.json()["detail_en"]


def test_the_command(target_url, planted, tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from api.cli import main

    spec = tmp_path / "doi_chieu.yaml"
    spec.write_text(SPEC + f"commune: '{planted['code']}'\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", target_url)
    main(["harvest", "reconcile", str(spec), "--file", str(planted["file"])])
    out = capsys.readouterr().out
    assert "missing_in_register 1" in out and "position 1" in out
    assert "Thắng" not in out and "\tattribute\t" in out
    with pytest.raises(SystemExit):
        main(["harvest", "reconcile", str(spec)])
    assert "--file" in capsys.readouterr().err
