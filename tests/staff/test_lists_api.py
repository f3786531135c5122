"""The lists the workspace shows: import jobs (who may read which), edits in every state."""

from __future__ import annotations

from tests.auth.conftest import bearer
from tests.auth.test_import_approval import TREE_HEADER, _csv, _place, _upload


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
    assert client.get("/api/v1/edits", headers=bearer(tokens["deped2"]),
                      params={"status": "every"}).status_code == 422
