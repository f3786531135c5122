"""OGC API at ``/ogc``: pygeoapi configured from the layer registry, with the items fast path.

pygeoapi reads its configuration when ``pygeoapi.starlette_app`` is imported, so the
configuration is written under ``var/`` and the environment set before that import.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from gis_core.db import raw_cursor
from gis_core.settings import Settings
from layers.features import layer_extent
from layers.ogc import resource_for
from layers.registry import PUBLISHED
from tiles.ogc import TILES_CONFORMANCE, tilesets_link

# The feature provider pygeoapi loads by name (api/ogc_provider.py), not imported here: pygeoapi
# must not be imported before its configuration is written.
PROVIDER = "api.ogc_provider.PostGISProvider"
_SPEC = "http://www.opengis.net/spec/"
# What the items path implements. pygeoapi's own list omits the filter and CQL2 classes that
# the items path implements; Part 4 (writes) is served by api/ogc_writes.py.
FEATURES_CONFORMANCE = [
    f"{_SPEC}ogcapi-features-1/1.0/conf/{c}" for c in ("core", "oas30", "html", "geojson")
] + [
    f"{_SPEC}ogcapi-features-2/1.0/conf/crs",
    f"{_SPEC}ogcapi-features-4/1.0/conf/create-replace-delete",
    f"{_SPEC}ogcapi-features-4/1.0/conf/update",
    *(f"{_SPEC}ogcapi-features-3/1.0/conf/{c}" for c in (
        "queryables", "queryables-query-parameters", "filter", "features-filter")),
    *(f"{_SPEC}cql2/1.0/conf/{c}" for c in (
        "cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
        "case-insensitive-comparison", "basic-spatial-functions",
        "basic-spatial-functions-plus", "spatial-functions")),
]

LOCALES = Path(__file__).resolve().parent / "web" / "locale"
# pygeoapi's pages load these from public CDNs; an operations centre may have no internet.
_V = "/static/vendor"
BLANK_TILE = "/static/blank.png"
VENDORED = {
    "https://unpkg.com/bootstrap@5.1.3/dist/css/bootstrap.min.css": f"{_V}/bootstrap/bootstrap.min.css",
    "https://unpkg.com/leaflet@1.3.1/dist/leaflet.css": f"{_V}/leaflet/leaflet.css",
    "https://unpkg.com/leaflet@1.3.1/dist/leaflet.js": f"{_V}/leaflet/leaflet.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet/1.3.1/leaflet.js": f"{_V}/leaflet/leaflet.js",
    "https://unpkg.com/leaflet.markercluster/dist/MarkerCluster.css":
        f"{_V}/leaflet.markercluster/MarkerCluster.css",
    "https://unpkg.com/leaflet.markercluster/dist/MarkerCluster.Default.css":
        f"{_V}/leaflet.markercluster/MarkerCluster.Default.css",
    "https://unpkg.com/leaflet.markercluster/dist/leaflet.markercluster-src.js":
        f"{_V}/leaflet.markercluster/leaflet.markercluster.js",
    "https://unpkg.com/swagger-ui-dist/swagger-ui.css": f"{_V}/swagger-ui/swagger-ui.css",
    "https://unpkg.com/swagger-ui-dist/swagger-ui-bundle.js": f"{_V}/swagger-ui/swagger-ui-bundle.js",
    "https://unpkg.com/swagger-ui-dist/swagger-ui-standalone-preset.js":
        f"{_V}/swagger-ui/swagger-ui-standalone-preset.js",
    "https://unpkg.com/swagger-ui-dist/favicon-32x32.png": BLANK_TILE,
    "https://unpkg.com/swagger-ui-dist/favicon-16x16.png": BLANK_TILE,
}
_OLD_IE = re.compile(r"<!--\[if lt IE 9\]>.*?<!\[endif\]-->", re.DOTALL)
ATTRIBUTION = (
    "Ranh giới hành chính / Administrative boundaries: vietnamese-provinces-database © 2021 "
    "Thang Le Quoc (MIT), dẫn xuất từ Bản đồ tham khảo đơn vị hành chính Việt Nam "
    "(sapnhap.bando.com.vn), NXB Tài nguyên – Môi trường và Bản đồ Việt Nam."
)


def pygeoapi_config(settings: Settings, database_url: str, engine: Engine) -> dict[str, Any]:
    """The whole pygeoapi configuration, generated from the registry and the data's extents."""
    resources: dict[str, Any] = {}
    with raw_cursor(engine) as cursor:
        for layer in PUBLISHED:
            bbox, interval = layer_extent(cursor, layer)
            tiles = tilesets_link(f"{settings.base_url}/ogc", f"/collections/{layer.id}/tiles")
            resources[layer.id] = resource_for(layer, database_url, PROVIDER, bbox=bbox,
                                               interval=interval, links=[tiles])
    return {
        "server": {
            "bind": {"host": settings.host, "port": settings.port},
            "url": f"{settings.base_url}/ogc",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["vi", "en"],
            "limits": {"default_items": settings.default_limit,
                       "max_items": settings.max_limit, "on_exceed": "throttle"},
            "pretty_print": False,
            # Without a configured base map, pygeoapi's page maps get a blank local tile.
            "map": {"url": settings.basemap_url or BLANK_TILE, "attribution": ATTRIBUTION},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": {"vi": "Trung tâm Điều hành thông minh tỉnh Lai Châu — Dữ liệu không gian",
                          "en": "Lai Châu Intelligent Operations Centre — Spatial data"},
                "description": {
                    "vi": "Các lớp dữ liệu không gian của tỉnh Lai Châu theo chuẩn OGC API.",
                    "en": "Spatial data layers of Lai Châu province through OGC APIs.",
                },
                "keywords": {"vi": ["Lai Châu", "IOC", "GIS"], "en": ["Lai Chau", "IOC", "GIS"]},
                "keywords_type": "theme",
                "terms_of_service": "https://opensource.org/licenses/MIT",
                "url": settings.base_url,
            },
            "license": {"name": "MIT; boundaries: see attribution",
                        "url": "https://opensource.org/licenses/MIT"},
            "provider": {"name": "Sở Khoa học và Công nghệ tỉnh Lai Châu", "url": settings.base_url},
            "contact": {
                "name": "Trung tâm Điều hành thông minh", "position": "Bộ phận vận hành",
                "address": "Phường Tân Phong", "city": "Lai Châu", "stateorprovince": "Lai Châu",
                "postalcode": "30000", "country": "Việt Nam", "email": "ioc@laichau.gov.vn",
                "url": settings.base_url, "role": "pointOfContact",
            },
        },
        "resources": resources,
    }


