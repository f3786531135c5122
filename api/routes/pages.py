"""HTML pages: the landing page and the map, Vietnamese first with English on a switch."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from layers.departments import DEPARTMENTS
from layers.registry import PUBLISHED
from layers.spec import GROUP_TITLES

WEB = Path(__file__).resolve().parents[1] / "web"
templates = Jinja2Templates(directory=WEB / "templates")
router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=WEB / "static")

TEXT = {
    "vi": {
        "title": "Trung tâm Điều hành thông minh tỉnh Lai Châu",
        "subtitle": "Nền tảng dữ liệu không gian: bản đồ nền, quy hoạch, đất đai, nhà ở, "
                    "hạ tầng kỹ thuật và IoT.",
        "ogc": "OGC API – Features", "ogc_hint": "Mở trong QGIS hoặc GDAL",
        "docs": "Tài liệu API", "docs_hint": "OpenAPI của nền tảng",
        "map": "Bản đồ", "map_hint": "Xem các lớp dữ liệu trên bản đồ",
        "staff": "Cán bộ", "staff_hint": "Nhập, duyệt dữ liệu, chỉ tiêu, sự cố, tài khoản",
        "layers": "Các lớp dữ liệu", "owner": "Đơn vị quản lý", "switch": "English",
        "qgis": "Trong QGIS: Lớp → Thêm lớp → WFS / OGC API - Features, địa chỉ",
        "attribution": "Nguồn ranh giới hành chính",
    },
    "en": {
        "title": "Lai Châu Intelligent Operations Centre",
        "subtitle": "Spatial data platform: base map, planning, land, housing, technical "
                    "infrastructure and IoT.",
        "ogc": "OGC API – Features", "ogc_hint": "Open in QGIS or GDAL",
        "docs": "API documentation", "docs_hint": "The platform's OpenAPI",
        "map": "Map", "map_hint": "See the layers on a map",
        "staff": "Staff", "staff_hint": "Imports, review, indicators, incidents, accounts",
        "layers": "Layers", "owner": "Owner", "switch": "Tiếng Việt",
        "qgis": "In QGIS: Layer → Add Layer → WFS / OGC API - Features, URL",
        "attribution": "Administrative boundaries",
    },
}


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "vi")
    return lang if lang in TEXT else "vi"


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> HTMLResponse:
    """The landing page: links to the OGC API, the API documentation and the map."""
    lang = _lang(request)
    groups = [
        (GROUP_TITLES[g][lang], [
            (layer, DEPARTMENTS.get(layer.owner, {}).get(lang, layer.owner))
            for layer in PUBLISHED if layer.group == g
        ])
        for g in GROUP_TITLES
    ]
    return templates.TemplateResponse(request, "index.html", {
        "t": TEXT[lang], "lang": lang, "other": "en" if lang == "vi" else "vi", "groups": groups,
        "base_url": request.app.state.settings.base_url,
    })


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """Swagger UI of the platform's API, from the platform's own copy of its assets."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="Lai Châu IOC — API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/blank.png",
    )


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request) -> HTMLResponse:
    """The leaders' situation view: layers, warnings, indicators and scenarios on one map."""
    from api.situation import situation_html  # folium loads with the first view of the map

    return HTMLResponse(situation_html(_lang(request), request.app.state.settings.basemap_url))
