"""The lists the workspace shows: import jobs (who may read which), edits in every state."""

from __future__ import annotations

import pytest

from tests.auth.conftest import bearer
from tests.auth.test_import_approval import TREE_HEADER, _csv, _place, _upload
from tests.conftest import wait_for_job

# Imports are queued jobs: a worker process runs them.
pytestmark = pytest.mark.usefixtures("job_worker")


def test_import_jobs_are_listed_to_those_who_may_read_their_reports(client, tokens, communes,
                                                                    database_url):
    lon, lat = _place(database_url, communes[0])
    body = _csv(TREE_HEADER, [["Sa mộc", 7, "Tốt", lon, lat]])
    held = _upload(client, "trees", body, bearer(tokens["deped1"]), "cay_danh_sach")
    assert held.status_code == 202
    job, edit = held.json()["job"], held.json()["edit_id"]

    def listed(name, **params):
        response = client.get("/api/v1/imports", headers=bearer(tokens[name]), params=params)
        assert response.status_code == 200, response.text
        return {j["job"]: j for j in response.json()}

    mine = listed("deped1")[job]
    assert (mine["layer"], mine["dataset"], mine["actor"]) == ("trees", "cay_danh_sach", "deped1")
    assert (mine["edit_id"], mine["edit_status"], mine["added"]) == (edit, "pending", 1)
    assert mine["links"]["report_csv"] == f"/api/v1/imports/{job}/report.csv"
    assert job in listed("op1") and job in listed("deped2") and job in listed("op1", layer="trees")
    assert job not in listed("healthed") and job not in listed("op1", layer="schools")
    assert client.get("/api/v1/imports").status_code == 401
    assert client.get("/api/v1/imports", headers=bearer(tokens["op1"]),
                      params={"layer": "nope"}).status_code == 404


def test_edits_status_all_lists_every_state(client, tokens, communes, database_url):
    lon, lat = _place(database_url, communes[0])
    body = _csv(TREE_HEADER, [["Thông", 3, "Tốt", lon, lat]])
    first = _upload(client, "trees", body, bearer(tokens["deped1"]), "cay_tu_choi").json()
    second = _upload(client, "trees", body, bearer(tokens["deped1"]), "cay_cho").json()
    rejected = client.post(f"/api/v1/edits/{first['edit_id']}/reject",
                           headers=bearer(tokens["deped2"]), json={"reason": "Trùng"})
    assert rejected.status_code == 200

    def states(status):
        response = client.get("/api/v1/edits", headers=bearer(tokens["deped2"]),
                              params={"status": status})
        assert response.status_code == 200
        return {e["id"]: e["status"] for e in response.json()}

    every = states("all")
    assert every[first["edit_id"]] == "rejected" and every[second["edit_id"]] == "pending"
    assert first["edit_id"] not in states("pending")
    # A pending import names no feature: it shows no made-up "deleted" conflict.
    shown = client.get(f"/api/v1/edits/{second['edit_id']}", headers=bearer(tokens["deped2"]))
    assert shown.status_code == 200 and shown.json()["conflicts"] is None
    assert client.get("/api/v1/edits", headers=bearer(tokens["deped2"]),
                      params={"status": "every"}).status_code == 422


def test_a_dry_run_maps_what_would_be_added_changed_and_removed_and_writes_nothing(
        client, tokens, communes, database_url):
    from tests.staff.conftest import sql

    lon, lat = _place(database_url, communes[0])
    header = ["ma", *TREE_HEADER]
    first = _csv(header, [["A", "Pơ mu", 5, "Tốt", lon, lat], ["B", "Sa mộc", 6, "Tốt", lon, lat]])
    direct = wait_for_job(client.get, client.post(
        "/api/v1/layers/trees/imports", headers=bearer(tokens["op1"]),
        files={"file": ("a.csv", first, "text/csv")},
        data={"dataset": "cay_xem_truoc", "key": "ma"}), bearer(tokens["op1"]))
    assert direct.status_code == 201, direct.text
    before = sql(database_url, "SELECT source_key, species, ST_AsText(geom) FROM trees WHERE "
                 "source_dataset = 'cay_xem_truoc' ORDER BY 1")
    second = _csv(header, [["A", "Pơ mu", 5, "Tốt", lon + 1e-3, lat],
                           ["C", "Thông", 2, "Tốt", lon, lat + 1e-3]])
    dry = wait_for_job(client.get, client.post(
        "/api/v1/layers/trees/imports", headers=bearer(tokens["deped1"]),
        files={"file": ("b.csv", second, "text/csv")},
        data={"dataset": "cay_xem_truoc", "key": "ma", "dry_run": "true"}),
        bearer(tokens["deped1"]))
    assert dry.status_code == 200, dry.text
    report = dry.json()["report"]
    assert (report["added"], report["changed"], report["removed"]) == (1, 1, 1)
    changes = {f["properties"]["source_key"]: (f["properties"]["change"],
                                               f["geometry"]["coordinates"])
               for f in report["preview"]["features"]}
    assert changes["A"] == ("changed", [round(lon + 1e-3, 6), round(lat, 6)])
    assert changes["B"][0] == "removed" and changes["C"][0] == "added"
    assert sql(database_url, "SELECT source_key, species, ST_AsText(geom) FROM trees WHERE "
               "source_dataset = 'cay_xem_truoc' ORDER BY 1") == before
    # The real import carries no map.
    assert "preview" not in direct.json()["report"] or direct.json()["report"]["preview"] is None
