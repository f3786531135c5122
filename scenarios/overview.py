"""Province overviews for the map: one indicator by commune (choropleth) and the current warnings."""

from __future__ import annotations

from typing import Any

from scenarios.base import default_period
from scenarios.engine import Request, evaluate
from scenarios.incidents import list_incidents
from scenarios.indicators import INDICATORS, require_indicator
from scenarios.period import check_period
from scenarios.selection import ProvinceSelection, resolve


def data_stamp(cursor: Any) -> tuple:
    """Changes whenever a layer, a reported value or a target changes (not with incidents)."""
    cursor.execute(
        "SELECT (SELECT coalesce(sum(version), 0) FROM feature_counts), "
        "(SELECT count(*) || ':' || coalesce(max(entered_at)::text, '') FROM reported_values), "
        "(SELECT count(*) || ':' || coalesce(max(entered_at)::text, '') FROM indicator_targets)")
    return tuple(cursor.fetchone())


def choropleth(cursor: Any, indicator_id: str, period: str | None = None) -> dict[str, Any]:
    """The 38 communes with {code, name, value, target, status, unit} of one indicator."""
    indicator = require_indicator(indicator_id)
    period = check_period(period) if period else default_period()
    area = resolve(cursor, ProvinceSelection(type="province"))
    result = evaluate(cursor, Request((indicator,), area, period, "commune", drilldown_limit=0))
    by_code = {g["key"]: g["indicators"][0] for g in result["groups"]}
    cursor.execute("SELECT code, name, ST_AsGeoJSON(geom, 6)::json FROM communes ORDER BY code")
    features = []
    for code, name, geometry in cursor.fetchall():
        r = by_code.get(code, {})
        features.append({"type": "Feature", "id": code, "geometry": geometry, "properties": {
            "code": code, "name": name, "value": r.get("value"), "target": r.get("target"),
            "status": r.get("status", "no_data"), "unit": indicator.unit}})
    collection = {"type": "FeatureCollection", "indicator": indicator.id, "name": indicator.name,
                  "period": period, "features": features}
    if "disclosure" in result:
        collection["disclosure"] = result["disclosure"]
    return collection


def warnings(cursor: Any, period: str | None = None) -> dict[str, Any]:
    """Indicators not met per commune, with a point to place them; open incidents: ``warnings_incidents``."""
    period = check_period(period) if period else default_period()
    area = resolve(cursor, ProvinceSelection(type="province"))
    result = evaluate(cursor, Request(INDICATORS, area, period, "commune", drilldown_limit=0))
    cursor.execute("SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p "
                   "FROM communes) c")
    places = {code: (lon, lat) for code, lon, lat in cursor.fetchall()}
    not_met = []
    for group in result["groups"]:
        lon, lat = places.get(group["key"], (None, None))
        for r in group["indicators"]:
            if r["status"] == "not_met":
                not_met.append({"indicator": r["id"], "name": r["name"], "commune_code": group["key"],
                                "commune_name": group["name"], "value": r["value"],
                                "target": r["target"], "unit": r["unit"], "lon": lon, "lat": lat})
    return {"period": period, "indicators_not_met": not_met}


def warnings_incidents(cursor: Any) -> list[dict[str, Any]]:
    """The open incidents, newest first."""
    return [{"id": i["id"], "kind": i["kind"], "status": i["status"], "lon": i["lon"],
             "lat": i["lat"], "started_at": i["started_at"], "title": i["title"]}
            for i in list_incidents(cursor, open_only=True)]
