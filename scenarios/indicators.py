"""The indicator catalogue: every indicator declared once, computed from the layers or reported.

A computed indicator is ``scale × numerator / denominator`` of additive *measures* (counts, sums,
lengths) taken per commune from one layer each, so one query per layer evaluates every indicator
for every commune. A reported indicator is entered per unit (province or commune) and period by
the department that owns it. Default targets carry their legal basis; operators add targets per
period and unit in the ``indicator_targets`` table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from gis_core.errors import NotFoundError
from gis_core.settings import SAMPLES_DIR

Sector = Literal["socio_economic", "health", "education", "transport", "environment",
                 "public_order", "social_welfare"]
SECTORS: dict[str, dict[str, str]] = {
    "socio_economic": {"vi": "Kinh tế – xã hội", "en": "Socio-economic"},
    "health": {"vi": "Y tế", "en": "Health"},
    "education": {"vi": "Giáo dục", "en": "Education"},
    "transport": {"vi": "Giao thông", "en": "Transport"},
    "environment": {"vi": "Môi trường", "en": "Environment"},
    "public_order": {"vi": "An ninh trật tự", "en": "Public order"},
    "social_welfare": {"vi": "An sinh xã hội", "en": "Social welfare"},
}
# Households farther than this from every health facility count as poorly served.
HEALTH_DISTANCE_M = 5000
FAR_FROM_HEALTH = (
    "NOT EXISTS (SELECT 1 FROM health_facilities hf WHERE ST_DWithin(hf.geom::geography, "  # noqa: S608
    f"f.geom::geography, {HEALTH_DISTANCE_M}))")
# Share of the population aged 3-17, used to estimate school-age children from household members.
# An assumption of this platform (Lai Châu's population is young), not an official figure.
SCHOOL_AGE_SHARE = 0.29
PLAN = "Nghị quyết 39/2020/NQ-HĐND; Quyết định 45/2020/QĐ-UBND (kế hoạch 2021–2025)"
REFERENCE_FILE = SAMPLES_DIR / "indicators_reference.json"

# Additive measures per layer: SQL aggregates over the layer's rows aliased ``f``; on line layers
# ``f.len_km`` is the geodesic length (km) of the part of the line inside the selection.
MEASURES: dict[str, dict[str, str]] = {
    "housing": {
        "households": "count(*)",
        "people": "coalesce(sum(f.members), 0)",
        "poor": "count(*) FILTER (WHERE f.poverty_status = 'poor')",
        "near_poor": "count(*) FILTER (WHERE f.poverty_status = 'near_poor')",
        "temporary": "count(*) FILTER (WHERE f.house_type = 'temporary')",
        "poor_temporary": "count(*) FILTER (WHERE f.house_type = 'temporary' "
                          "AND f.poverty_status = 'poor')",
        "far_from_health": f"count(*) FILTER (WHERE {FAR_FROM_HEALTH})",
    },
    "schools": {
        "schools": "count(*)",
        "school_places": "coalesce(sum(f.capacity), 0)",
        "students": "coalesce(sum(f.students), 0)",
        "classrooms": "coalesce(sum(f.classrooms), 0)",
        "schools_permanent": "count(*) FILTER (WHERE f.building_type = 'permanent')",
    },
    "health_facilities": {
        "facilities": "count(*)",
        "beds": "coalesce(sum(f.beds), 0)",
        "doctors": "coalesce(sum(f.doctors), 0)",
        "facilities_permanent": "count(*) FILTER (WHERE f.building_type = 'permanent')",
    },
    "roads": {
        "road_km": "coalesce(sum(f.len_km), 0)",
        "paved_km": "coalesce(sum(f.len_km) FILTER (WHERE f.surface IN ('asphalt', 'concrete')), 0)",
        "rural_road_km": "coalesce(sum(f.len_km) FILTER (WHERE f.road_class IN ('commune', "
                         "'village')), 0)",
        "rural_paved_km": "coalesce(sum(f.len_km) FILTER (WHERE f.road_class IN ('commune', "
                          "'village') AND f.surface IN ('asphalt', 'concrete')), 0)",
        "earth_km": "coalesce(sum(f.len_km) FILTER (WHERE f.surface = 'earth'), 0)",
    },
    "iot_stations": {
        "cameras": "count(*) FILTER (WHERE f.kind = 'camera')",
        "cameras_online": "count(*) FILTER (WHERE f.kind = 'camera' AND f.status = 'online')",
        "env_sensors": "count(*) FILTER (WHERE f.kind IN ('rain_gauge', 'water_level', "
                       "'air_quality'))",
        "env_sensors_online": "count(*) FILTER (WHERE f.kind IN ('rain_gauge', 'water_level', "
                              "'air_quality') AND f.status = 'online')",
    },
    "water_network": {
        "supply_km": "coalesce(sum(f.len_km) FILTER (WHERE f.kind = 'supply'), 0)",
    },
}
LINE_LAYERS = ("roads", "water_network")
MEASURE_LAYER = {m: layer for layer, ms in MEASURES.items() for m in ms}
# The measure counting a layer's records, for layers about people: what a small cell counts.
RECORD_COUNTS = {"housing": "households"}


@dataclass(frozen=True)
class Target:
    """A declared target: ``value`` for the periods from ``start`` to ``end`` (years), with its basis."""

    value: float
    start: int
    end: int
    legal_basis: str


@dataclass(frozen=True)
class Drill:
    """The features behind a red flag: rows of ``layer`` matching ``where`` (alias ``f``)."""

    layer: str
    where: str


@dataclass(frozen=True)
class Indicator:
    """One indicator of the catalogue."""

    id: str
    name: dict[str, str]
    sector: Sector
    unit: str
    direction: Literal["higher", "lower"]
    kind: Literal["computed", "reported"]
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    owner: str = ""
    description: dict[str, str] = field(default_factory=dict)
    targets: tuple[Target, ...] = ()
    drill: Drill | None = None

    @property
    def measures(self) -> tuple[str, ...]:
        """The measures a computed indicator needs."""
        return tuple(m for m in (self.numerator, self.denominator) if m)

    def declared_target(self, year: int) -> Target | None:
        """The declared target covering ``year``, if any."""
        return next((t for t in self.targets if t.start <= year <= t.end), None)


def _t(value: float, basis: str, start: int = 2021, end: int = 2025) -> tuple[Target, ...]:
    return (Target(value, start, end, basis),)


@cache
def reference() -> dict:
    """The province's reference figures (targets 2021–2025 and recent actuals)."""
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


