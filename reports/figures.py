"""The figures of a report: every number it prints, with the query that made it.

Indicator figures come from the scenario engine over the layers as they were at ``as_of`` (the end
of the period, or now for a period still running), so a past period gives the same figures
whenever it is generated again. Small cells are withheld as in every public output: a report
leaves the platform.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from psycopg2 import sql

from gis_core.errors import InvalidParameterError
from governance.access import ANONYMOUS, CURRENT
from layers.departments import DEPARTMENTS
from layers.registry import LAYERS
from reports.definitions import Definition, Section
from reports.layout import fmt
from scenarios import incidents as incident_store
from scenarios.emergency import KEYS, EmergencyParams
from scenarios.emergency import run as run_emergency
from scenarios.engine import PROVINCE, Request, evaluate
from scenarios.indicators import MEASURE_LAYER, SECTORS
from scenarios.period import check_period
from scenarios.selection import ProvinceSelection, resolve

ICT = timezone(timedelta(hours=7))


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of ``period`` in Vietnam's time."""
    period = check_period(period)
    year = int(period[:4])
    if len(period) == 4:
        return datetime(year, 1, 1, tzinfo=ICT), datetime(year + 1, 1, 1, tzinfo=ICT)
    if "Q" in period:
        first = 3 * (int(period[-1]) - 1) + 1
        months = 3
    else:
        first, months = int(period[5:]), 1
    start = datetime(year, first, 1, tzinfo=ICT)
    nxt = first + months
    end = datetime(year + (nxt > 12), (nxt - 1) % 12 + 1, 1, tzinfo=ICT)
    return start, end


def data_moment(period: str, now: datetime | None = None) -> datetime:
    """When the layers are read for ``period``: its end, or now while it runs."""
    now = now or datetime.now(UTC)
    _, end = period_bounds(period)
    return min(end - timedelta(microseconds=1), now)


def figures_hash(figures: dict[str, Any]) -> str:
    """SHA-256 of the figures, over their canonical JSON."""
    blob = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def layer_versions(cursor: Any, layers: set[str]) -> dict[str, int]:
    """The data version (feature_counts.version) of every layer read."""
    cursor.execute("SELECT layer, version FROM feature_counts WHERE layer = ANY(%s)", (sorted(layers),))
    return {r[0]: int(r[1]) for r in cursor.fetchall()}


def compute(cursor: Any, definition: Definition, period: str, params: dict[str, Any] | None = None,
            *, as_of: datetime | None = None) -> dict[str, Any]:
    """Everything the report shows: its sections' data, the flat figures, queries and versions."""
    period = definition.check_period(period)
    params = dict(params or {})
    as_of = as_of or data_moment(period)
    start, end = period_bounds(period)
    token = CURRENT.set(ANONYMOUS)  # what leaves the platform withholds small cells
    try:
        ctx = _Context(cursor, period, as_of, start, end, params)
        sections = [ctx.section(s) for s in definition.sections]
    finally:
        CURRENT.reset(token)
    counts = ctx.counts()
    for s in sections:
        if s["kind"] == "text":
            s["text"] = {lang: _fill(t, {**counts, "period": period,
                                         "as_of": as_of.astimezone(ICT).strftime("%H:%M %d/%m/%Y")})
                         for lang, t in (s["text"] or {}).items()}
    return {"report": definition.id, "period": period, "params": params,
            "as_of": as_of.isoformat(), "sections": sections, "figures": ctx.figures,
            "queries": ctx.queries, "layer_versions": layer_versions(cursor, ctx.layers)}


def _fill(template: str, values: dict[str, Any]) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", fmt(value) if value is None or isinstance(value, int | float)
                          else str(value))
    return out


