"""``/api/v1/opinion``: what is said online, for the operators and leaders: items (text, never
the author unless asked for with a reason, audited), their corrections (training examples),
spikes, skipped inputs, an item made into a feedback case or an incident, the model versions
and their retraining, and the declared villages. The public see only the ``opinion_points``
layer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, Response, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.auth import require_role
from api.feedback_http import engine_and_key
from api.scenario_http import respond
from feedback import cases
from gis_core.errors import InvalidParameterError
from governance.access import INCIDENT_REPORTERS, Principal
from opinion import learning, schedule, villages, watch
from scenarios import incidents
from scenarios.emergency import KIND_TITLES, IncidentKind

router = APIRouter(tags=["opinion"])
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1, description="số của mục / item number")]
API = "/api/v1/opinion"
WATCHERS = frozenset({"operator", "leader"})


def _watcher(request: Request) -> Principal:
    return require_role(request, WATCHERS, event="opinion.denied",
                        message="Vai trò '{role}' không theo dõi dư luận.",
                        message_en="The role '{role}' does not monitor public opinion.")


def _operator(request: Request) -> Principal:
    return require_role(request, frozenset({"operator"}), event="opinion.denied",
                        message="Chỉ bộ phận vận hành (operator) được làm việc này.",
                        message_en="Only operators may do this.")


def _json(body: Any, status: int = 200) -> Response:
    return respond(jsonable_encoder(body), status=status)


def _queued(job: int) -> JSONResponse:
    location = f"/api/v1/jobs/{job}"
    return JSONResponse({"id": job, "status": "queued", "links": {"self": location}},
                        status_code=202, headers={"Location": location})


@router.get(f"{API}/items", summary="Tin, bài đăng đã thu thập / Items gathered")
def list_items(request: Request, commune: str | None = None, sector: str | None = None,
               urgent: bool | None = None, limit: int = Query(100, ge=1, le=1000),
               offset: int = Query(0, ge=0)) -> Response:
    """Newest first, with sector, tone, urgency, commune and text; no author."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        return _json({"items": watch.items(conn, commune=commune, sector=sector, urgent=urgent,
                                           limit=limit, offset=offset)})


@router.get(f"{API}/items/{{item_id}}", summary="Một mục / One item")
def one_item(request: Request, item_id: ItemId) -> Response:
    """One item, without its author."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        return _json(watch.item(conn, item_id))


@router.get(f"{API}/items/{{item_id}}/author", summary="Tác giả (có lý do) / Author (with reason)")
def item_author(request: Request, item_id: ItemId) -> Response:
    """The author handle: personal data, given with a reason (``X-Reason``) and audited."""
    principal = _watcher(request)
    with request.app.state.engine.begin() as conn:
        return _json(watch.author(conn, principal, item_id))


class CaseRequest(BaseModel):
    """Optional choices when an item becomes a case."""

    service_code: str | None = Field(None, max_length=50)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


@router.post(f"{API}/items/{{item_id}}/case", status_code=201,
             summary="Tạo phản ánh từ mục này / Make it a case")
def make_case(request: Request, item_id: ItemId, body: CaseRequest | None = None) -> Response:
    """Open a feedback case for the item (201), or answer the case it already has (200)."""
    principal = _watcher(request)
    engine, secret = engine_and_key(request)
    body = body or CaseRequest()
    with engine.begin() as conn:
        found = watch.item(conn, item_id, lock=True)  # a second click waits, then finds the case
        if found["case_id"] is not None:
            case, new = cases.get(conn, found["case_id"]), False
        else:
            if found["lat"] is None and (body.lat is None or body.lon is None):
                raise InvalidParameterError(
                    "Mục dư luận chưa xác định được xã: gửi lat và lon của nơi xảy ra.",
                    message_en="The item names no commune: send the lat and lon of where it "
                    "happens.", parameter="lat")
            case, new = cases.submit(conn, secret, cases.Submission(
                service_code=body.service_code or watch.SERVICE[found["sector"]],
                description=watch.case_text(found),
                lat=body.lat if body.lat is not None else found["lat"],
                lon=body.lon if body.lon is not None else found["lon"],
                client_token=f"opinion-{item_id}", channel="opinion"),
                actor=principal.username or "")
            watch.attach_case(conn, principal, item_id, case["id"])
        state = cases.deadline_state(case)
    return _json({"item": item_id, "case": {k: v for k, v in case.items() if k != "token"},
                  "deadline": state}, status=201 if new else 200)


@router.get(f"{API}/spikes", summary="Tăng đột biến / Spikes")
def list_spikes(request: Request, day: date | None = None) -> Response:
    """Communes and sectors with more posts on ``day`` (default today) than usual: warnings."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        found = watch.spikes(conn, day or cases.today())
    return _json({"day": (day or cases.today()).isoformat(),
                  "warnings": [s.as_dict() for s in found]})


