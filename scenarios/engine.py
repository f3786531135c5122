"""The scenario engine: indicators evaluated over a selection, grouped, measured against targets.

For every group and indicator the result gives the value, the target and its legal basis, the gap,
a status (met, at_risk, not_met; no_target or no_data when it cannot be judged), the trend against
the previous period, and, behind every red flag, the features that cause it (public fields only).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from psycopg2 import sql

from governance.access import CURRENT, MIN_CELL, may_see_features, withholds_small_cells
from layers.history import as_of_relation
from layers.registry import require_layer
from layers.spec import LayerSpec
from scenarios.indicators import (
    LINE_LAYERS,
    MEASURE_LAYER,
    MEASURES,
    RECORD_COUNTS,
    SECTORS,
    Indicator,
)
from scenarios.period import previous, year_of
from scenarios.selection import Area

GroupBy = Literal["commune", "sector", "period", "none"]
MAX_DRILLDOWN = 5000  # features behind the red flags in one result, whatever the flags
PROVINCE = "province"
_NO_DATA = {"vi": "Không có số liệu cho kỳ này.", "en": "No data for this period."}
_SUPPRESSED = {"vi": f"Ẩn: vùng có ít hơn {MIN_CELL} hộ; số liệu về rất ít hộ chỉ dành cho cán bộ "
                     "đã đăng nhập.",
               "en": f"Withheld: fewer than {MIN_CELL} households here; figures about so few "
                     "households are for signed-in staff only."}
_NO_HISTORY = {"vi": "Chỉ tiêu tính từ dữ liệu hiện có của các lớp; không có số liệu các kỳ trước.",
               "en": "Computed from the layers as they are now; earlier periods have no data."}


@dataclass
class Request:
    """What to evaluate: indicators over an area, grouped, for a period."""

    indicators: tuple[Indicator, ...]
    area: Area
    period: str
    group_by: GroupBy = "commune"
    at_risk_margin: float = 0.1
    drilldown_limit: int = 20
    thresholds: dict[str, float] = field(default_factory=dict)  # indicator id → target override
    threshold_basis: str = ""
    as_of: datetime | None = None  # the layers as they were then (their history), not as now


@dataclass
class _Group:
    key: str
    name: str
    unit: str | None  # the unit whose reported values and own targets apply ('province', a code)
    codes: list[str | None] | None  # communes whose measures add up to this group (None: all)
    period: str
    indicators: tuple[Indicator, ...]


def withheld_layers() -> frozenset[str]:
    """People layers on which the current caller gets no figure about fewer than ``MIN_CELL``
    records (also a cache key: answers differ by it)."""
    caller = CURRENT.get()
    return frozenset(layer for layer in RECORD_COUNTS
                     if withholds_small_cells(caller, require_layer(layer)))


def small_cell_note(suppressed: int) -> dict[str, Any]:
    """What a result tells a caller to whom small cells are withheld."""
    return {"min_households": MIN_CELL, "suppressed": suppressed,
            "vi": f"Số liệu về ít hơn {MIN_CELL} hộ được ẩn (như thống kê nhà nước công bố bảng số "
                  f"liệu); đăng nhập để xem. Số ô bị ẩn: {suppressed}.",
            "en": f"Figures about fewer than {MIN_CELL} households are withheld (as statistical "
                  f"offices publish tables); sign in to see them. Cells withheld: {suppressed}."}


def _small(ind: Indicator, group: _Group, measures: dict, withheld: frozenset[str]) -> bool:
    """Whether the indicator's figure for the group describes fewer than ``MIN_CELL`` records of
    a people layer the caller may not see."""
    for layer in {MEASURE_LAYER[m] for m in ind.measures} & withheld:
        records = _sum(measures, group.codes, RECORD_COUNTS[layer])
        if 0 < records < MIN_CELL:
            return True
    return False


def is_intensive(indicator: Indicator) -> bool:
    """Rates and ratios: a province target applies to each commune too; counts do not."""
    zero_target = bool(indicator.targets) and all(t.value == 0 for t in indicator.targets)
    return indicator.denominator is not None or "%" in indicator.unit or zero_target


def measure_statements(area: Area, needed: set[str], as_of: bool = False
                       ) -> list[tuple[list[str], sql.Composable]]:
    """One aggregate query per layer: (measure names, SQL giving commune code then the measures);
    with ``as_of``, over the layer's rows valid at ``%(_t)s`` (bind ``_t`` and ``_layer``)."""
    by_layer: dict[str, list[str]] = defaultdict(list)
    for m in sorted(needed):
        by_layer[MEASURE_LAYER[m]].append(m)
    statements = []
    for layer, names in by_layer.items():
        line = layer in LINE_LAYERS
        exprs = sql.SQL(", ").join(sql.SQL(MEASURES[layer][m]) for m in names)
        source = as_of_relation(require_layer(layer)) if as_of else sql.Identifier(layer)
        rows = sql.SQL("(SELECT f.*, {} AS len_km FROM {} f WHERE {})").format(
            area.length_km("f"), source, area.contains("f", True)) if line \
            else sql.SQL("{} f WHERE {}").format(source, area.contains("f"))
        # Lines: each row's clipped geodesic length is computed once, then summed by the filters.
        statements.append((names, sql.SQL(
            "SELECT f.commune_code, {} FROM {} {} GROUP BY f.commune_code").format(
            exprs, rows, sql.SQL("f") if line else sql.SQL(""))))
    return statements