def _ref_target(key: str) -> float:
    value = reference()["targets_2021_2025"][key]
    return float(min(value) if isinstance(value, list) else value)


def _poverty_target_2025() -> float:
    """2024's actual poverty rate less the planned yearly reduction (3 points a year)."""
    actual = next(a["poverty_rate_pct"] for a in reference()["actuals"] if "poverty_rate_pct" in a)
    return round(actual - _ref_target("poverty_rate_reduction_pct_per_year"), 2)


def _c(id: str, vi: str, en: str, sector: Sector, unit: str, direction: Literal["higher", "lower"],
       numerator: str, denominator: str | None = None, scale: float = 1.0, **kw: object) -> Indicator:
    return Indicator(id, {"vi": vi, "en": en}, sector, unit, direction, "computed", numerator,
                     denominator, scale, **kw)  # type: ignore[arg-type]


def _r(id: str, vi: str, en: str, sector: Sector, unit: str, direction: Literal["higher", "lower"],
       owner: str, **kw: object) -> Indicator:
    return Indicator(id, {"vi": vi, "en": en}, sector, unit, direction, "reported", owner=owner,
                     **kw)  # type: ignore[arg-type]


_POVERTY_BASIS = (f"{PLAN}: giảm tỷ lệ hộ nghèo bình quân 3 điểm %/năm; năm 2025 = tỷ lệ 2024 "
                  "(19,46%) − 3")
_PERMANENT_BASIS = f"{PLAN}: 100% trường học và trạm y tế xã được kiên cố hóa"
_NQ20 = "Nghị quyết 20-NQ/TW ngày 25/10/2017: đến 2025 đạt 10 bác sĩ và 30 giường bệnh/10.000 dân"
_NTM = ("Quyết định 318/QĐ-TTg ngày 08/3/2022, Bộ tiêu chí xã nông thôn mới 2021–2025, tiêu chí 2 "
        "(giao thông): đường xã, thôn được cứng hóa")

