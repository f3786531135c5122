"""A layer as it was at a past moment (``?as_of=``), and the change history of one feature."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import Caller, Db
from gis_core.errors import InvalidParameterError, NotFoundError
from governance.access import require_features
from layers.history import feature_changes, features_as_of
from layers.registry import require_layer

router = APIRouter(prefix="/api/v1", tags=["history"])


def _moment(text: str) -> datetime:
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text)
            return datetime.combine(day.date(), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameterError(
            f"Tham số 'as_of' không hợp lệ: '{text}'; dùng ngày (2025-07-01) hoặc thời điểm RFC 3339.",
            message_en=f"Parameter 'as_of' is invalid: '{text}'; use a date (2025-07-01) or an "
            "RFC 3339 timestamp.", parameter="as_of") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/layers/{layer_id}/features", summary="Đối tượng tại một thời điểm / Features as of")
def layer_as_of(
    layer_id: str, cursor: Db, caller: Caller,
    as_of: str = Query(..., description="2025-07-01 hoặc RFC 3339"),
    limit: int = Query(100, ge=1, le=10_000), offset: int = Query(0, ge=0),
) -> Response:
    """The layer's features as they were at ``as_of`` (a date means the end of that day, UTC)."""
    layer = require_layer(layer_id)
    require_features(caller, layer)
    moment = _moment(as_of)
    features, matched = features_as_of(cursor, layer, moment, limit=limit, offset=offset)
    body = (f'{{"type":"FeatureCollection","as_of":"{moment.isoformat()}",'
            f'"numberMatched":{matched},"features":{features}}}')
    return Response(body, media_type="application/geo+json")


@router.get("/layers/{layer_id}/features/{feature_id}/history",
            summary="Lịch sử thay đổi một đối tượng / Change history of a feature")
def history(layer_id: str, feature_id: int, cursor: Db, caller: Caller) -> dict[str, Any]:
    """Every recorded change: when, who, from which import or edit, and the changed public values."""
    layer = require_layer(layer_id)
    require_features(caller, layer)
    changes = feature_changes(cursor, layer, feature_id)
    if not changes:
        raise NotFoundError(f"Không có lịch sử cho đối tượng {feature_id} của lớp '{layer.id}'.",
                            message_en=f"No history for feature {feature_id} of '{layer.id}'.")
    return {"layer": layer.id, "id": feature_id, "changes": changes}