def _measures(cursor: Any, area: Area, needed: set[str], as_of: datetime | None = None
              ) -> dict[str | None, dict[str, float]]:
    """commune code → measure → value, one query per layer."""
    out: dict[str | None, dict[str, float]] = defaultdict(dict)
    for names, query in measure_statements(area, needed, as_of is not None):
        cursor.execute(query, {**area.params, "_t": as_of, "_layer": MEASURE_LAYER[names[0]]})
        for row in cursor.fetchall():
            for name, value in zip(names, row[1:], strict=True):
                out[row[0]][name] = float(value or 0)
    return out


def _sum(measures: dict[str | None, dict[str, float]], codes: list[str | None] | None,
         name: str) -> float:
    keys = measures.keys() if codes is None else codes
    return sum(measures.get(k, {}).get(name, 0.0) for k in keys)


def _targets(cursor: Any, ids: list[str], periods: list[str]) -> dict[tuple[str, str, str], tuple]:
    """(indicator, period, unit) → (value, legal basis) from the targets table."""
    cursor.execute("SELECT indicator, period, unit_code, value, legal_basis FROM indicator_targets "
                   "WHERE indicator = ANY(%s) AND period = ANY(%s)", (ids, periods))
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in cursor.fetchall()}


def _reported(cursor: Any, ids: list[str], periods: list[str]) -> dict[tuple[str, str, str], tuple]:
    """(indicator, period, unit) → (value, entered_by) of the reported values."""
    cursor.execute("SELECT indicator, period, unit_code, value, entered_by FROM reported_values "
                   "WHERE indicator = ANY(%s) AND period = ANY(%s)", (ids, periods))
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in cursor.fetchall()}


def _target_for(ind: Indicator, group: _Group, table: dict, req: Request) -> tuple[float, str] | None:
    if ind.id in req.thresholds:
        return req.thresholds[ind.id], req.threshold_basis
    year = str(year_of(group.period))
    units = [group.unit] if group.unit else []
    if group.unit != PROVINCE and is_intensive(ind):
        units.append(PROVINCE)
    for unit in units:
        for period in dict.fromkeys((group.period, year)):
            if (ind.id, period, unit) in table:
                return table[(ind.id, period, unit)]
    if units and (group.unit == PROVINCE or is_intensive(ind)):
        declared = ind.declared_target(int(year))
        if declared:
            return declared.value, declared.legal_basis
    return None


def status_of(value: float, target: float, direction: str, margin: float) -> str:
    """met, at_risk (short of the target by at most ``margin`` of it) or not_met."""
    if direction == "higher":
        if value >= target:
            return "met"
        return "at_risk" if value >= target - abs(target) * margin else "not_met"
    if value <= target:
        return "met"
    return "at_risk" if value <= target + abs(target) * margin else "not_met"


def _trend(ind: Indicator, value: float | None, prev: float | None, prev_period: str) -> dict | None:
    if value is None or prev is None:
        return None
    change = value - prev
    better = change > 0 if ind.direction == "higher" else change < 0
    return {"previous_period": prev_period, "previous_value": prev, "change": round(change, 4),
            "direction": "stable" if abs(change) < 1e-9 else ("improving" if better else "worsening")}