@router.get(f"{API}/skips", summary="Đầu vào bị bỏ qua / Skipped inputs")
def list_skips(request: Request, limit: int = Query(100, ge=1, le=1000)) -> Response:
    """What the runs did not keep, and why, newest first."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(text("SELECT at, source, ref, reason, detail FROM opinion_skips "
                                 "ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings()
        return _json({"skips": [dict(r) for r in rows]})


class CorrectionRequest(BaseModel):
    """New labels of an item (a label left out stays as it is) and the latest correction the
    operator saw (``based_on``: the item's ``correction_id``, null when it had none)."""

    sector: str | None = Field(None, max_length=50)
    tone: str | None = Field(None, max_length=50)
    urgent: bool | None = None
    commune_code: str | None = Field(None, max_length=20,
                                     description="mã xã; null: không nêu xã nào / names none")
    based_on: int | None = None


@router.post(f"{API}/items/{{item_id}}/correction",
             summary="Sửa nhãn của mục (dữ liệu huấn luyện) / Correct an item's labels")
def correct_item(request: Request, item_id: ItemId, body: CorrectionRequest) -> Response:
    """Correct sector, tone, urgency or commune; kept as a labelled example with who and when
    (audited). The item's row is locked: a correction made since ``based_on`` is a 409."""
    principal = _watcher(request)
    change = learning.Correction(body.sector, body.tone, body.urgent, body.commune_code,
                                 place="commune_code" in body.model_fields_set)
    with request.app.state.engine.begin() as conn:
        return _json(learning.correct(conn, principal, item_id, change, body.based_on))


@router.get(f"{API}/items/{{item_id}}/corrections",
            summary="Các lần sửa nhãn / An item's corrections")
def item_corrections(request: Request, item_id: ItemId) -> Response:
    """Who corrected the item, when, from which labels to which, newest first."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        watch.item(conn, item_id)
        rows = conn.execute(text(
            "SELECT id, sector, tone, urgent, commune_code, previous, corrected_by, corrected_at "
            "FROM opinion_corrections WHERE item_id = :id ORDER BY id DESC"), {"id": item_id})
        return _json({"corrections": [dict(r) for r in rows.mappings()]})


class IncidentRequest(BaseModel):
    """Optional choices when an item becomes an incident."""

    kind: IncidentKind | None = None
    title: str | None = Field(None, min_length=1, max_length=300)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    radius_m: float = Field(1000, gt=0, le=50_000, description="with lon/lat only")


@router.post(f"{API}/items/{{item_id}}/incident", status_code=201,
             summary="Mở sự cố từ mục này / Open an incident from this item")
def make_incident(request: Request, item_id: ItemId, body: IncidentRequest | None = None
                  ) -> Response:
    """Open an incident of the emergency scenario for the item (201): its commune is the
    incident's area (or ``lon``/``lat`` and ``radius_m`` for an unplaced item), the item is
    attached. The item's row is the arbiter: a second click answers the same incident (200)."""
    principal = _watcher(request)
    require_role(request, INCIDENT_REPORTERS, event="write.denied",
                 message="Vai trò '{role}' không được mở sự cố.",
                 message_en="The role '{role}' may not open incidents.")
    body = body or IncidentRequest()
    with request.app.state.engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # the scenarios' cursor API, same tx
        found = watch.item(conn, item_id, lock=True)  # a second click waits, then finds it
        new = found["incident_id"] is None
        if new:
            kind = body.kind or watch.incident_kind(found["body"])
            area: dict[str, Any]
            if body.lon is not None and body.lat is not None:
                area = {"lon": body.lon, "lat": body.lat, "radius_m": body.radius_m}
            elif found["commune_code"]:
                area = {"geometry": watch.commune_area(conn, found["commune_code"]),
                        "radius_m": 0}
            else:
                raise InvalidParameterError(
                    "Mục dư luận chưa xác định được xã: gửi lon, lat (và radius_m) của nơi xảy "
                    "ra.", message_en="The item names no commune: send the lon, lat (and "
                    "radius_m) of where it happens.", parameter="lon")
            title = body.title or watch.incident_title(found, KIND_TITLES[kind])
            incident_id = incidents.create(cursor, incidents.IncidentIn(
                kind=kind, title=title, time=found["published_at"], **area), principal.label)
            watch.attach_incident(conn, principal, item_id, incident_id)
        else:
            incident_id = found["incident_id"]
        incident = incidents.get(cursor, incident_id)
    return _json({"item": item_id, "incident": incident}, status=201 if new else 200)


@router.get(f"{API}/models", summary="Các phiên bản mô hình / Model versions")
def list_models(request: Request) -> Response:
    """Every trained version with what it learnt from, its figures on the held-out part, the
    active model's figures it was compared with, and the decision."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        return _json({"versions": learning.versions(conn)})


@router.post(f"{API}/models/retrain", status_code=202,
             summary="Huấn luyện lại với các lần sửa / Retrain with the corrections")
def retrain(request: Request) -> Response:
    """Queue a retraining (202 and the job): trained on the shipped set plus the corrections,
    activated only when not worse on the held-out part; recent items are classified again."""
    principal = _operator(request)
    return _queued(schedule.submit_retrain(request.app.state.engine, principal.label))


@router.get(f"{API}/villages", summary="Làng, bản đã khai báo / Declared villages")
def list_villages(request: Request, commune: str | None = None) -> Response:
    """The villages of the gazetteer, with commune, position, variants and source."""
    _watcher(request)
    with request.app.state.engine.connect() as conn:
        return _json({"villages": villages.listing(conn, commune)})


@router.post(f"{API}/villages", status_code=202,
             summary="Nhập danh sách làng, bản (CSV) / Import the villages (CSV)")
async def import_villages(request: Request, file: Annotated[UploadFile, File()]) -> Response:
    """Replace the declared villages by a CSV (name, commune_code, lon, lat, variants, source):
    the file is read at once (422 listing its problems), then imported by a job (202), all rows
    or none."""
    principal = _operator(request)
    data = await file.read(villages.MAX_BYTES + 1)
    villages.read(data)
    return _queued(schedule.submit_villages(request.app.state.engine,
                                            data.decode("utf-8-sig"), principal.label))