def compile_locales(target: Path) -> Path:
    """Compile the Vietnamese (and English) catalogs of pygeoapi's HTML pages into ``target``."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in LOCALES.glob("*/LC_MESSAGES/messages.po"):
        out = target / po.relative_to(LOCALES).with_suffix(".mo")
        out.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source, out.open("wb") as sink:
            write_mo(sink, read_po(source))
    return target


def localise_templates(target: Path) -> Path:
    """Copy pygeoapi's templates to ``target`` with their CDN assets pointed at our own copies."""
    import pygeoapi

    source = Path(pygeoapi.__file__).parent / "templates"
    for template in source.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for remote, local in VENDORED.items():
            text = text.replace(remote, local)
        text = _OLD_IE.sub("", text)
        out = target / template.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return target


def with_links(landing_page: Any, links: list[dict[str, Any]]) -> Any:
    """pygeoapi's landing page with ``links`` added to its JSON (the dataset's tilesets)."""
    page = getattr(landing_page, "__wrapped__", landing_page)

    @functools.wraps(page)
    def landing(api: Any, request: Any) -> Any:
        headers, status, content = page(api, request)
        if status == 200 and request.format == "json":
            document = json.loads(content)
            document["links"].extend(links)
            content = json.dumps(document, ensure_ascii=False)
        return headers, status, content

    return landing


def build_pygeoapi_app(config: dict[str, Any], runtime_dir: Path) -> ASGIApp:
    """Write the config and its OpenAPI document, then load pygeoapi's Starlette app on them."""
    from pygeoapi.openapi import get_oas

    runtime_dir.mkdir(parents=True, exist_ok=True)
    config["server"]["locale_dir"] = str(compile_locales(runtime_dir / "locale"))
    import pygeoapi

    config["server"]["templates"] = {
        "path": str(localise_templates(runtime_dir / "templates")),
        "static": str(Path(pygeoapi.__file__).parent / "static"),
    }
    config_path = runtime_dir / "pygeoapi-config.yml"
    openapi_path = runtime_dir / "pygeoapi-openapi.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    os.environ["PYGEOAPI_CONFIG"] = str(config_path)
    os.environ["PYGEOAPI_OPENAPI"] = str(openapi_path)
    openapi_path.write_text(
        yaml.safe_dump(get_oas(config), allow_unicode=True, sort_keys=False), encoding="utf-8")
    from pygeoapi import api as pygeoapi_api
    from pygeoapi.api import itemtypes

    itemtypes.CONFORMANCE_CLASSES_FEATURES[:] = FEATURES_CONFORMANCE
    pygeoapi_api.CONFORMANCE_CLASSES.extend(
        uri for uri in TILES_CONFORMANCE if uri not in pygeoapi_api.CONFORMANCE_CLASSES)
    pygeoapi_api.landing_page = with_links(
        pygeoapi_api.landing_page, [tilesets_link(config["server"]["url"], "/tiles")])
    module = sys.modules.get("pygeoapi.starlette_app")
    module = importlib.reload(module) if module else importlib.import_module(
        "pygeoapi.starlette_app")
    return module.APP