def _evaluate_one(ind: Indicator, group: _Group, measures: dict, reported: dict, targets: dict,
                  req: Request, withheld: frozenset[str] = frozenset()) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": ind.id, "name": ind.name, "sector": ind.sector, "kind": ind.kind, "unit": ind.unit,
        "direction": ind.direction, "period": group.period, "value": None, "target": None,
        "legal_basis": None, "gap": None, "status": "no_data", "trend": None, "note": None,
    }
    prev_period = previous(group.period)
    if ind.kind == "computed":
        if group.period != req.period:
            result["note"] = _NO_HISTORY
            return result
        if _small(ind, group, measures, withheld):
            result["status"], result["note"] = "suppressed", _SUPPRESSED
            return result
        num = _sum(measures, group.codes, ind.numerator or "")
        den = _sum(measures, group.codes, ind.denominator) if ind.denominator else None
        result["numerator"], result["denominator"] = num, den
        if den == 0:
            result["note"] = {"vi": "Không có đối tượng để tính trong vùng chọn.",
                              "en": "Nothing to compute over in the selection."}
            return result
        value = ind.scale * num / den if den is not None else ind.scale * num
        result["note"] = _NO_HISTORY
    else:
        if group.unit is None:
            result["note"] = {"vi": "Chỉ tiêu báo cáo theo đơn vị: chọn một xã hoặc toàn tỉnh.",
                              "en": "Reported per unit: choose one commune or the whole province."}
            return result
        entry = reported.get((ind.id, group.period, group.unit))
        if entry is None:
            result["note"] = _NO_DATA
            return result
        value = float(entry[0])
        result["entered_by"] = entry[1]
        prev = reported.get((ind.id, prev_period, group.unit))
        result["trend"] = _trend(ind, value, float(prev[0]) if prev else None, prev_period)
    result["value"] = round(value, 4)
    target = _target_for(ind, group, targets, req)
    if target is None:
        result["status"] = "no_target"
        return result
    result["target"], result["legal_basis"] = target[0], target[1]
    result["gap"] = round(value - target[0], 4)
    result["status"] = status_of(value, target[0], ind.direction, req.at_risk_margin)
    return result


def _groups(req: Request) -> list[_Group]:
    area, inds, period = req.area, req.indicators, req.period
    whole_unit = PROVINCE if area.is_province else (
        area.codes[0] if area.codes is not None and len(area.codes) == 1 else None)
    whole_codes: list[str | None] | None = None if area.is_province or area.codes is None \
        else list(area.codes)
    if req.group_by == "commune":
        return [_Group(code, name, code, [code], period, inds) for code, name in area.communes]
    if req.group_by == "sector":
        return [_Group(s, SECTORS[s]["vi"], whole_unit, whole_codes, period,
                       tuple(i for i in inds if i.sector == s))
                for s in SECTORS if any(i.sector == s for i in inds)]
    if req.group_by == "period":
        periods = [period, previous(period), previous(previous(period))]
        return [_Group(p, p, whole_unit, whole_codes, p, inds) for p in periods]
    name = area.description.get("vi", "Vùng chọn")
    return [_Group("selection", name, whole_unit, whole_codes, period, inds)]


def public_props(layer: LayerSpec) -> sql.Composable:
    """``'name', f.name, …`` over the layer's public fields, for ``json_build_object``."""
    return sql.SQL(", ").join(
        sql.SQL("{}, f.{}").format(sql.Literal(fs.name), sql.Identifier(fs.name))
        for fs in layer.public_fields)


