"""The measured requests, spelled in each system's dialect of OGC API Features and Tiles."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from bench.config import SYSTEMS
from bench.database import Fixtures, commune_code

EPSG_9205 = "http://www.opengis.net/def/crs/EPSG/0/9205"
JSON_ACCEPT = "application/geo+json, application/json;q=0.9"
MVT_ACCEPT = "application/vnd.mapbox-vector-tile"
# Scenario rows (ours only): the social-welfare sector scenario over a 5 km geodesic radius and over
# one commune; every indicator for every commune through an inline thematic document.
SCENARIO_PATH = "/api/v1/scenarios/{id}/run"
RADIUS_METRES = 5000


@dataclass(frozen=True)
class Dialect:
    """How one system names things: URL prefix, collection id, GeoJSON format, CQL spelling, tiles."""

    prefix: str
    housing: str
    geojson: str  # the ``f`` value that returns a GeoJSON FeatureCollection
    filter_lang: str
    intersects: str
    tile_path: str  # with {z}, {x}, {y}
    tile_params: tuple[tuple[str, str], ...] = ()


DIALECTS: dict[str, Dialect] = {
    "ours": Dialect("/ogc", "housing", "json", "cql2-text", "S_INTERSECTS",
                    "/ogc/collections/housing/tiles/WebMercatorQuad/{z}/{y}/{x}"),
    # pygeoapi: filter-lang cql-text (ECQL spelling), tiles as {tileMatrix}/{tileRow}/{tileCol}.
    "pygeoapi": Dialect("", "housing", "json", "cql-text", "INTERSECTS",
                        "/collections/housing/tiles/WebMercatorQuad/{z}/{y}/{x}", (("f", "mvt"),)),
    "ours_uncached": Dialect("/ogc", "housing", "json", "cql2-text", "S_INTERSECTS",
                             "/ogc/collections/housing/tiles/WebMercatorQuad/{z}/{y}/{x}"),
    # tipg: f=json is a flat JSON array of rows; f=geojson is its FeatureCollection.
    "tipg": Dialect("", "public.housing", "geojson", "cql2-text", "S_INTERSECTS",
                    "/collections/public.housing/tiles/WebMercatorQuad/{z}/{x}/{y}"),
}


@dataclass(frozen=True)
class Request:
    """One HTTP request of an endpoint for one system (path includes the query string)."""

    path: str
    kind: str  # items | feature | tile | scenario
    method: str = "GET"
    body: bytes | None = None
    accept: str = JSON_ACCEPT


FEATURE_SYSTEMS = tuple(s for s in SYSTEMS if s != "ours_uncached")


@dataclass(frozen=True)
class Endpoint:
    """A measured endpoint: its key (for --endpoints), label, and request per system."""

    key: str
    label: str
    build: Callable[[Dialect, Fixtures], Request]
    systems: tuple[str, ...] = FEATURE_SYSTEMS

    def request(self, system: str, fx: Fixtures) -> Request | None:
        """The request for ``system``, or None when the endpoint does not apply to it."""
        if system not in self.systems:
            return None
        return self.build(DIALECTS[system], fx)


def _items(d: Dialect, *params: tuple[str, str]) -> Request:
    query = urlencode([("f", d.geojson), *params])
    return Request(f"{d.prefix}/collections/{d.housing}/items?{query}", "items")


def _cql_attr(d: Dialect, fx: Fixtures) -> Request:
    return _items(d, ("limit", "100"), ("filter", "poverty_status='poor' AND members>5"),
                  ("filter-lang", d.filter_lang))


def _cql_spatial(d: Dialect, fx: Fixtures) -> Request:
    return _items(d, ("limit", "1000"), ("filter", f"{d.intersects}(geom, {fx.polygon_wkt})"),
                  ("filter-lang", d.filter_lang))


def _bbox(d: Dialect, fx: Fixtures) -> Request:
    return _items(d, ("limit", "1000"), ("bbox", ",".join(f"{v:.6f}" for v in fx.bbox)))


def _feature(d: Dialect, fx: Fixtures) -> Request:
    return Request(f"{d.prefix}/collections/{d.housing}/items/{fx.feature_id}?f={d.geojson}", "feature")


def _tile(z: int) -> Callable[[Dialect, Fixtures], Request]:
    def build(d: Dialect, fx: Fixtures) -> Request:
        x, y, _ = fx.tiles[z]
        query = f"?{urlencode(d.tile_params)}" if d.tile_params else ""
        return Request(d.tile_path.format(z=z, x=x, y=y) + query, "tile", accept=MVT_ACCEPT)

    return build


def _scenario(scenario_id: str, body: dict) -> Request:
    return Request(SCENARIO_PATH.format(id=scenario_id), "scenario", method="POST",
                   body=json.dumps(body).encode(), accept="application/json")


def _radius(d: Dialect, fx: Fixtures) -> Request:
    lon, lat = fx.centre
    return _scenario("sector_social_welfare", {"selection": {
        "type": "radius", "lon": lon, "lat": lat, "radius_m": RADIUS_METRES}})


def _commune(d: Dialect, fx: Fixtures) -> Request:
    return _scenario("sector_social_welfare",
                     {"selection": {"type": "communes", "codes": [commune_code(fx)]}})


def _province(d: Dialect, fx: Fixtures) -> Request:
    from scenarios.indicators import INDICATORS

    return _scenario("thematic", {"document": {
        "id": "bench_all", "title": "Every indicator", "period": "2025", "group_by": "commune",
        "indicators": [i.id for i in INDICATORS]}})


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("items10", "items limit=10", lambda d, fx: _items(d, ("limit", "10"))),
    Endpoint("items1000", "items limit=1000", lambda d, fx: _items(d, ("limit", "1000"))),
    Endpoint("bbox", "bbox ≈500 features (limit=1000)", _bbox),
    Endpoint("feature", "one feature by id", _feature),
    Endpoint("deep", "deep page offset=100000 limit=100",
             lambda d, fx: _items(d, ("offset", "100000"), ("limit", "100"))),
    Endpoint("cql_attr", "CQL2 poverty_status='poor' AND members>5 (limit=100)", _cql_attr),
    Endpoint("cql_spatial", "CQL2 S_INTERSECTS small polygon (limit=1000)", _cql_spatial),
    Endpoint("crs", "crs=EPSG:9205 (limit=100)",
             lambda d, fx: _items(d, ("limit", "100"), ("crs", EPSG_9205))),
    Endpoint("mvt10", "MVT tile z10", _tile(10), systems=SYSTEMS),
    Endpoint("mvt12", "MVT tile z12", _tile(12), systems=SYSTEMS),
    Endpoint("mvt14", "MVT tile z14", _tile(14), systems=SYSTEMS),
    Endpoint("radius", "scenario: 5 km radius, social welfare (ours)", _radius, systems=("ours",)),
    Endpoint("commune", "scenario: one commune, social welfare (ours)", _commune, systems=("ours",)),
    Endpoint("province", "scenario: every indicator × 38 communes (ours)", _province,
             systems=("ours",)),
)
ENDPOINT_KEYS = tuple(e.key for e in ENDPOINTS)