INDICATORS: tuple[Indicator, ...] = (
    # Social welfare (housing survey)
    _c("poor_household_rate", "Tỷ lệ hộ nghèo", "Share of poor households", "social_welfare", "%",
       "lower", "poor", "households", 100, targets=(Target(_poverty_target_2025(), 2025, 2025,
                                                            _POVERTY_BASIS),),
       drill=Drill("housing", "f.poverty_status = 'poor'")),
    _c("near_poor_household_rate", "Tỷ lệ hộ cận nghèo", "Share of near-poor households",
       "social_welfare", "%", "lower", "near_poor", "households", 100,
       drill=Drill("housing", "f.poverty_status = 'near_poor'")),
    _c("temporary_house_rate", "Tỷ lệ nhà tạm", "Share of temporary houses", "social_welfare", "%",
       "lower", "temporary", "households", 100,
       targets=_t(0, "Chương trình xóa nhà tạm, nhà dột nát trên địa bàn cả nước: hoàn thành trong "
                  "năm 2025", 2025, 2025),
       drill=Drill("housing", "f.house_type = 'temporary'")),
    _c("poor_in_temporary_houses", "Hộ nghèo ở nhà tạm", "Poor households in temporary houses",
       "social_welfare", "hộ", "lower", "poor_temporary",
       targets=_t(0, "Chương trình xóa nhà tạm, nhà dột nát: hộ nghèo được hỗ trợ trước, hoàn thành "
                  "năm 2025", 2025, 2025),
       drill=Drill("housing", "f.house_type = 'temporary' AND f.poverty_status = 'poor'")),
    # Health
    _c("households_far_from_health_rate", "Tỷ lệ hộ cách cơ sở y tế trên 5 km",
       "Share of households farther than 5 km from a health facility", "health", "%", "lower",
       "far_from_health", "households", 100,
       description={"vi": "Khoảng cách trắc địa tới cơ sở y tế gần nhất.",
                    "en": "Geodesic distance to the nearest health facility."},
       drill=Drill("housing", FAR_FROM_HEALTH)),
    _c("doctors_per_10k", "Số bác sĩ trên 10.000 dân", "Doctors per 10,000 people", "health",
       "bác sĩ/10.000 dân", "higher", "doctors", "people", 10_000, targets=_t(10, _NQ20)),
    _c("beds_per_10k", "Số giường bệnh trên 10.000 dân", "Hospital beds per 10,000 people",
       "health", "giường/10.000 dân", "higher", "beds", "people", 10_000, targets=_t(30, _NQ20)),
    _c("health_permanent_rate", "Tỷ lệ cơ sở y tế kiên cố", "Share of permanent health facilities",
       "health", "%", "higher", "facilities_permanent", "facilities", 100,
       targets=_t(_ref_target("schools_and_commune_health_stations_permanent_pct"), _PERMANENT_BASIS),
       drill=Drill("health_facilities", "f.building_type IS DISTINCT FROM 'permanent'")),
    # Education
    _c("school_places_per_1000_children", "Chỗ học trên 1.000 trẻ em trong độ tuổi đi học",
       "School places per 1,000 school-age children", "education", "chỗ/1.000 trẻ", "higher",
       "school_places", "people", 1000 / SCHOOL_AGE_SHARE,
       description={"vi": f"Trẻ 3–17 tuổi ước tính bằng {SCHOOL_AGE_SHARE:.0%} số nhân khẩu.",
                    "en": f"Children aged 3-17 estimated as {SCHOOL_AGE_SHARE:.0%} of household "
                          "members."},
       targets=_t(1000, f"{PLAN}: huy động trẻ đến trường (mầm non 98%, tiểu học 99,8%, THCS 95%)"
                  " — mỗi trẻ một chỗ học")),
    _c("school_utilisation_rate", "Tỷ lệ sử dụng chỗ học (học sinh/quy mô)",
       "School utilisation (students per place)", "education", "%", "lower", "students",
       "school_places", 100, targets=_t(100, "Quy mô thiết kế của trường (không vượt số chỗ học)"),
       drill=Drill("schools", "f.students > f.capacity")),
    _c("students_per_classroom", "Số học sinh trên một phòng học", "Students per classroom",
       "education", "học sinh/phòng", "lower", "students", "classrooms",
       targets=_t(35, "Thông tư 28/2020/TT-BGDĐT, Điều 6: mỗi lớp tiểu học không quá 35 học sinh")),
    _c("school_permanent_rate", "Tỷ lệ trường học kiên cố", "Share of permanent school buildings",
       "education", "%", "higher", "schools_permanent", "schools", 100,
       targets=_t(_ref_target("schools_and_commune_health_stations_permanent_pct"), _PERMANENT_BASIS),
       drill=Drill("schools", "f.building_type IS DISTINCT FROM 'permanent'")),
    # Transport
    _c("paved_road_share", "Tỷ lệ chiều dài đường được cứng hóa", "Share of paved road length",
       "transport", "%", "higher", "paved_km", "road_km", 100,
       drill=Drill("roads", "f.surface IN ('gravel', 'earth')")),
    _c("rural_road_paved_share", "Tỷ lệ đường xã, thôn được cứng hóa",
       "Share of commune and village roads paved", "transport", "%", "higher", "rural_paved_km",
       "rural_road_km", 100, targets=_t(100, _NTM),
       drill=Drill("roads", "f.road_class IN ('commune', 'village') AND f.surface IN ('gravel', "
                   "'earth')")),
    _c("earth_road_km", "Chiều dài đường đất", "Length of earth roads", "transport", "km", "lower",
       "earth_km", drill=Drill("roads", "f.surface = 'earth'")),
    # Environment
    _c("water_supply_km_per_1000_households", "Chiều dài ống cấp nước trên 1.000 hộ",
       "Water supply pipes per 1,000 households", "environment", "km/1.000 hộ", "higher",
       "supply_km", "households", 1000),
    _c("env_sensors_online_rate", "Tỷ lệ trạm quan trắc môi trường hoạt động",
       "Share of environmental sensors online", "environment", "%", "higher", "env_sensors_online",
       "env_sensors", 100,
       drill=Drill("iot_stations", "f.kind IN ('rain_gauge', 'water_level', 'air_quality') AND "
                   "f.status <> 'online'")),
    _r("forest_cover_pct", "Tỷ lệ che phủ rừng", "Forest cover", "environment", "%", "higher",
       "so_nn_mt", targets=_t(_ref_target("forest_cover_pct"), PLAN)),
    _r("rural_hygienic_water_pct", "Tỷ lệ dân cư nông thôn dùng nước hợp vệ sinh",
       "Rural population with hygienic water", "environment", "%", "higher", "so_nn_mt",
       targets=_t(_ref_target("rural_hygienic_water_pct"), PLAN)),
    # Public order
    _c("cameras_per_10k", "Số camera giám sát trên 10.000 dân", "Surveillance cameras per 10,000 "
       "people", "public_order", "camera/10.000 dân", "higher", "cameras", "people", 10_000),
    _c("cameras_online_rate", "Tỷ lệ camera hoạt động", "Share of cameras online", "public_order",
       "%", "higher", "cameras_online", "cameras", 100,
       drill=Drill("iot_stations", "f.kind = 'camera' AND f.status <> 'online'")),
    _r("criminal_cases", "Số vụ phạm pháp hình sự", "Criminal offences", "public_order", "vụ",
       "lower", "cong_an_tinh"),
    _r("traffic_accidents", "Số vụ tai nạn giao thông", "Traffic accidents", "public_order", "vụ",
       "lower", "cong_an_tinh"),
    # Citizen interaction: published from the feedback cases (POST /api/v1/feedback/indicators)
    _r("feedback_on_time_pct", "Tỷ lệ phản ánh được trả lời đúng hạn",
       "Citizen feedback answered on time", "socio_economic", "%", "higher", "so_khcn",
       targets=_t(100.0, "Quyết định 1757/QĐ-UBND (2025), Điều 10 và 14.4: tiếp nhận, xử lý và "
                  "trả kết quả phản ánh trong thời hạn", 2025, 2025)),  # later years: /targets
    # Socio-economic plan indicators (reported)
    _r("grdp_growth_pct", "Tốc độ tăng trưởng GRDP", "GRDP growth", "socio_economic", "%/năm",
       "higher", "so_tai_chinh", targets=_t(_ref_target("grdp_growth_pct_per_year"), PLAN)),
    _r("grdp_per_capita_mvnd", "GRDP bình quân đầu người", "GRDP per capita", "socio_economic",
       "triệu đồng", "higher", "so_tai_chinh",
       targets=_t(_ref_target("grdp_per_capita_2025_mvnd"), PLAN, 2025, 2025)),
    _r("budget_revenue_bn_vnd", "Thu ngân sách trên địa bàn", "Budget revenue", "socio_economic",
       "tỷ đồng", "higher", "so_tai_chinh",
       targets=_t(_ref_target("budget_revenue_bn_vnd"), PLAN, 2025, 2025)),
    _r("poverty_rate_pct", "Tỷ lệ hộ nghèo (báo cáo)", "Poverty rate (reported)", "socio_economic",
       "%", "lower", "so_nn_mt", targets=(Target(_poverty_target_2025(), 2025, 2025,
                                                  _POVERTY_BASIS),)),
    _r("ntm_communes_share_pct", "Tỷ lệ xã đạt chuẩn nông thôn mới", "Communes meeting the new "
       "rural standard", "socio_economic", "%", "higher", "so_nn_mt",
       targets=_t(_ref_target("ntm_communes_share_pct"), PLAN, 2025, 2025)),
    _r("households_on_grid_pct", "Tỷ lệ hộ dùng điện lưới quốc gia", "Households on the national "
       "grid", "socio_economic", "%", "higher", "so_cong_thuong",
       targets=_t(_ref_target("households_on_grid_pct"), PLAN, 2025, 2025)),
    _r("jobs_created", "Số lao động được tạo việc làm", "Jobs created", "socio_economic",
       "người/năm", "higher", "so_noi_vu", targets=_t(_ref_target("jobs_per_year"), PLAN)),
)
_BY_ID = {i.id: i for i in INDICATORS}