def _drilldown(cursor: Any, req: Request, flags: list[tuple[Indicator, _Group]]
               ) -> tuple[list[dict], bool]:
    """Features behind the red flags, public fields only, at most ``drilldown_limit`` per flag
    and ``MAX_DRILLDOWN`` in all; and whether that ceiling cut the list.

    One pass per layer: each row is tested against the area once and tagged with every flagged
    indicator whose condition it meets; GeoJSON is built only for the rows kept.
    """
    by_layer: dict[str, dict[str, set[str] | None]] = defaultdict(dict)
    for ind, group in flags:
        if ind.drill is None:
            continue
        flagged = by_layer[ind.drill.layer]
        if group.codes is None or flagged.get(ind.id, set()) is None:
            flagged[ind.id] = None
        else:
            flagged[ind.id] = (flagged.get(ind.id) or set()) | {c for c in group.codes if c}
    features: list[dict] = []
    conditions = {i.id: i.drill.where for i in req.indicators if i.drill is not None}
    caller = CURRENT.get()
    for layer_id, flagged in by_layer.items():
        layer = require_layer(layer_id)
        if not may_see_features(caller, layer):
            continue  # the public sees counts of households, never their houses
        tags = sql.SQL(", ").join(
            sql.SQL("({}, {}::text[], ({}))").format(
                sql.Literal(ind_id), sql.Literal(sorted(codes) if codes is not None else None),
                sql.SQL(conditions[ind_id]))
            for ind_id, codes in flagged.items())
        part = sql.SQL(", f.commune_code") if req.group_by == "commune" else sql.SQL("")
        query = sql.SQL(
            "SELECT json_build_object('type', 'Feature', 'id', f.id, 'geometry', "
            "ST_AsGeoJSON(f.geom, 6)::json, 'properties', json_build_object('role', 'drilldown', "
            "'layer', {layer}, 'indicator', k.ind, 'id', f.id, {props})) "
            "FROM (SELECT f.id, d.ind, row_number() OVER (PARTITION BY d.ind{part} ORDER BY f.id) "
            "AS rn FROM {table} f CROSS JOIN LATERAL (VALUES {tags}) AS d(ind, codes, hit) "
            "WHERE {area} AND d.hit AND (d.codes IS NULL OR f.commune_code = ANY(d.codes))) k "
            "JOIN {table} f ON f.id = k.id WHERE k.rn <= %(drill_limit)s ORDER BY k.ind, f.id "
            "LIMIT %(room)s"
        ).format(layer=sql.Literal(layer.id), props=public_props(layer), part=part,
                 table=sql.Identifier(layer.id), tags=tags,
                 area=req.area.contains("f", layer.id in LINE_LAYERS))
        room = MAX_DRILLDOWN - len(features)
        cursor.execute(query, {**req.area.params, "drill_limit": req.drilldown_limit,
                               "room": room + 1})
        rows = cursor.fetchall()
        features.extend(r[0] for r in rows[:room])
        if len(rows) > room:
            return features, True
    return features, False


def nearest(cursor: Any, lon: float, lat: float, layer_id: str, limit: int = 3) -> list[dict]:
    """The ``limit`` features of ``layer_id`` nearest to a point, with geodesic distances (m)."""
    layer = require_layer(layer_id)
    query = sql.SQL(
        "WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g) "
        "SELECT json_build_object('id', f.id, 'layer', {layer}, 'lon', ST_X(f.geom), "
        "'lat', ST_Y(f.geom), 'distance_m', round(ST_Distance(f.geom::geography, p.g)::numeric, 1),"
        " {props}) FROM {table} f, p "
        "ORDER BY f.geom::geography <-> p.g LIMIT %(limit)s"
    ).format(layer=sql.Literal(layer.id), props=public_props(layer), table=sql.Identifier(layer.id))
    cursor.execute(query, {"lon": lon, "lat": lat, "limit": limit})
    return [r[0] for r in cursor.fetchall()]


