"""The raw-SQL floor: the same GeoJSON page (or tile) built by PostGIS alone, on one connection.

Each query returns the finished document as text (FeatureCollection with numberMatched, or the
MVT bytes), so its time is what any server must at least spend in the database for the request.
"""

from __future__ import annotations

import statistics
import time
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import psycopg2
from psycopg2 import sql

from bench.database import Fixtures, commune_code

_FEATURE = ("json_build_object('type', 'Feature', 'id', id, "
            "'geometry', ST_AsGeoJSON({geom}, {digits})::json, 'properties', json_build_object({props}))")
_PAGE = (
    "SELECT json_build_object('type', 'FeatureCollection', "
    "'numberMatched', (SELECT count(*) FROM housing{where}), 'numberReturned', count(*), "
    "'features', coalesce(json_agg({feature} ORDER BY id), '[]'::json))::text "
    "FROM (SELECT * FROM housing{where} ORDER BY id LIMIT {limit} OFFSET {offset}) page"
)
# The rows are selected in a MATERIALIZED CTE: inline, the costly per-row functions make the
# planner pick a parallel sequential scan (z14: ~110 ms) over the GiST index (~10 ms).
_TILE = (
    "WITH r AS MATERIALIZED (SELECT geom, poverty_status, house_type, members FROM housing "
    "WHERE geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)) "
    "SELECT ST_AsMVT(t, 'housing') FROM (SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), "
    "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)) AS geom, poverty_status, house_type, members FROM r) t"
)


@dataclass(frozen=True)
class Floor:
    """Mean time of the query over ``runs`` runs, and the req/s one connection could reach."""

    ms: float
    median_ms: float
    runs: int

    @property
    def rps(self) -> float:
        """Requests per second on one connection."""
        return 1000.0 / self.ms if self.ms > 0 else 0.0


def _feature(srid: int = 4326) -> sql.Composable:
    from gis_core.crs import crs_uri, parse_crs
    from layers.registry import get_layer

    layer = get_layer("housing")
    assert layer is not None  # noqa: S101 - the registry always has housing
    props = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(f.name), sql.Identifier(f.name))
                               for f in layer.public_fields)
    crs = parse_crs(crs_uri(None if srid == 4326 else srid))
    geom = sql.SQL("geom") if srid == 4326 else sql.SQL("ST_Transform(geom, {})").format(sql.Literal(srid))
    return sql.SQL(_FEATURE).format(geom=geom, digits=sql.Literal(crs.decimals), props=props)


def _page(where: str = "", *, limit: int, offset: int = 0, srid: int = 4326) -> sql.Composable:
    clause = sql.SQL(" WHERE ") + sql.SQL(where) if where else sql.SQL("")  # constant, %(name)s params
    return sql.SQL(_PAGE).format(where=clause, feature=_feature(srid), limit=sql.Literal(limit),
                                 offset=sql.Literal(offset))


def queries(fx: Fixtures) -> dict[str, tuple[sql.Composable, dict[str, Any]]]:
    """Endpoint key → the SQL that builds the same answer, and its parameters."""
    x0, y0, x1, y1 = fx.bbox
    found: dict[str, tuple[sql.Composable, dict[str, Any]]] = {
        "items10": (_page(limit=10), {}),
        "items1000": (_page(limit=1000), {}),
        "bbox": (_page("ST_Intersects(geom, ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326))",
                       limit=1000), {"x0": x0, "y0": y0, "x1": x1, "y1": y1}),
        "feature": (sql.SQL("SELECT {}::text FROM housing WHERE id = %(id)s").format(_feature()),
                    {"id": fx.feature_id}),
        "deep": (_page(limit=100, offset=100_000), {}),
        "cql_attr": (_page("poverty_status = %(status)s AND members > %(members)s", limit=100),
                     {"status": "poor", "members": 5}),
        "cql_spatial": (_page("ST_Intersects(geom, ST_GeomFromText(%(wkt)s, 4326))", limit=1000),
                        {"wkt": fx.polygon_wkt}),
        "crs": (_page(limit=100, srid=9205), {}),
    }
    for z, (x, y, _) in fx.tiles.items():
        found[f"mvt{z}"] = (sql.SQL(_TILE), {"z": z, "x": x, "y": y})
    lon, lat = fx.centre
    found["radius"] = (sql.SQL(_WELFARE.format(where="ST_DWithin(f.geom::geography, ST_SetSRID("
                                               "ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, "
                                               "%(r)s)")),
                       {"lon": lon, "lat": lat, "r": 5000})
    found["commune"] = (sql.SQL(_WELFARE.format(where="f.commune_code = %(code)s")),
                        {"code": commune_code(fx)})
    found["province"] = (_every_measure(), {})
    return found


# The social-welfare figures a scenario needs, as one aggregate: the anchor of the scenario rows.
_WELFARE = (
    "SELECT f.commune_code, count(*), count(*) FILTER (WHERE f.poverty_status = 'poor'), "
    "count(*) FILTER (WHERE f.poverty_status = 'near_poor'), count(*) FILTER (WHERE "
    "f.house_type = 'temporary'), count(*) FILTER (WHERE f.house_type = 'temporary' AND "
    "f.poverty_status = 'poor') FROM housing f WHERE {where} GROUP BY 1"
)


def _every_measure() -> sql.Composable:
    """The engine's own per-layer aggregates over the province, back to back (the database floor)."""
    from scenarios.engine import measure_statements
    from scenarios.indicators import INDICATORS
    from scenarios.selection import Area

    area = Area("province", [])
    needed = {m for i in INDICATORS if i.kind == "computed" for m in i.measures}
    return sql.SQL("; ").join(statement for _, statement in measure_statements(area, needed))


def measure(url: str, fx: Fixtures, keys: list[str], *, runs: int, budget_s: float) -> dict[str, Floor]:
    """Time each query on one connection: one unmeasured run, then up to ``runs`` or ``budget_s``."""
    results: dict[str, Floor] = {}
    available = queries(fx)
    with closing(psycopg2.connect(url)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            for key in keys:
                if key not in available:
                    continue
                statement, params = available[key]
                results[key] = time_statement(cur, statement, params, runs=runs, budget_s=budget_s)
    return results


def time_statement(cur, statement, params: dict, *, runs: int, budget_s: float) -> Floor:  # noqa: ANN001
    """One unmeasured run of ``statement``, then up to ``runs`` timed ones or ``budget_s``."""
    cur.execute(statement, params)
    cur.fetchall()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < runs and (len(times) < 10 or time.perf_counter() < deadline):
        started = time.perf_counter()
        cur.execute(statement, params)
        cur.fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return Floor(statistics.fmean(times), statistics.median(times), len(times))