# Actual figures of the reference file entered as reported values: (reference key, indicator).
REFERENCE_ACTUALS = (
    ("grdp_growth_pct", "grdp_growth_pct"),
    ("grdp_per_capita_mvnd", "grdp_per_capita_mvnd"),
    ("poverty_rate_pct", "poverty_rate_pct"),
    ("forest_cover_pct", "forest_cover_pct"),
)


def get_indicator(indicator_id: str) -> Indicator | None:
    """The indicator ``indicator_id``, or None."""
    return _BY_ID.get(indicator_id)


def require_indicator(indicator_id: str, parameter: str = "indicator") -> Indicator:
    """The indicator ``indicator_id``; a 404 listing the known ids otherwise."""
    indicator = _BY_ID.get(indicator_id)
    if indicator is None:
        known = ", ".join(sorted(_BY_ID))
        raise NotFoundError(f"Không có chỉ tiêu '{indicator_id}'. Các chỉ tiêu: {known}.",
                            message_en=f"There is no indicator '{indicator_id}'. Indicators: {known}.",
                            parameter=parameter)
    return indicator


def by_sector(sector: str) -> tuple[Indicator, ...]:
    """The indicators of one sector, in catalogue order."""
    return tuple(i for i in INDICATORS if i.sector == sector)


def describe(indicator: Indicator) -> dict:
    """Public description of an indicator."""
    return {
        "id": indicator.id, "name": indicator.name, "sector": indicator.sector,
        "sector_name": SECTORS[indicator.sector], "unit": indicator.unit,
        "direction": indicator.direction, "kind": indicator.kind,
        "owner": indicator.owner or None, "description": indicator.description or None,
        "layers": sorted({MEASURE_LAYER[m] for m in indicator.measures}),
        "targets": [{"value": t.value, "periods": f"{t.start}–{t.end}" if t.start != t.end
                     else str(t.start), "legal_basis": t.legal_basis} for t in indicator.targets],
    }