def evaluate(cursor: Any, req: Request) -> dict[str, Any]:
    """Evaluate ``req``: groups with their indicator results, warnings and drill-down features."""
    groups = _groups(req)
    needed = {m for i in req.indicators if i.kind == "computed" for m in i.measures}
    withheld = withheld_layers() & {MEASURE_LAYER[m] for m in needed}
    needed |= {RECORD_COUNTS[layer] for layer in withheld}
    measures = _measures(cursor, req.area, needed, req.as_of) if needed else {}
    ids = [i.id for i in req.indicators]
    periods = sorted({p for g in groups for p in (g.period, previous(g.period), str(year_of(g.period)))})
    targets = _targets(cursor, ids, periods)
    reported = _reported(cursor, [i.id for i in req.indicators if i.kind == "reported"], periods)
    out_groups: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    flags: list[tuple[Indicator, _Group]] = []
    for group in groups:
        results = [_evaluate_one(i, group, measures, reported, targets, req, withheld)
                   for i in group.indicators]
        out_groups.append({"key": group.key, "name": group.name, "period": group.period,
                           "indicators": results})
        for ind, res in zip(group.indicators, results, strict=True):
            if res["status"] in ("not_met", "at_risk"):
                warnings.append(_warning(ind, group, res))
            if res["status"] == "not_met":
                flags.append((ind, group))
    drill, cut = _drilldown(cursor, req, flags) if req.drilldown_limit > 0 and flags else ([], False)
    result: dict[str, Any] = {
        "period": req.period, "group_by": req.group_by, "at_risk_margin": req.at_risk_margin,
        "selection": {"kind": req.area.kind, "description": req.area.description,
                      "communes": [{"code": c, "name": n} for c, n in req.area.communes]},
        "groups": out_groups, "warnings": warnings,
        "drilldown": {"type": "FeatureCollection", "features": drill, "truncated": cut},
    }
    if withheld:
        result["disclosure"] = small_cell_note(
            sum(r["status"] == "suppressed" for g in out_groups for r in g["indicators"]))
    if req.area.kind == "point" and req.area.centre:
        lon, lat = req.area.centre
        result["nearest"] = {layer: nearest(cursor, lon, lat, layer)
                             for layer in ("health_facilities", "schools")}
    return result


def _warning(ind: Indicator, group: _Group, res: dict[str, Any]) -> dict[str, Any]:
    verb_vi = "chưa đạt" if res["status"] == "not_met" else "có nguy cơ không đạt"
    verb_en = "is not met" if res["status"] == "not_met" else "is at risk"
    return {
        "group": group.key, "group_name": group.name, "indicator": ind.id, "name": ind.name,
        "status": res["status"], "value": res["value"], "target": res["target"], "unit": ind.unit,
        "message": {
            "vi": f"{group.name}: {ind.name['vi']} {verb_vi} ({res['value']:g} so với mục tiêu "
                  f"{res['target']:g} {ind.unit}).",
            "en": f"{group.name}: {ind.name['en']} {verb_en} ({res['value']:g} against a target "
                  f"of {res['target']:g} {ind.unit}).",
        },
    }


def to_geojson(cursor: Any, req: Request, result: dict[str, Any]) -> dict[str, Any]:
    """The result as one FeatureCollection for the map: a feature per group, then the drill-down."""
    features: list[dict[str, Any]] = []
    if req.group_by == "commune":
        cursor.execute("SELECT code, ST_AsGeoJSON(geom, 6)::json FROM communes WHERE code = ANY(%s)",
                       ([g["key"] for g in result["groups"]],))
        shapes = dict(cursor.fetchall())
    else:
        area = req.area
        shape = sql.SQL("(SELECT ST_Union(geom) FROM communes)") if area.is_province else area.shape()
        cursor.execute(sql.SQL("SELECT ST_AsGeoJSON({}, 6)::json").format(shape), area.params)
        whole = cursor.fetchone()[0]
        shapes = {g["key"]: whole for g in result["groups"]}
    for g in result["groups"]:
        props: dict[str, Any] = {"role": "group", "key": g["key"], "name": g["name"],
                                 "period": g["period"], "indicators": g["indicators"]}
        for r in g["indicators"]:
            props[f"{r['id']}.value"] = r["value"]
            props[f"{r['id']}.status"] = r["status"]
        features.append({"type": "Feature", "id": g["key"], "geometry": shapes.get(g["key"]),
                         "properties": props})
    features.extend(result["drilldown"]["features"])
    meta = {k: v for k, v in result.items() if k not in ("groups", "drilldown")}
    # A flat list for map panels: every judged figure, worst first.
    order = {"not_met": 0, "at_risk": 1, "met": 2, "no_target": 3, "no_data": 4, "suppressed": 5}
    summary = sorted(({"id": r["id"], "name": r["name"], "group": g["name"], "value": r["value"],
                       "unit": r["unit"], "status": r["status"]}
                      for g in result["groups"] for r in g["indicators"]),
                     key=lambda r: order[r["status"]])
    return {"type": "FeatureCollection", "features": features, **meta, "summary": summary}
