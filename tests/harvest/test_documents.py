"""Documents of plans and permits: versions kept, each with its decision, files checked against
their extension and checksum, served with the feature's access rules."""

from __future__ import annotations

import io

from PIL import Image

PDF_1 = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PDF_2 = PDF_1.replace(b"1.4", b"1.7")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


def _first(engine, layer: str) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT min(id) FROM {layer}").scalar()  # noqa: S608


def test_a_plan_keeps_both_versions_of_its_drawings(api, engine) -> None:  # noqa: ANN001
    client, heads = api
    zone = _first(engine, "planning_zones")
    url = f"/api/v1/layers/planning_zones/features/{zone}/documents"
    title = "Bản vẽ quy hoạch chi tiết tỷ lệ 1/500"
    made = []
    for data, decision in ((PDF_1, "123/QĐ-UBND"), (PDF_2, "456/QĐ-UBND")):
        answer = client.post(url, headers=heads["h-operator"],
                             data={"title": title, "kind": "drawing", "decision": decision},
                             files={"file": ("bản vẽ.pdf", data, "application/pdf")})
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    assert [d["version"] for d in made] == [1, 2]
    listed = client.get(url).json()["documents"]
    assert [(d["version"], d["decision"]) for d in listed] == [(2, "456/QĐ-UBND"),
                                                                (1, "123/QĐ-UBND")]
    first = client.get(made[0]["href"])
    assert first.status_code == 200 and first.content == PDF_1
    assert first.headers["content-type"] == "application/pdf"
    assert "b%E1%BA%A3n%20v%E1%BA%BD.pdf" in first.headers["content-disposition"]
    assert client.get(made[1]["href"]).content == PDF_2


def test_bad_uploads_and_rights(api, engine) -> None:  # noqa: ANN001
    client, heads = api
    zone = _first(engine, "planning_zones")
    url = f"/api/v1/layers/planning_zones/features/{zone}/documents"
    form = {"title": "Quyết định phê duyệt", "kind": "decision"}
    fake = client.post(url, headers=heads["h-operator"], data=form,
                       files={"file": ("quyet_dinh.pdf", _png(), "application/pdf")})
    assert fake.status_code == 415 and "not the .pdf" in fake.json()["detail_en"]
    exe = client.post(url, headers=heads["h-operator"], data=form,
                      files={"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert exe.status_code == 415
    assert client.post(url, headers=heads["h-leader"], data=form,
                       files={"file": ("a.pdf", PDF_1, "application/pdf")}).status_code == 403
    assert client.post(url, data=form,
                       files={"file": ("a.pdf", PDF_1, "application/pdf")}).status_code == 401
    missing = client.post("/api/v1/layers/planning_zones/features/999999999/documents",
                          headers=heads["h-operator"], data=form,
                          files={"file": ("a.pdf", PDF_1, "application/pdf")})
    assert missing.status_code == 404


def test_a_permits_documents_follow_its_access_rules(api, engine) -> None:  # noqa: ANN001
    client, heads = api
    permit = _first(engine, "construction_permits")
    url = f"/api/v1/layers/construction_permits/features/{permit}/documents"
    made = client.post(url, headers=heads["h-operator"],
                       data={"title": "Giấy phép xây dựng (bản quét)", "kind": "decision"},
                       files={"file": ("giay_phep.png", _png(), "image/png")}).json()
    assert client.get(url).status_code == 401
    assert client.get(made["href"]).status_code == 401
    read = client.get(made["href"], headers=heads["h-reader"])
    assert read.status_code == 200 and read.headers["content-type"] == "image/png"
    with engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'document.read' AND actor = 'h-reader' "
            "AND target = %(t)s", {"t": f"construction_permits/{permit}"}).scalar() == 1