class _Context:
    """The running computation of one report's sections."""

    def __init__(self, cursor: Any, period: str, as_of: datetime, start: datetime, end: datetime,
                 params: dict[str, Any]) -> None:
        self.cursor, self.period, self.as_of, self.start, self.end = cursor, period, as_of, start, end
        self.params = params
        self.figures: dict[str, Any] = {}
        self.queries: dict[str, Any] = {}
        self.layers: set[str] = set()
        self.statuses: list[str] = []
        self.extra: dict[str, Any] = {}
        self._area = resolve(cursor, ProvinceSelection(type="province"))

    def counts(self) -> dict[str, Any]:
        judged = [s for s in self.statuses if s in ("met", "at_risk", "not_met")]
        return {"judged": len(judged), "met": judged.count("met"), "at_risk": judged.count("at_risk"),
                "not_met": judged.count("not_met"), **self.extra}

    def section(self, s: Section) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": s.kind, "title": dict(s.title),
                               "text": dict(s.text) if s.text else None}
        if s.kind == "indicators":
            out.update(self.indicators(s))
        elif s.kind == "map":
            out.update(self.map(s))
        elif s.kind == "chart":
            out.update(self.chart(s))
        elif s.kind == "incidents":
            out["rows"] = self.incidents()
        elif s.kind == "incident":
            out.update(self.incident())
        elif s.kind == "activity":
            out["rows"] = self.activity()
        return out

    def _evaluate(self, inds: tuple, group_by: str) -> dict[str, Any]:
        req = Request(inds, self._area, self.period, group_by, drilldown_limit=0,  # type: ignore[arg-type]
                      as_of=self.as_of)
        for i in inds:
            self.layers |= {MEASURE_LAYER[m] for m in i.measures}
        return evaluate(self.cursor, req)

    def indicators(self, s: Section) -> dict[str, Any]:
        inds = s.chosen()
        result = self._evaluate(inds, "commune" if s.by == "commune" else "none")
        rows = []
        for group in result["groups"]:
            unit = group["key"] if s.by == "commune" else PROVINCE
            name = group["name"] if s.by == "commune" else "Toàn tỉnh"
            for r in group["indicators"]:
                key = f"{r['id']}@{unit}"
                self.figures[key] = r["value"] if r["status"] != "suppressed" else "suppressed"
                self.queries[key] = {"indicator": r["id"], "unit": unit, "period": self.period,
                                     "as_of": self.as_of.isoformat(), "numerator": r.get("numerator"),
                                     "denominator": r.get("denominator"), "kind": r["kind"]}
                if s.by == "province":
                    self.statuses.append(r["status"])
                rows.append({"key": key, "unit": unit, "unit_name": name, "id": r["id"],
                             "name": r["name"], "sector": SECTORS[r["sector"]], "unit_of": r["unit"],
                             "value": r["value"], "target": r["target"], "status": r["status"],
                             "legal_basis": r["legal_basis"]})
        return {"rows": rows, "by": s.by}

    def map(self, s: Section) -> dict[str, Any]:
        from scenarios.indicators import require_indicator

        ind = require_indicator(s.indicator or "")
        result = self._evaluate((ind,), "commune")
        values = {g["key"]: g["indicators"][0]["value"] for g in result["groups"]}
        out: dict[str, Any] = {"indicator": ind.id, "indicator_name": ind.name, "unit_of": ind.unit,
                               "values": values}
        if "incident" in self.params:
            out["incident"] = self.extra.get("_incident_shape")
        return out

    def chart(self, s: Section) -> dict[str, Any]:
        """The indicator for the province over the last ``s.periods`` periods, each as of its end."""
        from scenarios.indicators import require_indicator
        from scenarios.period import previous

        ind = require_indicator(s.indicator or "")
        periods = [self.period]
        while len(periods) < s.periods:
            periods.insert(0, previous(periods[0]))
        points = []
        for period in periods:
            as_of = min(data_moment(period), self.as_of)
            req = Request((ind,), self._area, period, "none", drilldown_limit=0, as_of=as_of)
            r = evaluate(self.cursor, req)["groups"][0]["indicators"][0]
            key = f"{ind.id}@province@{period}"
            value = r["value"] if r["status"] != "suppressed" else "suppressed"
            self.figures[key] = value
            self.queries[key] = {"indicator": ind.id, "unit": PROVINCE, "period": period,
                                 "as_of": as_of.isoformat()}
            points.append({"period": period, "value": r["value"], "target": r["target"]})
        self.layers |= {MEASURE_LAYER[m] for m in ind.measures}
        return {"indicator": ind.id, "indicator_name": ind.name, "unit_of": ind.unit,
                "points": points}

    def incidents(self) -> list[dict[str, Any]]:
        self.cursor.execute(
            "SELECT id, kind, title, started_at, status FROM incidents WHERE started_at >= %s "
            "AND started_at < %s AND created_at <= %s ORDER BY started_at, id",
            (self.start, self.end, self.as_of))
        rows = [{"id": r[0], "kind": r[1], "title": r[2],
                 "started_at": r[3].astimezone(ICT).strftime("%d/%m/%Y %H:%M"),
                 "status": incident_store.STATUS_TITLES.get(r[4], r[4])} for r in self.cursor.fetchall()]
        self.figures["incidents@province"] = len(rows)
        self.queries["incidents@province"] = {"table": "incidents", "from": self.start.isoformat(),
                                              "to": self.end.isoformat()}
        self.extra["incidents"] = len(rows)
        return rows

    def incident(self) -> dict[str, Any]:
        incident_id = self.params.get("incident")
        if not isinstance(incident_id, int):
            raise InvalidParameterError(
                "Báo cáo sự cố cần số sự cố (tham số 'incident').",
                message_en="An incident report needs the incident's number ('incident').",
                parameter="incident")
        inc = incident_store.get(self.cursor, incident_id)
        point = inc["geometry"]["type"] == "Point"
        p = EmergencyParams(kind=inc["kind"], radius_m=max(inc["radius_m"], 0 if not point else 1),
                            lon=inc["lon"] if point else None, lat=inc["lat"] if point else None,
                            geometry=None if point else inc["geometry"])
        affected = run_emergency(self.cursor, p).result["affected"]
        self.layers |= {"housing", "schools", "health_facilities"}
        totals = {k: affected.get(k) for k in (*KEYS, "schools", "students", "health_facilities")}
        for k, v in totals.items():
            self.figures[f"incident.{k}"] = v
            self.queries[f"incident.{k}"] = {"incident": incident_id, "scenario": "emergency",
                                             "radius_m": inc["radius_m"]}
        communes = [{"code": c["code"], "name": c["name"], **{k: c.get(k) for k in KEYS}}
                    for c in affected["communes"]]
        self.extra.update(affected_communes=len(communes), households=totals["households"],
                          people=totals["people"], poor=totals["poor_households"],
                          temporary=totals["temporary_houses"], _incident_shape=inc["geometry"])
        return {"incident": {k: inc[k] for k in ("id", "kind", "title", "started_at", "status_title",
                                                 "radius_m", "lon", "lat")},
                "totals": totals, "communes": communes}

    def activity(self) -> list[dict[str, Any]]:
        c, start, end = self.cursor, self.start, min(self.end, self.as_of)
        queries = {
            "accounts_active": ("SELECT count(*) FROM accounts WHERE status = 'active' AND "
                                "created_at < %(end)s", "Tài khoản đang hoạt động"),
            "sign_ins": ("SELECT count(*) FROM audit_log WHERE action = 'login' AND outcome = 'ok' "
                         "AND at >= %(start)s AND at < %(end)s", "Lượt đăng nhập"),
            "edits_approved": ("SELECT count(*) FROM pending_edits WHERE status = 'approved' AND "
                               "reviewed_at >= %(start)s AND reviewed_at < %(end)s",
                               "Chỉnh sửa dữ liệu được duyệt"),
            "imports_done": ("SELECT count(*) FROM import_jobs WHERE finished_at >= %(start)s AND "
                             "finished_at < %(end)s AND status = 'imported'",
                             "Lượt nhập dữ liệu được áp dụng"),
            "features_changed": ("SELECT count(*) FROM feature_history WHERE changed_at >= %(start)s "
                                 "AND changed_at < %(end)s", "Bản ghi dữ liệu được cập nhật"),
            "reported_values": ("SELECT count(*) FROM reported_values WHERE entered_at >= %(start)s "
                                "AND entered_at < %(end)s", "Số liệu chỉ tiêu được nhập"),
        }
        rows = []
        for key, (query, label) in queries.items():
            c.execute(query, {"start": start, "end": end})
            value = int(c.fetchone()[0])
            self.figures[f"activity.{key}"] = value
            self.queries[f"activity.{key}"] = {"sql": query, "from": start.isoformat(),
                                               "to": end.isoformat()}
            self.extra[key] = value
            rows.append({"key": f"activity.{key}", "label": label, "value": value, "unit": ""})
        newest: dict[str, datetime | None] = {}
        for layer in LAYERS:  # data freshness per department: its newest write before the end
            c.execute(sql.SQL("SELECT max(updated_at) FROM {} WHERE updated_at < %s").format(
                sql.Identifier(layer.id)), (end,))
            found = c.fetchone()[0]
            prev = newest.get(layer.owner)
            newest[layer.owner] = max(d for d in (found, prev) if d) if found or prev else None
        for owner, updated in sorted(newest.items()):
            key = f"freshness.{owner}"
            value = updated.astimezone(ICT).strftime("%d/%m/%Y") if updated else None
            self.figures[key] = value
            self.queries[key] = {"sql": "max(updated_at) of the department's layers", "to": end.isoformat()}
            title = DEPARTMENTS.get(owner, {}).get("vi", owner)
            rows.append({"key": key, "label": f"Dữ liệu cập nhật gần nhất – {title}", "value": value,
                         "unit": ""})
        return rows

