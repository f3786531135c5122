"""The leaders' situation view at ``/map``: a folium (Leaflet) map over the platform's own tiles.

folium writes the map, its base layers and the page skeleton; every script and style sheet it
loads is the platform's own copy under ``/static`` (folium's defaults point at public CDNs, which
machines in the operations centre may not reach). ``/static/situation.js`` adds the vector
layers by group, the panels, the choropleth and the scenario tools.
"""

from __future__ import annotations

import json
from functools import lru_cache

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from governance.access import MIN_CELL, is_personal_layer
from layers.ogc import PROVINCE_BBOX
from layers.registry import PUBLISHED
from layers.spec import GROUP_TITLES
from tiles.raster_names import TERRAIN

JS = [
    ("leaflet", "/static/vendor/leaflet/leaflet.js"),
    ("vectorgrid", "/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
    ("leaflet_draw", "/static/vendor/leaflet-draw/leaflet.draw.js"),
    ("situation", "/static/situation.js"),
    ("sensors_live", "/static/sensors-live.js"),
]
CSS = [
    ("leaflet_css", "/static/vendor/leaflet/leaflet.css"),
    ("leaflet_draw_css", "/static/vendor/leaflet-draw/leaflet.draw.css"),
    ("situation_css", "/static/situation.css"),
]

TEXT = {
    "vi": {
        "title": "Bản đồ điều hành tỉnh Lai Châu", "switch": "English", "home": "Trang chủ",
        "terrain": "Địa hình (mô hình TỔNG HỢP, không phải số liệu đo)",
        "basemap": "Bản đồ nền ngoài", "layers": "Lớp dữ liệu",
        "choropleth": "Chỉ tiêu theo xã", "indicator": "Chỉ tiêu", "period": "Kỳ",
        "period_hint": "2025, 2025-Q2…",
        "met": "Đạt", "at_risk": "Có nguy cơ", "not_met": "Chưa đạt",
        "no_target": "chưa có mục tiêu", "suppressed": f"ẩn (dưới {MIN_CELL} hộ)", "days": "ngày",
        "account": "Tài khoản", "username": "tên đăng nhập", "password": "mật khẩu",
        "sign_in": "Đăng nhập", "sign_out": "Đăng xuất",
        "not_met_list": "Chỉ tiêu chưa đạt", "stale": "Dữ liệu quá hạn cập nhật",
        "incidents": "Sự cố đang mở", "details": "Chi tiết", "no_data": "chưa có dữ liệu",
        "documents": "Tài liệu", "version": "bản", "pending": "chờ duyệt",
        "none": "không có", "scenario": "Kịch bản", "run": "Chạy", "pick_commune": "Chọn xã",
        "province": "Toàn tỉnh", "draw_hint": "Vẽ điểm, vòng tròn hoặc vùng trên bản đồ, "
        "hoặc chọn xã, rồi bấm Chạy.", "selection": "Vùng chọn", "result": "Kết quả",
        "features": "đối tượng", "elevation": "Độ cao trung bình", "steep": "Tỷ lệ dốc > 25°",
        "target": "Mục tiêu", "value": "Giá trị", "commune": "Xã", "loading": "đang tải…",
        "error": "lỗi", "click_hint": "Bấm vào một xã hoặc đối tượng để xem chi tiết.",
        "radius": "bán kính", "point": "điểm", "polygon": "vùng vẽ", "communes": "xã",
        "sensor_alerts": "Cảnh báo từ trạm quan trắc", "sensor_latest": "Trạm vượt ngưỡng",
        "feedback_overdue": "Phản ánh quá hạn xử lý", "escalated": "đã chuyển bộ phận điều hành",
        "days_late": "ngày làm việc quá hạn",
    },
    "en": {
        "title": "Lai Châu operations map", "switch": "Tiếng Việt", "home": "Home",
        "terrain": "Terrain (SYNTHETIC model, not measured)",
        "basemap": "External base map", "layers": "Layers",
        "choropleth": "Indicator by commune", "indicator": "Indicator", "period": "Period",
        "period_hint": "2025, 2025-Q2…",
        "met": "Met", "at_risk": "At risk", "not_met": "Not met",
        "no_target": "no target", "suppressed": f"withheld (under {MIN_CELL} households)", "days": "days",
        "account": "Account", "username": "user name", "password": "password",
        "sign_in": "Sign in", "sign_out": "Sign out",
        "not_met_list": "Indicators not met", "stale": "Stale datasets",
        "incidents": "Open incidents", "details": "Details", "no_data": "no data yet",
        "documents": "Documents", "version": "version", "pending": "pending approval",
        "none": "none", "scenario": "Scenario", "run": "Run", "pick_commune": "Pick a commune",
        "province": "Whole province", "draw_hint": "Draw a point, a circle or an area on the map, "
        "or pick a commune, then press Run.", "selection": "Selection", "result": "Result",
        "features": "features", "elevation": "Mean elevation", "steep": "Share of slopes > 25°",
        "target": "Target", "value": "Value", "commune": "Commune", "loading": "loading…",
        "error": "error", "click_hint": "Click a commune or a feature for its details.",
        "radius": "radius", "point": "point", "polygon": "drawn area", "communes": "communes",
        "sensor_alerts": "Station alerts", "sensor_latest": "Stations over their limits",
        "feedback_overdue": "Citizen feedback past its deadline", "escalated": "raised to the operator",
        "days_late": "working days overdue",
    },
}

PANEL = Template("""
<header class="ioc-bar">
  <a class="brand" href="/?lang={{ lang }}">{{ t.title }}</a>
  <nav><a href="/?lang={{ lang }}">{{ t.home }}</a>
  <a class="switch" id="lang-switch" href="/map?lang={{ other }}">{{ t.switch }}</a></nav>
</header>
<aside class="ioc-panel" id="panel">
  <section id="sec-choropleth"><h2>{{ t.choropleth }}</h2>
    <label>{{ t.indicator }} <select id="indicator"></select></label>
    <label>{{ t.period }} <input id="period" size="9" placeholder="{{ t.period_hint }}"></label>
    <div class="legend"><span class="met">{{ t.met }}</span><span class="at_risk">{{ t.at_risk }}</span>
      <span class="not_met">{{ t.not_met }}</span></div>
    <div class="status" id="choropleth-status"></div></section>
  <section id="sec-details"><h2>{{ t.details }}</h2>
    <div id="details" class="muted">{{ t.click_hint }}</div></section>
  <section id="sec-scenario"><h2>{{ t.scenario }}</h2>
    <select id="scenario"></select>
    <div class="row"><button id="pick-commune" type="button">{{ t.pick_commune }}</button>
      <button id="pick-province" type="button">{{ t.province }}</button>
      <button id="run-scenario" type="button" disabled>{{ t.run }}</button></div>
    <div id="selection" class="muted">{{ t.draw_hint }}</div>
    <div id="scenario-result"></div></section>
  <section id="sec-not-met"><h2>{{ t.not_met_list }}</h2><ul id="not-met" class="items"></ul></section>
  <section id="sec-stale"><h2>{{ t.stale }}</h2><ul id="stale" class="items"></ul></section>
  <section id="sec-sensors"><h2>{{ t.sensor_alerts }}</h2><ul id="sensor-alerts" class="items"></ul>
    <h3>{{ t.sensor_latest }}</h3><ul id="sensor-latest" class="items"></ul></section>
  <section id="sec-incidents"><h2>{{ t.incidents }}</h2><ul id="incidents" class="items"></ul></section>
  <section id="sec-feedback-overdue"><h2>{{ t.feedback_overdue }}</h2>
    <ul id="feedback-overdue" class="items"></ul></section>
  <section id="sec-account"><h2>{{ t.account }} <small id="signed-as"></small>
    <button id="sign-out" type="button" hidden>{{ t.sign_out }}</button></h2>
    <form id="sign-in" class="row"><input name="username" placeholder="{{ t.username }}" size="10"
      autocomplete="username"><input name="password" type="password" placeholder="{{ t.password }}"
      size="10" autocomplete="current-password"><button type="submit">{{ t.sign_in }}</button>
      <span id="sign-in-message" class="error"></span></form></section>
</aside>
""")

START_FIT = Template("""{% macro script(this, kwargs) %}
IOC.fit({{ this._parent.get_name() }}, {{ this.bbox }});
{% endmacro %}""")
START = Template("""{% macro script(this, kwargs) %}
IOC.situation({{ this._parent.get_name() }}, {{ this.config }});
{% endmacro %}""")


class _Script(MacroElement):
    """One call into ``situation.js`` on the folium map."""

    def __init__(self, template: Template, **values: str) -> None:
        super().__init__()
        self._name = "IocSituation"
        self._template = template
        for name, value in values.items():
            setattr(self, name, value)


def _groups(lang: str) -> list[dict]:
    # A group made only of layers about people shows its points to signed-in callers only.
    signed = {"vi": " (cần đăng nhập)", "en": " (signed-in users)"}[lang]

    def title(group: str, titles: dict[str, str]) -> str:
        members = [layer for layer in PUBLISHED if layer.group == group]
        return titles[lang] + (signed if members and all(map(is_personal_layer, members)) else "")

    return [{"id": group, "title": title(group, titles), "visible": group == "base_map", "layers": [
        {"id": layer.id, "title": layer.title[lang], "color": layer.color,
         "geometry": layer.geometry, "minzoom": layer.tiles.minzoom,
         "label": layer.title_field if layer.title_field in layer.tiles.properties else None,
         "fields": {name: layer.field(name).title.get(lang, name) for name in layer.tiles.properties}}
        for layer in PUBLISHED if layer.group == group]} for group, titles in GROUP_TITLES.items()]


@lru_cache(maxsize=8)
def situation_html(lang: str, basemap_url: str | None) -> str:
    """The whole page for ``lang`` (``vi`` or ``en``)."""
    t = TEXT[lang]
    west, south, east, north = PROVINCE_BBOX
    # Zoom 10 shows the whole province on a wall screen; on a smaller screen the view is fitted
    # to it, without animation, before any layer is added (no tile is asked for twice).
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10, tiles=None,
                   min_zoom=7, max_zoom=18, control_scale=True, zoom_control=True, zoom_snap=0.25)
    m.default_js, m.default_css = JS, CSS  # every asset from the platform, none from a CDN
    _Script(START_FIT, bbox=json.dumps(PROVINCE_BBOX)).add_to(m)
    folium.TileLayer(f"/tiles/raster/{TERRAIN}/hillshade/{{z}}/{{x}}/{{y}}.png", name=t["terrain"],
                     attr=t["terrain"], max_zoom=18, max_native_zoom=15, overlay=False,
                     bounds=[[south, west], [north, east]]).add_to(m)
    if basemap_url:
        folium.TileLayer(basemap_url, name=t["basemap"], attr=t["basemap"], overlay=False,
                         max_zoom=19).add_to(m)
    root = m.get_root()
    root.header.add_child(Element(f"<title>{t['title']}</title>"), name="title")
    root.html.add_child(Element(PANEL.render(t=t, lang=lang, other="en" if lang == "vi" else "vi")),
                        name="panel")
    _Script(START, config=json.dumps({"lang": lang, "t": t, "groups": _groups(lang), "bbox": PROVINCE_BBOX,
            "terrain": TERRAIN, "default_indicator": "poor_household_rate"}, ensure_ascii=False)).add_to(m)
    html = root.render()
    return html.replace("<html>", f'<html lang="{lang}">', 1)
