"""Documents of plans and permits: versions kept, each with its decision, files checked against
their extension, declared type and checksum, thumbnails of PDFs and images, an editor's upload
held for approval, served with the feature's access rules and exported with the layer."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from PIL import Image


def _pdf(text: str) -> bytes:
    """A real one-page PDF (reportlab) whose page is mostly black: its thumbnail shows it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.rect(0, 0, A4[0], A4[1] * 0.8, fill=1)
    page.drawString(40, A4[1] - 60, text)
    page.save()
    return out.getvalue()


PDF_1 = _pdf("Ban ve 1/500 - lan 1")
PDF_2 = _pdf("Ban ve 1/500 - lan 2")


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


def test_thumbnails_of_a_pdf_first_page_and_an_image(api, engine) -> None:  # noqa: ANN001
    client, heads = api
    zone = _first(engine, "planning_zones")
    url = f"/api/v1/layers/planning_zones/features/{zone}/documents"
    pdf = client.post(url, headers=heads["h-operator"], data={"title": "Thuyết minh", "kind": "report"},
                      files={"file": ("thuyet_minh.pdf", PDF_1, "application/pdf")}).json()
    thumb = client.get(pdf["thumbnail"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(thumb.content))
    assert max(image.size) == 320 and image.size[1] > image.size[0]  # A4, portrait
    assert image.convert("L").getpixel((image.size[0] // 2, image.size[1] - 5)) < 40  # the black
    photo = client.post(url, headers=heads["h-operator"], data={"title": "Ảnh hiện trạng",
                                                                "kind": "image"},
                        files={"file": ("hien_trang.png", _png(), "image/png")}).json()
    assert Image.open(io.BytesIO(client.get(photo["thumbnail"]).content)).size == (4, 4)


def test_a_file_not_what_it_says_or_too_large(api, engine) -> None:  # noqa: ANN001
    client, heads = api
    zone = _first(engine, "planning_zones")
    url = f"/api/v1/layers/planning_zones/features/{zone}/documents"
    form = {"title": "Bản vẽ", "kind": "drawing"}
    sent_as_image = client.post(url, headers=heads["h-operator"], data=form,
                                files={"file": ("ban_ve.pdf", PDF_1, "image/png")})
    assert sent_as_image.status_code == 415
    assert sent_as_image.headers["content-type"].startswith("application/problem+json")
    assert "image/png" in sent_as_image.json()["detail_en"] and sent_as_image.json()["detail"]
    damaged = client.post(url, headers=heads["h-operator"], data=form,
                          files={"file": ("hong.pdf", b"%PDF-1.4\n garbage", "application/pdf")})
    assert damaged.status_code == 415 and "not the .pdf" in damaged.json()["detail_en"]
    big = PDF_1 + b"%" + b"0" * (2**20)  # over the 1 MB these tests allow
    too_large = client.post(url, headers=heads["h-operator"], data=form,
                            files={"file": ("lon.pdf", big, "application/pdf")})
    assert too_large.status_code == 413, too_large.text
    assert too_large.headers["content-type"].startswith("application/problem+json")
    assert "1 MB" in too_large.json()["detail_en"] and "Tài liệu quá lớn" in too_large.json()["detail"]


def test_an_editors_document_waits_for_another_approver(api, engine) -> None:  # noqa: ANN001
    client, heads = api
    permit = _first(engine, "construction_permits")
    url = f"/api/v1/layers/construction_permits/features/{permit}/documents"
    title = "Bản vẽ xin phép xây dựng"
    sent = client.post(url, headers=heads["h-xd-editor"], data={"title": title, "kind": "drawing"},
                       files={"file": ("ban_ve.pdf", PDF_1, "application/pdf")})
    assert sent.status_code == 202, sent.text
    doc = sent.json()
    assert (doc["status"], doc["version"]) == ("pending", None)
    # Not published: the other readers do not see it, the submitter and approvers do.
    assert title not in {d["title"] for d in client.get(url, headers=heads["h-reader"]).json()["documents"]}
    assert client.get(doc["href"], headers=heads["h-reader"]).status_code == 404
    assert client.get(doc["href"], headers=heads["h-xd-editor"]).content == PDF_1
    waiting = client.get("/api/v1/documents", headers=heads["h-xd-editor2"]).json()["documents"]
    assert doc["id"] in {d["id"] for d in waiting}
    assert doc["id"] not in {d["id"] for d in client.get(
        "/api/v1/documents", headers=heads["h-xd-editor"]).json()["documents"]}
    # Never the submitter, never another department; an approver of the owner publishes it.
    own = client.post(f"{doc['href']}/approve", headers=heads["h-xd-editor"])
    assert own.status_code == 403 and own.json()["detail"]
    assert client.post(f"{doc['href']}/reject", headers=heads["h-xd-editor2"],
                       json={}).status_code == 400
    approved = client.post(f"{doc['href']}/approve", headers=heads["h-xd-editor2"])
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["version"]) == ("approved", 1)
    assert client.post(f"{doc['href']}/approve", headers=heads["h-operator"]).status_code == 409
    listed = client.get(url, headers=heads["h-reader"]).json()["documents"]
    assert [(d["title"], d["version"]) for d in listed if d["title"] == title] == [(title, 1)]
    # A rejected one is never published; the operator's upload is published at once.
    second = client.post(url, headers=heads["h-xd-editor"], data={"title": title, "kind": "drawing"},
                         files={"file": ("ban_ve_2.pdf", PDF_2, "application/pdf")}).json()
    rejected = client.post(f"{second['href']}/reject", headers=heads["h-operator"],
                           json={"reason": "Thiếu chữ ký của chủ đầu tư"})
    assert rejected.json()["status"] == "rejected"
    direct = client.post(url, headers=heads["h-operator"], data={"title": title, "kind": "drawing"},
                         files={"file": ("ban_ve_3.pdf", PDF_2, "application/pdf")})
    assert direct.status_code == 201 and direct.json()["version"] == 2
    with engine.connect() as conn:
        actions = conn.exec_driver_sql(
            "SELECT action, actor, outcome FROM audit_log WHERE details->>'document' = %(d)s",
            {"d": str(doc["id"])}).all()
    assert ("document.submit", "h-xd-editor", "ok") in actions
    assert ("document.approve", "h-xd-editor2", "ok") in actions


def test_the_layer_exported_as_a_package(api, engine) -> None:  # noqa: ANN001
    client, heads = api
    zone = _first(engine, "planning_zones")
    url = f"/api/v1/layers/planning_zones/features/{zone}/documents"
    title = "Quyết định phê duyệt điều chỉnh"
    for data, decision in ((PDF_1, "12/QĐ-UBND"), (PDF_2, "34/QĐ-UBND")):
        assert client.post(url, headers=heads["h-operator"], data={
            "title": title, "kind": "decision", "decision": decision},
            files={"file": ("quyet_dinh.pdf", data, "application/pdf")}).status_code == 201
    answer = client.get("/api/v1/layers/planning_zones/export", params={"package": "true"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    manifest = json.loads(archive.read("manifest.json"))
    layer_file = manifest["layer_file"]
    assert layer_file["path"].endswith(".gpkg")
    assert hashlib.sha256(archive.read(layer_file["path"])).hexdigest() == layer_file["sha256"]
    ours = [d for d in manifest["documents"] if d["title"] == title]
    assert [(d["version"], d["decision"]) for d in ours] == [(1, "12/QĐ-UBND"), (2, "34/QĐ-UBND")]
    for entry in manifest["documents"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert archive.read(ours[1]["path"]) == PDF_2
    # A personal layer's package is for those who may see its features.
    assert client.get("/api/v1/layers/construction_permits/export",
                      params={"package": "true"}).status_code == 401
