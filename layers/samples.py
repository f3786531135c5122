"""Sample data for every layer: the real boundaries plus a deterministic synthetic generator.

``load_samples`` truncates the 14 layer tables and fills them in one transaction. ``province``
and ``communes`` come from ``data_samples/`` (real reference boundaries); everything else is
synthetic, generated with ``numpy.random.Generator(PCG64(...))`` from ``seed`` at the province's
real scale when ``scale=1.0``. The same seed and scale give byte-identical rows and ids.

Features are generated in a local metric plane (equirectangular around the province), kept at
least a metre inside their commune, and converted to EPSG:4326 only when written.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.random import PCG64, Generator
from psycopg2 import sql
from pyproj import Geod, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from sqlalchemy.engine import Engine

from gis_core.settings import SAMPLES_DIR
from layers.registry import LAYERS
from layers.tables import TABLES

DEFAULT_SEED = 20250701

ICT = timezone(timedelta(hours=7))
# Every "recent" timestamp is relative to this instant, never to now(), so reloads are identical.
REFERENCE_TIME = datetime(2025, 11, 30, 9, 0, tzinfo=ICT)
BOUNDARIES_VALID_FROM = datetime(2025, 7, 1, 0, 0, tzinfo=ICT)

PROVINCE_CODE = "12"
PROVINCE_NAME_EN = "Lai Chau"
PROVINCE_AREA_KM2 = 9068.73
TOTAL_POPULATION = 500_000  # synthetic 2024-25 estimate, spread over the communes
TOTAL_HOUSEHOLDS = 107_700  # 20,961 poor households = 19.46 % (2024)
POOR_SHARE = 0.1946
NEAR_POOR_SHARE = 0.0933
# Approximate centre of the provincial capital (the former Lai Châu city), lon/lat.
CAPITAL_CENTRE = (103.4585, 22.3965)

_SRID = 4326
_INSET_M = 1.0  # features stay this far inside their commune
_GEOD = Geod(ellps="WGS84")

# ---------------------------------------------------------------- local metric plane
_LON0, _LAT0 = 103.15, 22.25
_PHI = math.radians(_LAT0)
_KX = 111_412.84 * math.cos(_PHI) - 93.5 * math.cos(3 * _PHI)  # metres per degree of longitude
_KY = 111_132.954 - 559.822 * math.cos(2 * _PHI) + 1.175 * math.cos(4 * _PHI)
_ORIGIN = np.array([_LON0, _LAT0])
_FACTOR = np.array([_KX, _KY])


def _to_plane(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: (c - _ORIGIN) * _FACTOR)


def _to_lonlat(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: c / _FACTOR + _ORIGIN)


def _xy_to_plane(lon: float, lat: float) -> np.ndarray:
    return (np.array([lon, lat]) - _ORIGIN) * _FACTOR


# ---------------------------------------------------------------- people and places
@dataclass(frozen=True)
class _Names:
    """Name parts of one ethnic group (family, middle and given names by sex)."""

    family: tuple[str, ...]
    male_middle: tuple[str, ...]
    female_middle: tuple[str, ...]
    male_given: tuple[str, ...]
    female_given: tuple[str, ...]
    village_style: str


_GROUPS = ("thai", "mong", "dao", "kinh", "ha_nhi", "giay", "lu", "cong", "la_hu")
_NAMES: dict[str, _Names] = {
    "thai": _Names(
        ("Lò", "Lường", "Tòng", "Quàng", "Cầm", "Điêu", "Hoàng", "Tao", "Vì", "Bạc", "Lừ",
         "Sầm", "Lù", "Cà"),
        ("Văn",), ("Thị",),
        ("Pánh", "Khăm", "Inh", "Chăn", "Xuân", "Định", "Thoan", "Bun", "Sinh", "Thương", "Ban",
         "Bình", "Đôi", "Hom", "Khánh", "Muôn", "Nọi", "Pảng", "Quyết", "Sơn", "Thưởng", "Xôm",
         "Hặc", "Phanh", "Tiến", "Ọn", "Hiên", "Chiến"),
        ("Ún", "Xuân", "Hoa", "Lả", "Ngọc", "Kim", "Thoan", "Tiên", "Lan", "Phương", "Pọm",
         "Ọn", "Hương", "Bua", "Ênh", "Định", "Mai", "Khiêm", "Thu"),
        "thai",
    ),
    "mong": _Names(
        ("Giàng", "Sùng", "Vàng", "Lầu", "Thào", "Lý", "Hờ", "Mùa", "Cứ", "Hạng", "Tráng", "Vừ",
         "Ly", "Má"),
        ("A", "A", "A", "Văn"), ("Thị",),
        ("Páo", "Chứ", "Lử", "Dơ", "Sử", "Tủa", "Chang", "Pó", "Sình", "Dìn", "Lềnh", "Nếnh",
         "Phử", "Sáy", "Xá", "Khua", "Cở", "Tếnh", "Chò", "Pằng", "Giống", "Chinh", "Vư", "Nhè",
         "Lồng", "Tú", "Súa", "Phềnh"),
        ("Mỷ", "Dế", "Pằng", "Sua", "Dua", "Chò", "Say", "Mai", "Ly", "Sinh", "Xúa", "Phềnh",
         "Nu", "Chía", "Dợ", "Máy", "Pà", "Vi", "Chi", "Lan"),
        "mong",
    ),
    "dao": _Names(
        ("Tẩn", "Chảo", "Phàn", "Lý", "Triệu", "Đặng", "Bàn", "Phùng", "Lò"),
        ("Láo", "Láo", "Văn", "A"), ("Mý", "Mẩy", "Thị"),
        ("Sử", "Lở", "Tả", "Chin", "Quẩy", "Seo", "Lưu", "Phẩu", "Chàn", "Tá", "Sành", "Vần",
         "Kiều", "Phấy", "Dùn", "Chiêu", "Chản", "Kẻ", "Lìu", "Sinh", "Giáo", "Phu", "Xiêu"),
        ("Chiêu", "Sành", "Xiêm", "Chản", "Dảo", "Phin", "Xuân", "Mẩy", "Kiều", "Phây", "Lở",
         "Sói", "Chài", "Nái", "Quẩy"),
        "mong",
    ),
    "kinh": _Names(
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Dương",
         "Đinh", "Hà", "Lương", "Trịnh"),
        ("Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thành"),
        ("Thị", "Thị", "Thu", "Thanh", "Ngọc", "Thùy"),
        ("Hùng", "Dũng", "Tuấn", "Hải", "Long", "Nam", "Sơn", "Thắng", "Trung", "Cường", "Hòa",
         "Bình", "Minh", "Quân", "Thành", "Tùng", "Hiếu", "Phong", "Khánh", "Lâm"),
        ("Lan", "Hương", "Hoa", "Mai", "Hằng", "Nga", "Thảo", "Trang", "Hà", "Hạnh", "Yến",
         "Loan", "Huyền", "Nhung", "Oanh"),
        "kinh",
    ),
    "ha_nhi": _Names(
        ("Lý", "Pờ", "Chu", "Phìn", "Lỳ", "Sừ", "Hù", "Chang", "Lò", "Ly", "Phu"),
        ("Giờ", "Hừ", "Xá", "Chà", "Văn", "Ha", "Lù", "Mì"), ("Mé", "Thị"),
        ("Chờ", "Sa", "Lê", "Xá", "Tu", "Ca", "Phà", "Lỳ", "Hừ", "Chừ", "Giá", "Mì", "Xe", "Pà",
         "Cha", "Lù", "Sừ"),
        ("Dụ", "Phạ", "Mé", "Xá", "Chừ", "Ca", "Pà", "Sa", "Hờ", "Lê", "Mì", "Chè"),
        "ha_nhi",
    ),
    "giay": _Names(
        ("Hoàng", "Lò", "Vàng", "Lù", "Giàng", "Sần", "Lìu", "Lộc", "Thèn", "Hà"),
        ("Văn",), ("Thị",),
        ("Sanh", "Dìn", "Nhìn", "Chinh", "Sáng", "Phin", "Lềnh", "Mình", "Thâng", "Vần", "Chỉn",
         "Nhàn", "Seng", "Quang", "Tiến", "Phong"),
        ("Nhàn", "Phin", "Xuân", "Dìn", "Mai", "Sim", "Cúc", "Thu", "Hoa", "Chiên", "Lan"),
        "thai",
    ),
    "lu": _Names(
        ("Lò", "Tao", "Đao", "Pờ", "Chìu", "Lường", "Vàng", "Pạc"),
        ("Văn",), ("Thị",),
        ("Phanh", "Khăm", "Ón", "Sinh", "Ui", "Pặng", "Lả", "Bun", "Chăn", "Phọm", "Sương",
         "Xiêng"),
        ("Phanh", "Ón", "Ui", "Pặng", "Lả", "Bua", "Khăm", "Sương", "Noọng", "Xiêng"),
        "thai",
    ),
    "cong": _Names(
        ("Pờ", "Lò", "Chang", "Hù", "Sin", "Chảo", "Pạc"),
        ("Văn",), ("Thị",),
        ("Sáu", "Sư", "Hái", "Chúng", "Kính", "Diệu", "Sinh", "Thanh", "Xá", "Phé", "Lình"),
        ("Sáu", "Hái", "Diệu", "Sinh", "Xá", "Lình", "Mai", "Phé"),
        "ha_nhi",
    ),
    "la_hu": _Names(
        ("Lò", "Chang", "Pờ", "Phùng", "Lý", "Vàng", "Giàng"),
        ("A", "A", "Văn"), ("Thị",),
        ("Pá", "Hừ", "Là", "Sừ", "Chè", "Xá", "Lơ", "Phì", "Cà", "Pha", "Ngư", "Chừ"),
        ("Pá", "Là", "Mé", "Xá", "Chè", "Ngư", "Ha", "Lơ", "Pha", "Mì"),
        "ha_nhi",
    ),
}
# Ethnic make-up by pre-2025 district (rough shares after the 2009/2019 censuses).
_DISTRICT_MIX: dict[str, dict[str, float]] = {
    "Thành phố Lai Châu": {"kinh": 0.52, "thai": 0.14, "mong": 0.12, "dao": 0.1, "giay": 0.08,
                           "lu": 0.02, "ha_nhi": 0.02},
    "Huyện Tam Đường": {"mong": 0.3, "dao": 0.2, "thai": 0.18, "giay": 0.14, "kinh": 0.13,
                        "lu": 0.05},
    "Huyện Phong Thổ": {"mong": 0.33, "dao": 0.3, "thai": 0.14, "giay": 0.08, "kinh": 0.07,
                        "ha_nhi": 0.04, "lu": 0.04},
    "Huyện Sìn Hồ": {"mong": 0.45, "thai": 0.22, "dao": 0.14, "kinh": 0.08, "ha_nhi": 0.05,
                     "lu": 0.03, "giay": 0.03},
    "Huyện Mường Tè": {"ha_nhi": 0.28, "la_hu": 0.2, "thai": 0.16, "mong": 0.12, "cong": 0.06,
                       "kinh": 0.1, "dao": 0.08},
    "Huyện Nậm Nhùn": {"thai": 0.28, "mong": 0.3, "dao": 0.1, "kinh": 0.1, "cong": 0.1,
                       "ha_nhi": 0.07, "la_hu": 0.05},
    "Huyện Than Uyên": {"thai": 0.58, "mong": 0.18, "kinh": 0.18, "dao": 0.03, "giay": 0.03},
    "Huyện Tân Uyên": {"thai": 0.42, "mong": 0.22, "kinh": 0.18, "dao": 0.12, "giay": 0.03,
                       "lu": 0.03},
}
_CAPITAL_DISTRICT = "Thành phố Lai Châu"
# Rough people per km² of the rural pre-2025 districts (2019 census order of magnitude); the
# two wards (the former city plus five rural communes) get their own density.
_DISTRICT_DENSITY = {
    "Huyện Tam Đường": 80.0, "Huyện Phong Thổ": 77.0, "Huyện Sìn Hồ": 55.0,
    "Huyện Mường Tè": 18.0, "Huyện Nậm Nhùn": 21.0, "Huyện Than Uyên": 85.0,
    "Huyện Tân Uyên": 65.0, "Thành phố Lai Châu": 240.0,
}
_WARD_DENSITY = 240.0
# Relative poverty of the pre-2025 districts (highest in Mường Tè and Nậm Nhùn, lowest in the
# Than Uyên/Tân Uyên valleys), shaping the per-commune rates around the provincial average.
_DISTRICT_HARDSHIP = {
    "Huyện Mường Tè": 2.6, "Huyện Nậm Nhùn": 2.0, "Huyện Sìn Hồ": 1.6, "Huyện Phong Thổ": 1.3,
    "Huyện Tam Đường": 1.0, "Huyện Tân Uyên": 0.9, "Huyện Than Uyên": 0.75,
    "Thành phố Lai Châu": 0.1,
}
_VILLAGE_SYLLABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "thai": (
        ("Nà", "Huổi", "Phiêng", "Pá", "Co", "Nậm", "Bó", "Hua", "Noong", "Pắc", "Tà", "Phai",
         "Na", "Khau", "Hô"),
        ("Khum", "Sài", "Luông", "Mấn", "Pầu", "Đông", "Cưởm", "Phát", "Bon", "Cúm", "Kham",
         "Lăn", "Hàng", "Ngà", "Sẳng", "Pe", "Khoang", "Sảo", "Ít", "Hỏm", "Thiếu", "Mu", "Lụ",
         "Chăn", "Ngọ"),
    ),
    "mong": (
        ("Sin", "Tả", "Sì", "Seo", "Ma", "Làng", "Sang", "Chu", "Lùng", "Páo", "Cư", "Phìn",
         "Lao", "Vàng", "Phan", "Hồ", "Xà", "Mào", "Lù", "Tù", "Pù", "Sủng", "Giàng"),
        ("Chải", "Phìn", "Thàng", "Hồ", "Sáo", "Pheo", "Lìn", "Chang", "San", "Giàng", "Mô",
         "Chồ", "Cang", "Mý", "Ngảo", "Thầu", "Dề", "Lồng", "Sung", "Choang", "Sử", "Pho"),
    ),
    "ha_nhi": (
        ("Pa", "Ka", "Xì", "Nhóm", "Ma", "Tá", "Mù", "Thu", "Phìn", "Hà", "Là", "Sì", "Nậm",
         "Cờ", "Lò"),
        ("Ủ", "Lăng", "Thâu", "Pò", "Ký", "Ló", "Cả", "Lũm", "Hồ", "Khao", "Ma", "Bạ", "Sử",
         "Xá", "Pé", "Ngài", "Chè", "Hạ"),
    ),
}
_KINH_VILLAGES = (
    "Tân Lập", "Hợp Nhất", "Đoàn Kết", "Thống Nhất", "Quyết Tiến", "Hòa Bình", "Tân Bình",
    "Thành Công", "Tiền Phong", "Hưng Phong", "Phúc Yên", "Đồng Tâm", "Tân Hợp", "Minh Khai",
    "Quyết Thắng", "Tân Tiến", "Bình Minh", "Hợp Thành", "Đồng Mới", "Thanh Bình",
)
_STREETS = (
    "Đại lộ Lê Lợi", "Đường Trần Hưng Đạo", "Đường Võ Nguyên Giáp", "Đường Nguyễn Văn Linh",
    "Đường Trường Chinh", "Đường 30 Tháng 4", "Đường Điện Biên Phủ", "Đường Hoàng Văn Thái",
    "Đường Nguyễn Chí Thanh", "Đường Lê Duẩn", "Đường Trần Phú", "Đường Hoàng Quốc Việt",
    "Đường Phan Đình Giót", "Đường Tô Vĩnh Diện", "Đường Lý Thường Kiệt", "Đường Ngô Quyền",
    "Đường Hùng Vương", "Đường Nguyễn Trãi", "Đường Lê Thánh Tông", "Đường Bế Văn Đàn",
    "Đường Trần Quốc Toản", "Đường Chu Văn An", "Đường Kim Đồng", "Đường Tôn Đức Thắng",
    "Đường Phạm Văn Đồng", "Đường Nguyễn Lương Bằng", "Đường Lò Văn Giá", "Đường Vừ A Dính",
)
# Trunk roads as sequences of commune names whose centres they link (neighbours in order).
_NATIONAL_ROADS = (
    ("Quốc lộ 4D", ("Phong Thổ", "Đoàn Kết", "Tân Phong", "Tả Lèng", "Bình Lư")),
    ("Quốc lộ 12", ("Phong Thổ", "Pa Tần", "Lê Lợi", "Nậm Hàng")),
    ("Quốc lộ 32", ("Bình Lư", "Bản Bo", "Mường Khoa", "Tân Uyên", "Pắc Ta", "Mường Than",
                    "Than Uyên")),
    ("Quốc lộ 279", ("Than Uyên", "Mường Kim", "Khoen On")),
    ("Quốc lộ 4H", ("Nậm Hàng", "Mường Mô", "Bum Tở", "Mường Tè", "Thu Lũm")),
)
_PROVINCIAL_ROADS = (
    ("Tỉnh lộ 127", ("Nậm Hàng", "Hua Bum", "Bum Nưa", "Pa Ủ")),
    ("Tỉnh lộ 128", ("Sìn Hồ", "Tủa Sín Chải", "Lê Lợi")),
    ("Tỉnh lộ 129", ("Tân Phong", "Nậm Tăm", "Sìn Hồ")),
    ("Tỉnh lộ 130", ("Đoàn Kết", "Hồng Thu", "Sìn Hồ")),
    ("Tỉnh lộ 132", ("Tân Phong", "Khun Há", "Pu Sam Cáp")),
    ("Tỉnh lộ 133", ("Nậm Tăm", "Nậm Mạ", "Nậm Cuổi", "Nậm Sỏ", "Mường Kim")),
    ("Tỉnh lộ 134", ("Mường Tè", "Mù Cả")),
    ("Tỉnh lộ 135", ("Bum Tở", "Tà Tổng")),
    ("Tỉnh lộ 136", ("Tả Lèng", "Sin Suối Hồ", "Khổng Lào", "Dào San", "Sì Lở Lầu")),
)
# 110 kV lines: (from town, to town, communes passed).
_LINES_110KV = (
    ("Lai Châu", "Tam Đường", ("Tân Phong", "Tả Lèng", "Bình Lư")),
    ("Lai Châu", "Phong Thổ", ("Đoàn Kết", "Phong Thổ")),
    ("Lai Châu", "Sìn Hồ", ("Tân Phong", "Nậm Tăm", "Sìn Hồ")),
    ("Sìn Hồ", "Nậm Nhùn", ("Sìn Hồ", "Lê Lợi", "Nậm Hàng")),
    ("Nậm Nhùn", "Mường Tè", ("Nậm Hàng", "Mường Mô", "Bum Tở")),
    ("Tam Đường", "Tân Uyên", ("Bình Lư", "Bản Bo", "Mường Khoa", "Tân Uyên")),
    ("Tân Uyên", "Than Uyên", ("Tân Uyên", "Pắc Ta", "Mường Than", "Than Uyên")),
)
_CAPITAL = "Lai Châu"
_POWER_OPERATOR = "Công ty Điện lực Lai Châu"
_WATER_OPERATOR = "Công ty Cổ phần Nước sạch Lai Châu"
_DRAINAGE_OPERATOR = "Ban Quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp"
_TREES = (  # species, typical mature height (m)
    ("Ban trắng", 10.0), ("Bằng lăng", 12.0), ("Phượng vĩ", 12.0), ("Sấu", 18.0),
    ("Long não", 16.0), ("Muồng hoàng yến", 10.0), ("Sao đen", 22.0), ("Xà cừ", 20.0),
    ("Lát hoa", 18.0), ("Đào rừng", 7.0), ("Anh đào", 6.0), ("Lộc vừng", 8.0),
    ("Hoa sữa", 15.0), ("Móng bò", 8.0),
)
_ZONE_PREFIX = {
    "residential": "ĐO", "commercial": "TM", "public": "CC", "green": "CX", "industrial": "CN",
    "transport": "GT", "agricultural": "NN", "forest": "LN", "mixed": "HH",
}
_PRIVATE_CLINICS = (
    "Phòng khám đa khoa An Phúc", "Phòng khám đa khoa Hồng Đức", "Phòng khám đa khoa Thiện Tâm",
    "Phòng khám chuyên khoa Răng Hàm Mặt Hoàng Long", "Phòng khám chuyên khoa Nhi Minh Anh",
    "Phòng khám đa khoa Sao Mai", "Phòng khám chuyên khoa Sản phụ khoa Tâm An",
    "Phòng khám đa khoa Việt Đức", "Phòng khám chuyên khoa Mắt Bình An",
    "Phòng khám đa khoa Phúc Lộc",
)


# ---------------------------------------------------------------- model
@dataclass
class _Village:
    """A village (bản) or urban block (tổ dân phố) in the local plane."""

    label: str  # "Bản Nà Khum" / "Tổ dân phố số 3"
    base: str | None  # "Nà Khum" (None for numbered blocks)
    xy: np.ndarray
    weight: float  # nominal households at scale 1 (relative)
    group: int  # dominant ethnic group
    radius: float
    parent: int = -1

    @property
    def lower(self) -> str:
        """The label as it reads inside a sentence ("bản Nà Khum")."""
        return self.label[0].lower() + self.label[1:]


@dataclass
class _Commune:
    """One of the 38 units with what the generator derives from it."""

    index: int
    props: dict[str, Any]
    geom: BaseGeometry  # lon/lat, as in the file
    plane: BaseGeometry
    inner: BaseGeometry  # plane, shrunk by _INSET_M and prepared
    centre: np.ndarray = field(default_factory=lambda: np.zeros(2))
    town: str | None = None
    hardship: float = 1.0  # relative poverty level of its former districts
    population: int = 0
    mix: np.ndarray = field(default_factory=lambda: np.zeros(len(_GROUPS)))
    villages: list[_Village] = field(default_factory=list)

    @property
    def code(self) -> str:
        """Official code."""
        return self.props["code"]

    @property
    def name(self) -> str:
        """Short name ("Bình Lư")."""
        return self.props["name"]

    @property
    def is_ward(self) -> bool:
        """True for a phường."""
        return self.props["unit_type"] == "ward"

    @property
    def unit(self) -> str:
        """"phường" or "xã", as written before a name in running text."""
        return "phường" if self.is_ward else "xã"

    @property
    def districts(self) -> list[str]:
        """Pre-2025 districts its predecessors belonged to."""
        return list(self.props.get("predecessor_districts") or [])


class _Table:
    """Rows of one layer, column by column, with geometries in the local plane."""

    def __init__(self, layer_id: str, *, plane: bool = True) -> None:
        self.layer = next(layer for layer in LAYERS if layer.id == layer_id)
        self.plane = plane
        self.geoms: list[np.ndarray] = []
        self.cols: dict[str, list[Any]] = {
            name: [] for name in ("geom", *(f.name for f in self.layer.fields),
                                  "created_at", "updated_at")
        }

    def __len__(self) -> int:
        return sum(len(g) for g in self.geoms)

    def add(self, geom: BaseGeometry, **values: Any) -> None:
        """Append one feature."""
        self.extend(np.array([geom], dtype=object), **{k: [v] for k, v in values.items()})

    def extend(self, geoms: np.ndarray, **columns: Sequence[Any]) -> None:
        """Append many features; absent columns are NULL."""
        n = len(geoms)
        unknown = set(columns) - set(self.cols)
        if unknown:
            raise KeyError(f"{self.layer.id}: unknown columns {sorted(unknown)}")
        self.geoms.append(np.asarray(geoms, dtype=object))
        for name, values in self.cols.items():
            if name == "geom":
                continue
            given = columns.get(name)
            if given is None:
                values.extend([None] * n)
            else:
                if len(given) != n:
                    raise ValueError(f"{self.layer.id}.{name}: {len(given)} values for {n} rows")
                if isinstance(given, np.ndarray) and given.dtype.kind == "M":
                    values.extend(np.datetime_as_string(given, unit="s", timezone="UTC").tolist())
                else:
                    values.extend(given.tolist() if isinstance(given, np.ndarray) else given)


# ---------------------------------------------------------------- small helpers
def _rng(seed: int, stream: str) -> Generator:
    """An independent generator per stream, so layers do not disturb each other."""
    return Generator(PCG64([seed, zlib.crc32(stream.encode())]))


def _scaled(count: float, scale: float, minimum: int = 0) -> int:
    return max(minimum, int(round(count * scale)))


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total``."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=int)
    exact = weights / weights.sum() * total
    base = np.floor(exact).astype(int)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(len(exact)), -(exact - base)))
    base[order[:rest]] += 1
    return base


def _pick(rng: Generator, options: Sequence[Any], probs: Sequence[float], size: int) -> list[Any]:
    """``size`` draws from ``options`` with probabilities ``probs`` (normalised)."""
    cumulative = np.cumsum(probs, dtype=float)
    idx = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return [options[min(i, len(options) - 1)] for i in idx.tolist()]


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``… if already taken; records the result."""
    candidate, k = name, 2
    while candidate in taken:
        candidate = f"{name} ({k})"
        k += 1
    taken.add(candidate)
    return candidate


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def _utc64(moment: datetime) -> np.datetime64:
    """An aware datetime as a naive UTC numpy datetime64 (seconds)."""
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "s")


def _local_midnight(day: date) -> np.datetime64:
    return _utc64(datetime(day.year, day.month, day.day, tzinfo=ICT))


def _vintage(rng: Generator, n: int, start: datetime) -> tuple[list[datetime], list[datetime]]:
    """created_at/updated_at between ``start`` and REFERENCE_TIME, a third of rows edited."""
    span = (REFERENCE_TIME - start).total_seconds() / 60
    created = [start + timedelta(minutes=int(m)) for m in rng.uniform(0, span * 0.4, n)]
    edited = rng.random(n) < 0.35
    later = rng.uniform(0, 1, n)
    updated = [
        c + timedelta(minutes=int(f * (REFERENCE_TIME - c).total_seconds() / 60)) if e else c
        for c, e, f in zip(created, edited, later, strict=True)
    ]
    return created, updated


# ---------------------------------------------------------------- geometry helpers
def _sample_in(rng: Generator, poly: BaseGeometry, n: int) -> np.ndarray:
    """``n`` uniform points inside ``poly`` (plane), by rejection from its bounding box."""
    minx, miny, maxx, maxy = poly.bounds
    chunks, need = [], n
    while need > 0:
        k = max(64, int(need * 3))
        x, y = rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)
        ok = shapely.contains_xy(poly, x, y)
        pts = np.column_stack([x[ok], y[ok]])[:need]
        chunks.append(pts)
        need -= len(pts)
    return np.vstack(chunks) if chunks else np.empty((0, 2))


def _sample_disc(rng: Generator, poly: BaseGeometry, centres: np.ndarray,
                 radius: np.ndarray | float, rounds: int = 40) -> np.ndarray:
    """One point per centre within ``radius`` of it (denser towards the centre) inside ``poly``.

    Rejection sampling, vectorised; a point still outside after ``rounds`` stays at its centre
    (which must lie inside ``poly``).
    """
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    n = len(centres)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (n,))
    out = centres.copy()
    todo = np.arange(n)
    for _ in range(rounds):
        if not todo.size:
            break
        r = radius[todo] * rng.random(todo.size) ** 0.75
        a = rng.uniform(0, 2 * np.pi, todo.size)
        cand = centres[todo] + np.column_stack([r * np.cos(a), r * np.sin(a)])
        ok = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return out


def _wiggle(rng: Generator, waypoints: np.ndarray, *, amp: float, detail: float = 0.0,
            step: float = 120.0) -> np.ndarray:
    """A winding polyline through ``waypoints``: wide bends of about ``amp`` × leg length plus
    hairpin-like bends of ``detail`` metres; each leg is a graph over its chord (no loops)."""
    out = [np.asarray(waypoints[:1], dtype=float)]
    for a, b in zip(waypoints[:-1], waypoints[1:], strict=True):
        chord = b - a
        length = float(np.hypot(*chord))
        if length < 1.0:
            continue
        n = max(3, int(length // (min(step, 50.0) if detail > 0 else step)) + 2)
        t = np.linspace(0.0, 1.0, n)
        normal = np.array([-chord[1], chord[0]]) / length
        offset = np.zeros(n)
        for k in (1, 2, 3):
            offset += rng.normal(0.0, amp * length / k**1.5) * np.sin(k * np.pi * t)
        if detail > 0:
            # Bends of mixed wavelengths, bunched into stretches by a slow random envelope.
            along = t * length
            bends = sum(rng.uniform(0.4, 1.0)
                        * np.sin(2 * np.pi * along / rng.uniform(250.0, 1200.0)
                                 + rng.uniform(0, 2 * np.pi)) for _ in range(3))
            envelope = (0.5 + 0.5 * np.sin(2 * np.pi * along / rng.uniform(2500.0, 8000.0)
                                           + rng.uniform(0, 2 * np.pi))) ** 2
            offset += detail * envelope * bends * np.sin(np.pi * t) / 1.5
        pts = a + np.outer(t, chord) + np.outer(offset, normal)
        out.append(pts[1:])
    return np.vstack(out)


def _linear(geom: BaseGeometry, min_length: float = 20.0) -> BaseGeometry | None:
    """The line parts of ``geom`` at least ``min_length`` long, as one MultiLineString."""
    if geom is None or geom.is_empty:
        return None
    merged = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
    parts = [p for p in shapely.get_parts(merged)
             if p.geom_type == "LineString" and p.length >= min_length]
    if not parts and merged.geom_type == "GeometryCollection":
        parts = [p for p in shapely.get_parts(merged)
                 if p.geom_type == "LineString" and p.length >= min_length]
    return shapely.MultiLineString(parts) if parts else None


def _polygonal(geom: BaseGeometry, min_area: float) -> BaseGeometry | None:
    """The polygon parts of ``geom`` of at least ``min_area``, as one MultiPolygon."""
    if geom is None or geom.is_empty:
        return None
    parts = [p for p in shapely.get_parts(geom)
             if p.geom_type == "Polygon" and p.area >= min_area]
    return shapely.MultiPolygon(parts) if parts else None


def _clip_lines(poly: BaseGeometry, lines: Sequence[BaseGeometry],
                min_length: float = 20.0) -> list[BaseGeometry | None]:
    """Each line clipped to ``poly`` (MultiLineString), or None when too little remains."""
    if not lines:
        return []
    arr = np.empty(len(lines), dtype=object)
    arr[:] = list(lines)
    inside = shapely.contains(poly, arr)
    return [
        shapely.MultiLineString([line]) if ok else _linear(shapely.intersection(line, poly),
                                                            min_length)
        for line, ok in zip(arr, inside, strict=True)
    ]


def _split_by_commune(line: BaseGeometry, communes: list[_Commune],
                      tree: shapely.STRtree) -> list[tuple[_Commune, BaseGeometry]]:
    """A long line cut into one piece per commune it crosses (outside the province: dropped)."""
    pieces = []
    for i in sorted(tree.query(line, predicate="intersects").tolist()):
        clipped = _linear(shapely.intersection(line, communes[i].inner), 50.0)
        if clipped is not None:
            pieces.append((communes[i], clipped))
    return pieces


def _jittered_grid(rng: Generator, centre: np.ndarray, g: int, w: float, h: float,
                   jitter: float) -> np.ndarray:
    """Nodes (2g+1, 2g+1, 2) of a randomly rotated w × h grid around ``centre``, each node
    moved by up to ``jitter`` of a cell: cells built from shared nodes tile without overlap."""
    angle = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ni, nj = np.meshgrid(np.arange(-g, g + 1), np.arange(-g, g + 1), indexing="ij")
    nodes = np.stack([ni * w, nj * h], axis=-1) + rng.uniform(-jitter, jitter,
                                                              (*ni.shape, 2)) * [w, h]
    return nodes @ rot.T + centre


def _quads(nodes: np.ndarray, a: np.ndarray, b: np.ndarray, span: int) -> np.ndarray:
    """Closed rings of the grid blocks with lower corner node (a, b) and ``span`` cells a side,
    through every boundary node so that neighbouring parcels share their edges exactly."""
    ring = ([(i, 0) for i in range(span)] + [(span, j) for j in range(span)]
            + [(span - i, span) for i in range(span)] + [(0, span - j) for j in range(span)]
            + [(0, 0)])
    return np.stack([nodes[a + di, b + dj] for di, dj in ring], axis=1)


def _as_multi(geom: BaseGeometry) -> BaseGeometry:
    kind = geom.geom_type
    if kind == "Polygon":
        return shapely.MultiPolygon([geom])
    if kind == "LineString":
        return shapely.MultiLineString([geom])
    return geom


def _areas_m2(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal area of small lon/lat polygons, via an equal-area projection (m²)."""
    laea = Transformer.from_crs(
        "EPSG:4326", f"+proj=laea +lat_0={_LAT0} +lon_0={_LON0} +ellps=WGS84 +units=m",
        always_xy=True)
    return shapely.area(shapely.transform(geoms, lambda c: np.column_stack(
        laea.transform(c[:, 0], c[:, 1]))))


def _geodesic_lengths_km(geoms: np.ndarray) -> np.ndarray:
    """Geodesic (WGS 84) length of each lon/lat line geometry, in km."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    coords, coord_of = shapely.get_coordinates(parts, return_index=True)
    same = coord_of[1:] == coord_of[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    _, _, dist = _GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    per_part = np.bincount(coord_of[:-1][same], weights=dist, minlength=len(parts))
    return np.bincount(part_of, weights=per_part, minlength=len(geoms)) / 1000.0


# ---------------------------------------------------------------- boundaries
def _read_features(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["features"]


def _communes(samples_dir: Path, rng: Generator) -> list[_Commune]:
    """The 38 units with their centres, hardship, population estimate and ethnic mix."""
    communes: list[_Commune] = []
    for i, feature in enumerate(_read_features(samples_dir / "communes.geojson")):
        geom = _as_multi(shape(feature["geometry"]))
        plane = _to_plane(geom)
        inner = shapely.buffer(plane, -_INSET_M)
        shapely.prepare(inner)
        communes.append(_Commune(i, dict(feature["properties"]), geom, plane, inner))

    capital = _xy_to_plane(*CAPITAL_CENTRE)
    capital_point = shapely.Point(capital)
    for c in communes:
        for pred in c.props.get("predecessor_names") or []:
            if pred.startswith("Thị trấn "):
                c.town = pred.removeprefix("Thị trấn ")
        margin = 800.0 if c.is_ward else 500.0
        target = capital_point if c.is_ward else c.plane.centroid
        if c.inner.contains(target) and c.inner.boundary.distance(target) >= margin:
            c.centre = np.array(target.coords[0])
        else:
            core = shapely.buffer(c.inner, -margin)
            core = c.inner if core.is_empty else core
            c.centre = np.array(nearest_points(core, target)[0].coords[0])
    central = [c for c in communes if c.is_ward and c.inner.contains(capital_point)]
    if central:
        central[0].town = _CAPITAL

    weights = []
    for c in communes:
        known = [_DISTRICT_HARDSHIP[d] for d in c.districts if d in _DISTRICT_HARDSHIP]
        c.hardship = 0.1 if c.is_ward else float(np.mean(known)) if known else 1.0
        area = float(c.props.get("area_km2_source") or c.props.get("area_km2_geodesic") or 1.0)
        if c.is_ward:
            density = _WARD_DENSITY
        else:
            known = [_DISTRICT_DENSITY[d] for d in c.districts if d in _DISTRICT_DENSITY]
            density = float(np.mean(known)) if known else 55.0
        w = area * density * (1.3 if c.town and not c.is_ward else 1.0)
        weights.append(w * rng.lognormal(0.0, 0.2))
        mix = np.zeros(len(_GROUPS))
        for district in c.districts or [_CAPITAL_DISTRICT]:
            for group, share in _DISTRICT_MIX.get(district, {"kinh": 1.0}).items():
                mix[_GROUPS.index(group)] += share
        c.mix = mix / mix.sum()
    for c, pop in zip(communes, _largest_remainder(np.array(weights), TOTAL_POPULATION),
                      strict=True):
        c.population = int(pop)
    return communes


def _boundary_tables(samples_dir: Path, communes: list[_Commune]) -> tuple[_Table, _Table]:
    province = _Table("province", plane=False)
    feature = _read_features(samples_dir / "province.geojson")[0]
    props = feature["properties"]
    area = round(sum(float(c.props.get("area_km2_source") or 0) for c in communes), 2)
    province.add(
        _as_multi(shape(feature["geometry"])),
        code=props.get("code", PROVINCE_CODE),
        name=props.get("full_name", "Tỉnh Lai Châu"),
        name_en=PROVINCE_NAME_EN,
        area_km2=area or PROVINCE_AREA_KM2,
        created_at=BOUNDARIES_VALID_FROM, updated_at=BOUNDARIES_VALID_FROM,
    )
    table = _Table("communes", plane=False)
    for c in communes:
        p = c.props
        legal = p.get("legal_basis")
        if legal:  # the only English word of the source properties
            legal = legal.replace("; codes: ", "; mã đơn vị hành chính: ")
        table.add(
            c.geom, code=p["code"], name=p["name"], full_name=p["full_name"],
            name_en=p.get("name_en"), unit_type=p["unit_type"],
            area_km2=p.get("area_km2_source"), population=c.population,
            predecessor_codes=list(p.get("predecessor_codes") or []),
            predecessor_names=list(p.get("predecessor_names") or []),
            legal_basis=legal,
            valid_from=date.fromisoformat(p["valid_from"]) if p.get("valid_from") else None,
            created_at=BOUNDARIES_VALID_FROM, updated_at=BOUNDARIES_VALID_FROM,
        )
    return province, table


# ---------------------------------------------------------------- villages
def _village_name(rng: Generator, style: str, taken: set[str]) -> str:
    for _ in range(60):
        if style == "kinh":
            name = _KINH_VILLAGES[rng.integers(len(_KINH_VILLAGES))]
        else:
            first, second = _VILLAGE_SYLLABLES[style]
            name = f"{first[rng.integers(len(first))]} {second[rng.integers(len(second))]}"
        if name.casefold() not in taken:
            taken.add(name.casefold())
            return name
    k = 2
    while f"{name} {k}".casefold() in taken:
        k += 1
    taken.add(f"{name} {k}".casefold())
    return f"{name} {k}"


def _place_villages(rng: Generator, c: _Commune) -> None:
    """Villages: the commune centre plus others spread out, at least ``gap`` metres apart."""
    n = int(np.clip(round(c.population / 445), 6, 70))
    gap = 380.0 if c.is_ward else 850.0
    k_core = int(n * (0.7 if c.is_ward else 0.3)) * 12
    core = _sample_disc(rng, c.inner, np.repeat(c.centre[None], k_core, 0),
                        5000.0 if c.is_ward else 7000.0)
    spread = _sample_in(rng, c.inner, n * 14)
    candidates = np.vstack([core, spread])
    candidates = candidates[rng.permutation(len(candidates))]
    accepted = np.empty((n, 2))
    accepted[0] = c.centre
    k = 1
    for p in candidates:
        if k >= n:
            break
        if np.min(np.sum((accepted[:k] - p) ** 2, axis=1)) >= gap * gap:
            accepted[k] = p
            k += 1
    accepted = accepted[:k]
    dist = np.hypot(*(accepted - c.centre).T)
    order = np.argsort(dist, kind="stable")
    accepted, dist = accepted[order], dist[order]

    capital_mix = np.array([_DISTRICT_MIX[_CAPITAL_DISTRICT].get(g, 0.0) for g in _GROUPS])
    taken = {c.name.casefold()}
    predecessors = [
        p.split(" ", 1)[1] for p in c.props.get("predecessor_names") or []
        if p.startswith("Xã ") and p.split(" ", 1)[1].casefold() != c.name.casefold()
    ]
    urban = c.is_ward & (dist < 4000.0)
    # Former commune seats: spread over the rural villages, from near to far.
    rural = [j for j in range(1, len(accepted)) if not urban[j]]
    seats = {rural[int(len(rural) * (i + 0.5) / len(predecessors))]: name
             for i, name in enumerate(predecessors[:len(rural)])}
    taken.update(name.casefold() for name in seats.values())
    urban_blocks = 0
    villages: list[_Village] = []
    for j, xy in enumerate(accepted):
        mix = capital_mix / capital_mix.sum() if urban[j] else c.mix
        group = int(rng.choice(len(_GROUPS), p=mix))
        weight = float(rng.lognormal(0.0, 0.45))
        if urban[j]:
            weight *= 1.6
            urban_blocks += 1
            label, base = f"Tổ dân phố số {urban_blocks}", None
        else:
            if j == 0:
                base, weight = c.name, weight * 2.2
            elif j in seats:
                base, weight = seats[j], weight * 1.6
            else:
                base = _village_name(rng, _NAMES[_GROUPS[group]].village_style, taken)
            label = f"Bản {base}"
        radius = (220.0 if urban[j] else 160.0) * math.sqrt(weight) + 60.0
        villages.append(_Village(label, base, xy, weight, group, radius))
    # Road tree: each village hangs on the nearest village closer to the centre.
    for j in range(1, len(villages)):
        d2 = np.sum((accepted[:j] - accepted[j]) ** 2, axis=1)
        villages[j].parent = int(np.argmin(d2))
    c.villages = villages


def _major_edges(c: _Commune) -> set[int]:
    """Villages whose link to their parent lies on the way from the centre to a former commune
    seat or to one of the four largest villages: those links are commune roads."""
    predecessors = {p.split(" ", 1)[-1] for p in c.props.get("predecessor_names") or []}
    by_size = sorted(range(1, len(c.villages)), key=lambda j: -c.villages[j].weight)[:4]
    targets = {j for j, v in enumerate(c.villages) if j and v.base in predecessors}
    edges: set[int] = set()
    for j in sorted(targets | set(by_size)):
        while j > 0 and j not in edges:
            edges.add(j)
            j = c.villages[j].parent
    return edges


# ---------------------------------------------------------------- people
def _people(rng: Generator, groups: np.ndarray, male: np.ndarray) -> list[str]:
    """Full names ("Lò Văn Pánh", "Giàng A Páo", "Chảo Mý Chiêu") for ethnic groups and sexes."""
    out = np.empty(len(groups), dtype=object)
    for gi, group in enumerate(_GROUPS):
        parts = _NAMES[group]
        for is_male in (True, False):
            idx = np.flatnonzero((groups == gi) & (male == is_male))
            if not idx.size:
                continue
            middle = parts.male_middle if is_male else parts.female_middle
            given = parts.male_given if is_male else parts.female_given
            f = rng.integers(len(parts.family), size=idx.size)
            m = rng.integers(len(middle), size=idx.size)
            g = rng.integers(len(given), size=idx.size)
            out[idx] = [f"{parts.family[a]} {middle[b]} {given[d]}"
                        for a, b, d in zip(f, m, g, strict=True)]
    return out.tolist()


def _citizen_ids(rng: Generator, male: np.ndarray, birth_year: np.ndarray,
                 taken: set[str]) -> list[str]:
    """12-digit CCCD numbers: province 012, sex/century digit, birth year, 6 random digits."""
    century = np.where(birth_year >= 2000, 2, 0) + (~male).astype(int)
    serial = rng.integers(0, 1_000_000, size=len(male))
    out = []
    for c, y, s in zip(century.tolist(), (birth_year % 100).tolist(), serial.tolist(),
                       strict=True):
        value = f"0{PROVINCE_CODE}{c}{y:02d}{s:06d}"
        while value in taken:
            s = int(rng.integers(0, 1_000_000))
            value = f"0{PROVINCE_CODE}{c}{y:02d}{s:06d}"
        taken.add(value)
        out.append(value)
    return out


def _fit_share(weights: np.ndarray, households: np.ndarray, share: float, cap: float) -> np.ndarray:
    """Per-commune rates proportional to ``weights`` (capped) averaging ``share`` overall."""
    lo, hi = 0.0, 10.0 / max(weights.min(), 1e-9)
    target = share * households.sum()
    for _ in range(80):
        mid = (lo + hi) / 2
        if (np.minimum(cap, mid * weights) * households).sum() < target:
            lo = mid
        else:
            hi = mid
    return np.minimum(cap, hi * weights)


# ---------------------------------------------------------------- layers
class _Generator:
    """Builds every synthetic layer from the communes and one seed."""

    def __init__(self, communes: list[_Commune], seed: int, scale: float) -> None:
        self.communes = communes
        self.seed = seed
        self.scale = scale
        self.by_name = {c.name: c for c in communes}
        self.tree = shapely.STRtree([c.inner for c in communes])
        self.towns = {c.town: c for c in communes if c.town}
        self.streets: list[tuple[str, BaseGeometry]] = []  # ward streets (plane, unclipped)
        self.substations: dict[str, np.ndarray] = {}
        self.water_sources: dict[str, np.ndarray] = {}
        self.parcels: list[dict[str, Any]] = []
        self.citizen_ids: set[str] = set()

    def rng(self, stream: str) -> Generator:
        """The generator of one stream."""
        return _rng(self.seed, stream)

    def near(self, rng: Generator, c: _Commune, xy: np.ndarray, lo: float, hi: float,
             n: int = 1) -> np.ndarray:
        """``n`` points ``lo``–``hi`` metres from ``xy`` inside ``c`` (fallback: ``xy``)."""
        out = np.repeat(np.asarray(xy, dtype=float)[None], n, 0)
        todo = np.arange(n)
        for _ in range(60):
            if not todo.size:
                break
            r = rng.uniform(lo, hi, todo.size)
            a = rng.uniform(0, 2 * np.pi, todo.size)
            cand = np.asarray(xy) + np.column_stack([r * np.cos(a), r * np.sin(a)])
            ok = shapely.contains_xy(c.inner, cand[:, 0], cand[:, 1])
            out[todo[ok]] = cand[ok]
            todo = todo[~ok]
        return out

    # ------------------------------------------------------------ housing
    def housing(self) -> _Table:
        """Households clustered in villages, poverty varying by commune and village."""
        rng = self.rng("housing")
        table = _Table("housing")
        communes = self.communes
        mean_size = np.array([3.9 if c.is_ward else 4.55 for c in communes])
        per_commune = _largest_remainder(
            np.array([c.population for c in communes]) / mean_size,
            _scaled(TOTAL_HOUSEHOLDS, self.scale),
        )
        hardship = np.array([c.hardship for c in communes])
        ward = np.array([c.is_ward for c in communes])
        town = np.array([c.town is not None and not c.is_ward for c in communes])
        w_poor = hardship * rng.lognormal(0, 0.25, len(communes)) * np.where(town, 0.55, 1.0)
        w_near = np.sqrt(hardship) * rng.lognormal(0, 0.2, len(communes))
        w_near = np.where(ward, 0.3, np.where(town, 0.8, 1.0) * w_near)
        n_total = int(per_commune.sum())
        n_poor = _largest_remainder(
            _fit_share(w_poor, per_commune, POOR_SHARE, 0.6) * per_commune,
            int(round(POOR_SHARE * n_total)))
        n_near = _largest_remainder(
            _fit_share(w_near, per_commune, NEAR_POOR_SHARE, 0.3) * per_commune,
            int(round(NEAR_POOR_SHARE * n_total)))

        start_day = date(2024, 2, 1)
        span_days = (date(2025, 10, 31) - start_day).days
        for c, n, k_poor, k_near in zip(communes, per_commune.tolist(), n_poor.tolist(),
                                        n_near.tolist(), strict=True):
            if n == 0:
                continue
            k_near = min(k_near, n - k_poor)
            villages = c.villages
            w = np.array([v.weight for v in villages])
            vid = np.sort(rng.choice(len(villages), size=n, p=w / w.sum()))
            centres = np.array([villages[i].xy for i in vid])
            radius = np.array([villages[i].radius for i in vid])
            xy = _sample_disc(rng, c.inner, centres, radius)
            own_group = np.array([villages[i].group for i in vid])
            mixed = rng.choice(len(_GROUPS), size=n, p=c.mix)
            groups = np.where(rng.random(n) < 0.85, own_group, mixed)
            # Poverty: the k highest of village effect + ethnic effect + household noise
            # (Gumbel top-k, i.e. sampling without replacement weighted by exp(effects)).
            v_effect = rng.normal(0, 0.9, len(villages))
            kinh = groups == _GROUPS.index("kinh")
            score = v_effect[vid] - 1.0 * kinh + rng.gumbel(size=n)
            rank = np.argsort(-score, kind="stable")
            status = np.full(n, "none", dtype=object)
            status[rank[:k_poor]] = "poor"
            status[rank[k_poor:k_poor + k_near]] = "near_poor"
            lam = np.select([status == "poor", status == "near_poor"], [4.25, 3.9], 3.35)
            lam = lam - (0.6 if c.is_ward else 0.0)
            members = np.clip(1 + rng.poisson(lam), 1, 12)
            u = rng.random(n)
            p_temp = np.select([status == "poor", status == "near_poor"], [0.3, 0.14],
                               0.01 if c.is_ward else 0.035)
            p_semi = np.select([status == "poor", status == "near_poor"], [0.5, 0.5],
                               0.15 if c.is_ward else 0.34)
            house = np.where(u < p_temp, "temporary",
                             np.where(u < p_temp + p_semi, "semi_permanent", "permanent"))
            male = rng.random(n) < 0.78
            heads = _people(rng, groups, male)
            birth = rng.integers(1950, 2004, size=n)
            ids = _citizen_ids(rng, male, birth, self.citizen_ids)
            staff_groups = rng.choice(len(_GROUPS), size=4, p=(c.mix + np.eye(len(_GROUPS))[
                _GROUPS.index("kinh")]) / 2)
            staff = _people(rng, staff_groups, rng.random(4) < 0.5)
            surveyor = [staff[i] for i in rng.integers(0, 4, size=n)]
            codes = [f"LC-{c.code}-{i:05d}" for i in range(1, n + 1)]
            n_photos = rng.choice([1, 2, 3], size=n, p=[0.35, 0.45, 0.2])
            photos = [[f"photos/{code}-{k}.jpg" for k in range(1, m + 1)]
                      for code, m in zip(codes, n_photos.tolist(), strict=True)]
            days = rng.integers(0, span_days + 1, size=n)
            days -= (start_day.weekday() + days) % 7 == 6  # no surveys on Sundays
            minutes = rng.integers(7 * 60 + 30, 16 * 60 + 30, size=n)
            surveyed = (_local_midnight(start_day) + days.astype("timedelta64[D]")
                        + minutes.astype("timedelta64[m]"))
            recent = surveyed > _utc64(REFERENCE_TIME - timedelta(days=45))
            v = rng.random(n)
            approval = np.where(recent, np.where(v < 0.6, "pending", "approved"),
                                np.where(v < 0.03, "pending",
                                         np.where(v < 0.05, "rejected", "approved")))
            delay = rng.integers(1, 30, size=n).astype("timedelta64[D]")
            updated = np.where(approval == "pending", surveyed,
                               np.minimum(surveyed + delay, _utc64(REFERENCE_TIME)))
            table.extend(
                shapely.points(xy),
                household_code=codes, head_of_household=heads, citizen_id=ids,
                village=[villages[i].label for i in vid], members=members,
                poverty_status=status, house_type=house, photo_refs=photos,
                surveyed_at=surveyed, surveyed_by=surveyor, approval_status=approval,
                commune_code=[c.code] * n, created_at=surveyed, updated_at=updated,
            )
        return table

    # ------------------------------------------------------------ schools
    def schools(self) -> _Table:
        """Schools of every level; each commune has at least a preschool and a primary school."""
        rng = self.rng("schools")
        table = _Table("schools")
        taken: set[str] = set()
        rows: list[dict[str, Any]] = []
        central = self.towns.get(_CAPITAL)
        for c in self.communes:
            pop = c.population
            bases = [c.name] + [v.base for v in c.villages[1:] if v.base]
            base_village = {v.base: i for i, v in enumerate(c.villages) if v.base}
            if c.is_ward:
                bases = [c.name] + [p.split(" ", 1)[1] for p in c.props["predecessor_names"]
                                    if p.split(" ", 1)[1] != c.name] + bases[1:]
            remote = c.hardship >= 1.5 and not c.is_ward
            plan: list[tuple[str, str, float]] = []  # (level, name prefix, students mean)
            counts = {
                "preschool": (max(1, round(pop / 3500)), 1),
                "primary": (max(1, round(pop / 4300)), 1),
                "lower_secondary": (max(1, round(pop / 9000)), 0),
                "multi_level": (0 if c.is_ward else round(pop / 16000), 0),
            }
            for level, (base_n, minimum) in counts.items():
                n = max(minimum, round(base_n * self.scale))
                per_school = {"preschool": 0.058, "primary": 0.095, "lower_secondary": 0.07,
                              "multi_level": 0.05}[level] * pop / max(base_n, 1)
                for _ in range(n):
                    boarding = remote and rng.random() < 0.5
                    prefix = {
                        "preschool": "Trường Mầm non",
                        "primary": "Trường PTDTBT Tiểu học" if boarding else "Trường Tiểu học",
                        "lower_secondary": "Trường PTDTBT THCS" if boarding else "Trường THCS",
                        "multi_level": "Trường PTDTBT Tiểu học và THCS",
                    }[level]
                    plan.append((level, prefix, per_school))
            upper: list[str] = []
            if c.town and c.town != _CAPITAL:
                upper = [f"Trường THPT {c.town}"]
                plan.append(("multi_level",
                             f"Trường Phổ thông Dân tộc Nội trú THCS và THPT {c.town}", 420.0))
            elif c is central:
                upper = ["Trường THPT Chuyên Lê Quý Đôn", "Trường THPT Thành phố Lai Châu",
                         "Trường Phổ thông Dân tộc Nội trú tỉnh Lai Châu"]
            elif pop > 16000 and not c.is_ward:
                upper = [f"Trường THPT {c.name}"]
            keep = _scaled(len(upper), self.scale)
            for name in upper[:keep]:
                plan.append(("upper_secondary", name, 700.0))

            used: dict[str, int] = {}
            for level, prefix, mean in plan:
                if prefix.startswith(("Trường THPT", "Trường Phổ thông")):
                    name, vi = _unique(prefix, taken), 0
                else:
                    k = used.get(prefix, 0)
                    used[prefix] = k + 1
                    base = bases[k % len(bases)]
                    vi = base_village.get(base, int(rng.integers(len(c.villages))))
                    name, number = f"{prefix} {base}", 2
                    while name in taken:
                        name = f"{prefix} số {number} {base}"
                        number += 1
                    taken.add(name)
                xy = self.near(rng, c, c.villages[vi].xy, 40.0, 250.0)[0]
                students = int(max(25, mean * rng.lognormal(0, 0.25)))
                capacity = int(students * rng.uniform(0.92, 1.35))
                per_room = 25 if level == "preschool" else 32
                building = _pick(rng, ["permanent", "semi_permanent", "temporary"],
                                 [0.82, 0.13, 0.05] if level != "preschool" else [0.72, 0.18,
                                                                                  0.10], 1)[0]
                rows.append(dict(geom=shapely.Point(xy), name=name, level=level,
                                 students=students, capacity=capacity,
                                 classrooms=max(1, math.ceil(capacity / per_room)),
                                 building_type=building, commune_code=c.code))
        created, updated = _vintage(rng, len(rows), datetime(2024, 9, 5, 8, 0, tzinfo=ICT))
        for row, cr, up in zip(rows, created, updated, strict=True):
            table.add(row.pop("geom"), created_at=cr, updated_at=up, **row)
        return table

    # ------------------------------------------------------------ health
    def health(self) -> _Table:
        """One health station per commune, provincial hospitals, regional centres, clinics."""
        rng = self.rng("health")
        table = _Table("health_facilities")
        rows: list[tuple[_Commune, np.ndarray, dict[str, Any]]] = []
        for c in self.communes:
            xy = self.near(rng, c, c.centre, 80.0, 350.0)[0]
            rows.append((c, xy, dict(
                name=f"Trạm Y tế {c.unit} {c.name}", kind="commune_health_station",
                beds=int(rng.integers(4, 11)), doctors=int(rng.choice([0, 1, 1, 1, 2])),
                building_type=_pick(rng, ["permanent", "semi_permanent"], [0.9, 0.1], 1)[0])))
        wards = [c for c in self.communes if c.is_ward]
        hospital_ward = (self.by_name.get("Tân Phong") or self.towns.get(_CAPITAL)
                         or (wards or self.communes)[0])
        for name, beds, doctors in (("Bệnh viện Đa khoa tỉnh Lai Châu", 600, 165),
                                    ("Bệnh viện Y dược cổ truyền tỉnh Lai Châu", 150, 38)):
            xy = self.near(rng, hospital_ward, hospital_ward.centre, 400.0, 1500.0)[0]
            rows.append((hospital_ward, xy, dict(name=name, kind="provincial_hospital",
                                                 beds=beds, doctors=doctors,
                                                 building_type="permanent")))
        for town, c in self.towns.items():
            if town == _CAPITAL:
                continue
            xy = self.near(rng, c, c.centre, 200.0, 900.0)[0]
            rows.append((c, xy, dict(name=f"Trung tâm Y tế khu vực {town}", kind="health_centre",
                                     beds=int(rng.integers(80, 221)),
                                     doctors=int(rng.integers(18, 46)),
                                     building_type="permanent")))
        clinics: list[tuple[_Commune, str, np.ndarray]] = []
        rural = sorted((c for c in self.communes if not c.is_ward and not c.town),
                       key=lambda c: -c.population)
        for c in rural[:8]:
            v = next((v for v in c.villages[1:] if v.base), c.villages[0])
            clinics.append((c, f"Phòng khám đa khoa khu vực {v.base}", v.xy))
        for i, name in enumerate(_PRIVATE_CLINICS):
            c = wards[i % len(wards)] if wards else self.communes[0]
            clinics.append((c, name, c.centre))
        keep = np.sort(rng.permutation(len(clinics))[:_scaled(len(clinics), self.scale)])
        for i in keep.tolist():
            c, name, centre = clinics[i]
            xy = self.near(rng, c, centre, 100.0, 1200.0)[0]
            regional = name.startswith("Phòng khám đa khoa khu vực")
            rows.append((c, xy, dict(name=name, kind="clinic",
                                     beds=int(rng.integers(8, 21)) if regional
                                     else int(rng.integers(0, 5)),
                                     doctors=int(rng.integers(2, 6)),
                                     building_type="permanent")))
        created, updated = _vintage(rng, len(rows), datetime(2024, 6, 1, 8, 0, tzinfo=ICT))
        for (c, xy, values), cr, up in zip(rows, created, updated, strict=True):
            table.add(shapely.Point(xy), commune_code=c.code, created_at=cr, updated_at=up,
                      **values)
        return table

    # ------------------------------------------------------------ roads
    def roads(self) -> _Table:
        """National and provincial roads between commune centres, ward streets, commune and
        village roads within the communes."""
        rng = self.rng("roads")
        table = _Table("roads")
        rows: list[tuple[BaseGeometry, dict[str, Any]]] = []
        for routes, road_class in ((_NATIONAL_ROADS, "national"),
                                   (_PROVINCIAL_ROADS, "provincial")):
            for name, stops in routes:
                found = [self.by_name[s] for s in stops if s in self.by_name]
                if len(found) < 2:
                    continue
                line = shapely.LineString(_wiggle(rng, np.array([c.centre for c in found]),
                                                  amp=0.09, detail=170.0))
                width = round(float(rng.uniform(7.0, 9.0) if road_class == "national"
                                    else rng.uniform(5.5, 7.5)), 1)
                surface = "asphalt" if road_class == "national" or rng.random() < 0.8 \
                    else "concrete"
                for c, piece in _split_by_commune(line, self.communes, self.tree):
                    rows.append((piece, dict(name=name, road_class=road_class, surface=surface,
                                             width_m=width, commune_code=c.code)))
        rows.extend(self._ward_streets(rng))
        local: list[tuple[_Commune, BaseGeometry, dict[str, Any]]] = []
        for c in self.communes:
            major = _major_edges(c)
            for j, v in enumerate(c.villages[1:], start=1):
                if not self.keep(rng):
                    continue
                parent = c.villages[v.parent]
                if j in major:
                    road_class = "commune"
                    name = f"Đường {c.unit} {c.name} – {v.lower}"
                    surface = _pick(rng, ["concrete", "asphalt", "gravel", "earth"],
                                    [0.55, 0.2, 0.2, 0.05], 1)[0]
                    width = round(float(rng.uniform(3.5, 5.5)), 1)
                else:
                    road_class = "village"
                    name = f"Đường {parent.lower} – {v.lower}"
                    surface = _pick(rng, ["concrete", "gravel", "earth"], [0.45, 0.25, 0.3], 1)[0]
                    width = round(float(rng.uniform(2.5, 3.5)), 1)
                coords = _wiggle(rng, np.array([parent.xy, v.xy]), amp=0.1, detail=70.0)
                local.append((c, shapely.LineString(coords), dict(
                    name=name, road_class=road_class, surface=surface, width_m=width,
                    commune_code=c.code)))
            for v in c.villages:
                if v.base is None:
                    continue
                for _ in range(int(rng.integers(2, 5))):
                    if not self.keep(rng):
                        continue
                    end = self.near(rng, c, v.xy, 200.0, 750.0)[0]
                    coords = _wiggle(rng, np.array([v.xy, end]), amp=0.08, step=40.0)
                    local.append((c, shapely.LineString(coords), dict(
                        name=f"Đường nội {v.lower}", road_class="village",
                        surface=_pick(rng, ["concrete", "gravel", "earth"], [0.6, 0.2, 0.2],
                                      1)[0],
                        width_m=round(float(rng.uniform(2.0, 3.0)), 1), commune_code=c.code)))
        rows.extend(self._fit_local(local))
        created, updated = _vintage(rng, len(rows), datetime(2024, 3, 1, 8, 0, tzinfo=ICT))
        for (geom, values), cr, up in zip(rows, created, updated, strict=True):
            table.add(geom, created_at=cr, updated_at=up, **values)
        return table

    def keep(self, rng: Generator) -> bool:
        """Whether to generate one more local feature: a ``scale`` share of them (all at 1)."""
        return self.scale >= 1.0 or bool(rng.random() < self.scale)

    def _fit_local(self, chosen: list[tuple[_Commune, BaseGeometry, dict]]
                   ) -> list[tuple[BaseGeometry, dict[str, Any]]]:
        """Lines clipped to their own commune (too short remains dropped)."""
        out: list[tuple[BaseGeometry, dict[str, Any]]] = []
        by_commune: dict[int, list[tuple[BaseGeometry, dict[str, Any]]]] = {}
        for c, geom, values in chosen:
            by_commune.setdefault(c.index, []).append((geom, values))
        for c in self.communes:
            mine = by_commune.get(c.index, [])
            clipped = _clip_lines(c.inner, [g for g, _ in mine])
            out.extend((g, v) for g, (_, v) in zip(clipped, mine, strict=True) if g is not None)
        return out

    def _ward_streets(self, rng: Generator) -> list[tuple[BaseGeometry, dict[str, Any]]]:
        """A loose grid of named streets around the provincial capital, cut by ward."""
        capital = self.towns.get(_CAPITAL)
        if capital is None:
            return []
        wards = [c for c in self.communes if c.is_ward]
        angle = rng.uniform(0, np.pi / 2)
        axes = [np.array([np.cos(angle), np.sin(angle)]),
                np.array([-np.sin(angle), np.cos(angle)])]
        rows = []
        names = list(_STREETS)
        half = len(names) // 2
        for k, name in enumerate(names):
            along, across = axes[k % 2], axes[(k + 1) % 2]
            idx = k // 2 - half // 2
            offset = idx * rng.uniform(260.0, 380.0)
            length = rng.uniform(1200.0, 3600.0) * (1.6 if k < 2 else 1.0)
            shift = rng.uniform(-400.0, 400.0)
            mid = capital.centre + across * offset + along * shift
            ends = np.array([mid - along * length / 2, mid + along * length / 2])
            line = shapely.LineString(_wiggle(rng, ends, amp=0.015, step=60.0))
            self.streets.append((name, line))
            width = 48.0 if name.startswith("Đại lộ") else round(float(rng.uniform(7.0, 21.0)), 1)
            surface = "asphalt" if rng.random() < 0.9 else "concrete"
            for c in wards:
                clipped = _linear(shapely.intersection(line, c.inner), 30.0)
                if clipped is not None:
                    rows.append((clipped, dict(name=name, road_class="urban", surface=surface,
                                               width_m=width, commune_code=c.code)))
        return rows

    # ------------------------------------------------------------ stations
    def stations(self) -> _Table:
        """Power substations, bus stations and water plants of the towns; rural water plants."""
        rng = self.rng("stations")
        table = _Table("stations")
        rows: list[tuple[_Commune, np.ndarray, dict[str, Any]]] = []
        capital = self.towns.get(_CAPITAL)
        other_ward = next((c for c in self.communes if c.is_ward and c is not capital), capital)
        if other_ward is not None:
            xy = self.near(rng, other_ward, other_ward.centre, 2000.0, 5000.0)[0]
            rows.append((other_ward, xy, dict(name="Trạm biến áp 220 kV Lai Châu",
                                              kind="power_substation", capacity=250.0,
                                              capacity_unit="MVA", operator=_POWER_OPERATOR)))
        for town, c in self.towns.items():
            xy = self.near(rng, c, c.centre, 800.0, 2500.0)[0]
            self.substations[town] = xy
            rows.append((c, xy, dict(name=f"Trạm biến áp 110 kV {town}", kind="power_substation",
                                     capacity=float(rng.choice([25.0, 40.0, 50.0, 63.0])),
                                     capacity_unit="MVA", operator=_POWER_OPERATOR)))
        for town, c in self.towns.items():
            xy = self.near(rng, c, c.centre, 300.0, 900.0)[0]
            big = town == _CAPITAL
            rows.append((c, xy, dict(
                name="Bến xe khách tỉnh Lai Châu" if big else f"Bến xe khách {town}",
                kind="bus_station", capacity=float(220 if big else rng.integers(30, 90)),
                capacity_unit="lượt xe/ngày", operator="Công ty Cổ phần Bến xe Lai Châu")))
        for town, c in self.towns.items():
            xy = self.near(rng, c, c.centre, 1000.0, 3000.0)[0]
            self.water_sources[c.code] = xy
            rows.append((c, xy, dict(
                name=f"Nhà máy nước {town}", kind="water_plant",
                capacity=float(15000 if town == _CAPITAL else int(rng.integers(15, 41)) * 100),
                capacity_unit="m³/ngày đêm", operator=_WATER_OPERATOR)))
        for c in self.communes:
            if c.town or c.is_ward:
                continue
            xy = self.near(rng, c, c.centre, 1000.0, 3000.0)[0]
            self.water_sources[c.code] = xy
            rows.append((c, xy, dict(
                name=f"Trạm cấp nước sinh hoạt xã {c.name}", kind="water_plant",
                capacity=float(int(rng.integers(3, 13)) * 50), capacity_unit="m³/ngày đêm",
                operator=f"Ủy ban nhân dân xã {c.name}")))
        for c in self.communes:  # wards without a plant draw from the capital's
            if c.is_ward and c.code not in self.water_sources and capital is not None:
                self.water_sources[c.code] = self.water_sources[capital.code]
        created, updated = _vintage(rng, len(rows), datetime(2024, 1, 15, 8, 0, tzinfo=ICT))
        for (c, xy, values), cr, up in zip(rows, created, updated, strict=True):
            table.add(shapely.Point(xy), commune_code=c.code, created_at=cr, updated_at=up,
                      **values)
        return table

    # ------------------------------------------------------------ power
    def power_lines(self) -> _Table:
        """110 kV between substations, 35/22 kV feeders to every commune and to villages,
        0.4 kV inside villages."""
        rng = self.rng("power")
        table = _Table("power_lines")
        rows: list[tuple[BaseGeometry, dict[str, Any]]] = []
        for a, b, via in _LINES_110KV:
            if a not in self.substations or b not in self.substations:
                continue
            inner = [self.by_name[n].centre + rng.normal(0, 900.0, 2)
                     for n in via[1:-1] if n in self.by_name]
            pts = np.array([self.substations[a], *inner, self.substations[b]])
            line = shapely.LineString(_wiggle(rng, pts, amp=0.02, step=250.0))
            for c, piece in _split_by_commune(line, self.communes, self.tree):
                rows.append((piece, dict(name=f"Đường dây 110 kV {a} – {b}", voltage_kv=110.0,
                                         kind="overhead", operator=_POWER_OPERATOR,
                                         commune_code=c.code)))
        # Feeders: breadth-first from the substation communes over shared boundaries.
        fed = {c.index: self.substations[c.town] for c in self.communes
               if c.town in self.substations}
        queue = sorted(fed)
        while queue:
            nxt = []
            for i in queue:
                parent = self.communes[i]
                for j in sorted(self.tree.query(parent.inner, predicate="dwithin",
                                                distance=5.0).tolist()):
                    if j in fed:
                        continue
                    child = self.communes[j]
                    start = fed[i]
                    fed[j] = child.centre
                    nxt.append(j)
                    kv = 22.0 if child.is_ward else 35.0
                    line = shapely.LineString(_wiggle(rng, np.array([start, child.centre]),
                                                      amp=0.04, step=200.0))
                    for c, piece in _split_by_commune(line, self.communes, self.tree):
                        rows.append((piece, dict(
                            name=f"Đường dây {kv:g} kV {parent.name} – {child.name}",
                            voltage_kv=kv, kind="overhead", operator=_POWER_OPERATOR,
                            commune_code=c.code)))
            queue = sorted(nxt)
        local: list[tuple[_Commune, BaseGeometry, dict[str, Any]]] = []
        for c in self.communes:
            kv = 22.0 if c.is_ward else 35.0
            if c.town in self.substations:
                line = shapely.LineString(_wiggle(rng, np.array([self.substations[c.town],
                                                                 c.centre]), amp=0.03))
                local.append((c, line, dict(name=f"Đường dây {kv:g} kV lộ ra trạm 110 kV {c.town}",
                                            voltage_kv=kv, kind="overhead",
                                            operator=_POWER_OPERATOR, commune_code=c.code)))
            for v in c.villages[1:]:
                if rng.random() > 0.55 or not self.keep(rng):
                    continue
                parent = c.villages[v.parent]
                line = shapely.LineString(_wiggle(rng, np.array([parent.xy, v.xy]), amp=0.04,
                                                  step=150.0))
                local.append((c, line, dict(name=f"Nhánh rẽ {kv:g} kV {v.lower}", voltage_kv=kv,
                                            kind="overhead", operator=_POWER_OPERATOR,
                                            commune_code=c.code)))
            for v in c.villages:
                urban = v.base is None
                for _ in range(int(rng.integers(1, 3))):
                    if not self.keep(rng):
                        continue
                    end = self.near(rng, c, v.xy, 120.0, 420.0)[0]
                    line = shapely.LineString(_wiggle(rng, np.array([v.xy, end]), amp=0.05,
                                                      step=40.0))
                    local.append((c, line, dict(
                        name=f"Đường dây 0,4 kV {v.lower}", voltage_kv=0.4,
                        kind="underground" if urban and rng.random() < 0.3 else "overhead",
                        operator=_POWER_OPERATOR, commune_code=c.code)))
        rows.extend(self._fit_local(local))
        created, updated = _vintage(rng, len(rows), datetime(2024, 4, 1, 8, 0, tzinfo=ICT))
        for (geom, values), cr, up in zip(rows, created, updated, strict=True):
            table.add(geom, created_at=cr, updated_at=up, **values)
        return table

    # ------------------------------------------------------------ water
    def water_network(self) -> _Table:
        """Supply and drainage along the ward streets; supply mains and drains at commune
        centres."""
        rng = self.rng("water")
        table = _Table("water_network")
        local: list[tuple[_Commune, BaseGeometry, dict[str, Any]]] = []
        wards = [c for c in self.communes if c.is_ward]
        for k, (_name, street) in enumerate(self.streets):
            main = k < 8
            supply = shapely.offset_curve(street, 6.0)
            drain = shapely.offset_curve(street, -6.0)
            for c in wards:
                if not self.keep(rng):
                    continue
                local.append((c, supply, dict(
                    kind="supply", diameter_mm=int(rng.choice([200, 250, 300])) if main
                    else int(rng.choice([63, 90, 110, 160])),
                    material=("steel" if rng.random() < 0.3 else "HDPE") if main
                    else _pick(rng, ["HDPE", "PVC"], [0.7, 0.3], 1)[0],
                    operator=_WATER_OPERATOR, commune_code=c.code)))
                local.append((c, drain, dict(
                    kind="drainage", diameter_mm=int(rng.choice([400, 600, 800, 1000, 1200])),
                    material="concrete", operator=_DRAINAGE_OPERATOR, commune_code=c.code)))
        for c in self.communes:
            source = self.water_sources.get(c.code)
            operator = _WATER_OPERATOR if c.town or c.is_ward else f"Ủy ban nhân dân xã {c.name}"
            if source is not None and not c.is_ward:
                main = shapely.LineString(_wiggle(rng, np.array([source, c.centre]), amp=0.08,
                                                  step=80.0))
                local.append((c, main, dict(kind="supply",
                                            diameter_mm=int(rng.choice([110, 160, 200])),
                                            material="HDPE", operator=operator,
                                            commune_code=c.code)))
            for v in c.villages[1:]:
                d = float(np.hypot(*(v.xy - c.centre)))
                if d > (3500.0 if c.is_ward else 2500.0) or not self.keep(rng):
                    continue
                line = shapely.LineString(_wiggle(rng, np.array([c.centre, v.xy]), amp=0.06,
                                                  step=80.0))
                local.append((c, line, dict(kind="supply",
                                            diameter_mm=int(rng.choice([50, 63, 75, 90])),
                                            material=_pick(rng, ["HDPE", "PVC"], [0.6, 0.4],
                                                           1)[0],
                                            operator=operator, commune_code=c.code)))
            for _ in range(int(rng.integers(2, 5))):
                if not self.keep(rng):
                    continue
                end = self.near(rng, c, c.centre, 300.0, 900.0)[0]
                line = shapely.LineString(_wiggle(rng, np.array([c.centre, end]), amp=0.05,
                                                  step=60.0))
                local.append((c, line, dict(kind="drainage",
                                            diameter_mm=int(rng.choice([300, 400, 600])),
                                            material="concrete", operator=operator,
                                            commune_code=c.code)))
        rows = self._fit_local(local)
        created, updated = _vintage(rng, len(rows), datetime(2024, 5, 1, 8, 0, tzinfo=ICT))
        for (geom, values), cr, up in zip(rows, created, updated, strict=True):
            table.add(geom, created_at=cr, updated_at=up, **values)
        return table

    # ------------------------------------------------------------ trees
    def trees(self) -> _Table:
        """Street trees, most along the ward streets, the rest around commune centres."""
        rng = self.rng("trees")
        table = _Table("trees")
        n = _scaled(3500, self.scale, 1)
        wards = [c for c in self.communes if c.is_ward]
        n_ward = int(round(n * 0.85)) if self.streets and wards else 0
        points: list[tuple[_Commune, np.ndarray]] = []
        if n_ward:
            lengths = np.array([s.length for _, s in self.streets])
            pick = rng.choice(len(self.streets), size=n_ward * 2, p=lengths / lengths.sum())
            t = rng.random(n_ward * 2)
            side = rng.choice([-1.0, 1.0], size=n_ward * 2) * rng.uniform(5.0, 11.0, n_ward * 2)
            for s, tt, off in zip(pick.tolist(), t.tolist(), side.tolist(), strict=True):
                if len(points) >= n_ward:
                    break
                line = self.streets[s][1]
                p = line.interpolate(tt, normalized=True)
                q = line.interpolate(min(1.0, tt + 0.001), normalized=True)
                d = np.array(q.coords[0]) - np.array(p.coords[0])
                norm = np.hypot(*d) or 1.0
                xy = np.array(p.coords[0]) + np.array([-d[1], d[0]]) / norm * off
                for c in wards:
                    if shapely.contains_xy(c.inner, *xy):
                        points.append((c, xy))
                        break
        rural = [c for c in self.communes if not c.is_ward]
        while len(points) < n:
            c = rural[int(rng.integers(len(rural)))] if rural else self.communes[0]
            points.append((c, self.near(rng, c, c.centre, 20.0, 700.0)[0]))
        species = rng.integers(len(_TREES), size=len(points))
        planted = rng.integers(1995, 2025, size=len(points))
        cond = _pick(rng, ["good", "fair", "poor", "dead"], [0.74, 0.19, 0.05, 0.02], len(points))
        created, updated = _vintage(rng, len(points), datetime(2024, 10, 1, 8, 0, tzinfo=ICT))
        for (c, xy), s, year, cd, cr, up in zip(points, species.tolist(), planted.tolist(),
                                                 cond, created, updated, strict=True):
            name, mature = _TREES[s]
            age = 2025 - year
            height = round(float(mature * (1 - math.exp(-age / 9.0)) * rng.uniform(0.7, 1.2)
                                 + 1.0), 1)
            table.add(shapely.Point(xy), species=name, height_m=min(height, 35.0),
                      planted_year=year, condition=cd, commune_code=c.code,
                      created_at=cr, updated_at=up)
        return table

    # ------------------------------------------------------------ IoT
    def iot(self) -> _Table:
        """Cameras in the wards, rain gauges and water-level sensors across the province,
        a few air-quality monitors."""
        rng = self.rng("iot")
        table = _Table("iot_stations")
        taken: set[str] = set()
        rows: list[tuple[_Commune, np.ndarray, dict[str, Any]]] = []
        wards = [c for c in self.communes if c.is_ward]
        if self.streets and wards:
            for k in range(_scaled(60, self.scale, 1)):
                name, line = self.streets[int(rng.integers(len(self.streets)))]
                for _ in range(20):
                    xy = np.array(line.interpolate(rng.random(), normalized=True).coords[0])
                    c = next((w for w in wards if shapely.contains_xy(w.inner, *xy)), None)
                    if c is not None:
                        rows.append((c, xy, dict(name=_unique(f"Camera {k + 1:03d} – {name}",
                                                              taken), kind="camera")))
                        break
        n_rain = _scaled(60, self.scale, 1)
        order = rng.permutation(len(self.communes))
        for k in range(n_rain):
            c = self.communes[int(order[k % len(order)])]
            v = c.villages[int(rng.integers(len(c.villages)))]
            xy = self.near(rng, c, v.xy, 50.0, 300.0)[0]
            rows.append((c, xy, dict(name=_unique(f"Trạm đo mưa {v.lower}, {c.unit} {c.name}",
                                                  taken), kind="rain_gauge")))
        for k in range(_scaled(35, self.scale, 1)):
            c = self.communes[int(order[(k * 7 + 3) % len(order)])]
            river = self._river(c)
            xy = self.near(rng, c, c.villages[int(rng.integers(len(c.villages)))].xy, 200.0,
                           1500.0)[0]
            rows.append((c, xy, dict(name=_unique(f"Trạm đo mực nước {river}, {c.unit} {c.name}",
                                                  taken), kind="water_level")))
        air = [c for c in wards] + [c for c in self.communes if c.town == "Than Uyên"]
        for k in range(_scaled(5, self.scale, 1)):
            if not air:
                break
            c = air[k % len(air)]
            xy = self.near(rng, c, c.centre, 100.0, 1500.0)[0]
            rows.append((c, xy, dict(
                name=_unique(f"Trạm quan trắc không khí tự động {c.unit} {c.name}", taken),
                kind="air_quality")))
        for c, xy, values in rows:
            status = _pick(rng, ["online", "offline", "maintenance"], [0.88, 0.07, 0.05], 1)[0]
            if status == "online":
                ago = timedelta(minutes=float(rng.uniform(0.5, 12)))
            elif status == "offline":
                ago = timedelta(hours=float(rng.uniform(2, 96)))
            else:
                ago = timedelta(days=float(rng.uniform(1, 12)))
            last = (REFERENCE_TIME - ago).replace(microsecond=0)
            kind = values["kind"]
            value, unit = {
                "camera": (None, None),
                "rain_gauge": (round(float(rng.gamma(0.6, 6.0)), 1), "mm"),
                "water_level": (round(float(rng.uniform(0.4, 6.5)), 2), "m"),
                "air_quality": (round(float(rng.uniform(8, 55)), 1), "µg/m³"),
            }[kind]
            installed = datetime(2023, 6, 1, 8, 0, tzinfo=ICT) + timedelta(
                days=int(rng.integers(0, 700)))
            table.add(shapely.Point(xy), status=status, last_reading_at=last, last_value=value,
                      unit=unit, commune_code=c.code, created_at=min(installed, last),
                      updated_at=last, **values)
        return table

    @staticmethod
    def _river(c: _Commune) -> str:
        if c.name.startswith("Nậm "):
            return f"suối {c.name}"
        district = (c.districts or [_CAPITAL_DISTRICT])[0]
        return {
            "Thành phố Lai Châu": "suối Nậm Lỏong", "Huyện Tam Đường": "suối Nậm Lùm",
            "Huyện Phong Thổ": "sông Nậm Na", "Huyện Sìn Hồ": "suối Nậm Tăm",
            "Huyện Mường Tè": "sông Đà", "Huyện Nậm Nhùn": "sông Nậm Na",
            "Huyện Than Uyên": "sông Nậm Mu", "Huyện Tân Uyên": "suối Nậm Sỏ",
        }.get(district, "sông Đà")

    # ------------------------------------------------------------ planning
    def planning_zones(self) -> _Table:
        """The capital's master plan over both wards and detailed plans of commune centres."""
        rng = self.rng("planning")
        table = _Table("planning_zones")
        capital = self.towns.get(_CAPITAL)
        wards = [c for c in self.communes if c.is_ward]
        plans: list[tuple[str, str, list[_Commune], np.ndarray, float, float, date, str]] = []
        if capital is not None:
            plans.append(("Quy hoạch chung đô thị Lai Châu đến năm 2040", "master", wards,
                          capital.centre, 3600.0, 420.0, date(2023, 9, 12),
                          "qhc-do-thi-lai-chau-2040"))
        rural = [c for c in self.communes if not c.is_ward]
        chosen = [c for c in rural if c.town]
        others = [c for c in rural if not c.town]
        for i in sorted(rng.choice(len(others), size=min(4, len(others)),
                                   replace=False).tolist()):
            chosen.append(others[i])
        for c in sorted(chosen, key=lambda c: c.index):
            day = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 6 * 365)))
            plans.append((f"Quy hoạch chi tiết xây dựng trung tâm xã {c.name} tỷ lệ 1/500",
                          "detailed", [c], c.centre, 600.0, 140.0, day,
                          f"qhct-trung-tam-xa-{_ascii_slug(c.name)}"))
        for name, level, communes, centre, radius, cell, decided, slug in plans:
            number = f"{int(rng.integers(100, 3000))}/QĐ-UBND"
            k = int(radius // cell) + 1
            nodes = _jittered_grid(rng, centre, k, cell * rng.uniform(0.85, 1.15),
                                   cell * rng.uniform(0.85, 1.15), 0.18)
            ii, jj = np.meshgrid(np.arange(-k, k), np.arange(-k, k), indexing="ij")
            counters: dict[str, int] = {}
            for i, j in zip(ii.ravel().tolist(), jj.ravel().tolist(), strict=True):
                ring = _quads(nodes, np.array([i + k]), np.array([j + k]), 1)[0]
                dist = float(np.hypot(*(ring[:4].mean(axis=0) - centre)))
                if dist > radius:
                    continue
                cell_poly = shapely.Polygon(ring)
                land_use = self._land_use(rng, dist / radius, level)
                for c in communes:
                    if c.inner.contains(cell_poly):
                        piece = shapely.MultiPolygon([cell_poly])
                    elif c.inner.intersects(cell_poly):
                        piece = _polygonal(shapely.intersection(cell_poly, c.inner),
                                           0.25 * cell * cell)
                    else:
                        continue
                    if piece is None:
                        continue
                    prefix = _ZONE_PREFIX[land_use]
                    counters[prefix] = counters.get(prefix, 0) + 1
                    table.add(piece, plan_name=name, plan_level=level, land_use=land_use,
                              zone_code=f"{prefix}-{counters[prefix]:02d}",
                              decision_number=number, decision_date=decided,
                              drawing_url=f"docs/planning/{slug}/ban-ve-quy-hoach.pdf",
                              report_url=f"docs/planning/{slug}/thuyet-minh.pdf",
                              commune_code=c.code,
                              created_at=datetime(decided.year, decided.month, decided.day, 9,
                                                  tzinfo=ICT) + timedelta(days=30),
                              updated_at=datetime(decided.year, decided.month, decided.day, 9,
                                                  tzinfo=ICT) + timedelta(days=30))
        return table

    @staticmethod
    def _land_use(rng: Generator, r: float, level: str) -> str:
        if r < 0.2:
            options, probs = ["commercial", "mixed", "public", "green"], [0.3, 0.3, 0.25, 0.15]
        elif r < 0.6:
            options = ["residential", "public", "green", "commercial", "transport"]
            probs = [0.58, 0.14, 0.14, 0.08, 0.06]
        elif level == "master" and r < 0.85:
            options = ["residential", "green", "industrial", "agricultural", "transport"]
            probs = [0.42, 0.18, 0.12, 0.22, 0.06]
        elif level == "master":
            options, probs = ["agricultural", "forest", "green"], [0.45, 0.45, 0.1]
        else:
            options, probs = ["residential", "green", "agricultural"], [0.55, 0.2, 0.25]
        return _pick(rng, options, probs, 1)[0]

    # ------------------------------------------------------------ land
    def land_parcels(self) -> _Table:
        """Cadastral parcels on a slightly irregular grid around each village: house plots
        near the middle, larger fields further out; one map sheet per village."""
        rng = self.rng("land")
        table = _Table("land_parcels")
        all_villages = [(c, j, v) for c in self.communes for j, v in enumerate(c.villages)]
        counts = _largest_remainder(np.array([v.weight for _, _, v in all_villages]),
                                    _scaled(12000, self.scale))
        for (c, j, v), k in zip(all_villages, counts.tolist(), strict=True):
            if k == 0:
                continue
            urban = v.base is None
            k_res = max(1, int(round(k * (0.8 if urban else 0.6))))
            k_agr = k - k_res
            w, h = rng.uniform(16.0, 24.0), rng.uniform(22.0, 34.0)
            g = int(math.ceil(math.sqrt(k_res + 6 * k_agr) / 2)) + 3
            nodes = _jittered_grid(rng, v.xy, g, w, h, 0.15)

            ci, cj = np.meshgrid(np.arange(-g, g), np.arange(-g, g), indexing="ij")
            ci, cj = ci.ravel(), cj.ravel()
            dist = np.hypot((ci + 0.5) * w, (cj + 0.5) * h)
            res_order = np.argsort(dist, kind="stable")[:k_res]
            res_cells = set(zip(ci[res_order].tolist(), cj[res_order].tolist(), strict=True))
            bi, bj = np.meshgrid(np.arange(-g, g - 1, 2), np.arange(-g, g - 1, 2),
                                 indexing="ij")
            bi, bj = bi.ravel(), bj.ravel()
            free = np.array([not any((a + da, b + db) in res_cells for da in (0, 1)
                                     for db in (0, 1))
                             for a, b in zip(bi.tolist(), bj.tolist(), strict=True)], dtype=bool)
            bdist = np.hypot((bi + 1) * w, (bj + 1) * h)
            b_order = [i for i in np.argsort(bdist, kind="stable").tolist() if free[i]]
            b_order = [i for i in b_order if rng.random() < 0.7][:k_agr]
            res_q = _quads(nodes, ci[res_order] + g, cj[res_order] + g, 1)
            agr_q = (_quads(nodes, bi[b_order] + g, bj[b_order] + g, 2) if b_order
                     else np.empty((0, 9, 2)))
            polys = np.concatenate([shapely.polygons(res_q), shapely.polygons(agr_q)])
            ok = shapely.contains(c.inner, polys)
            uses = self._parcel_uses(rng, c, v, j, len(res_q), len(agr_q))
            sheet = j + 1
            number = 0
            for poly, use, good in zip(polys.tolist(), uses, ok.tolist(), strict=True):
                if not good:
                    continue
                number += 1
                table.add(poly, map_sheet=sheet, parcel_number=number, land_use_type=use,
                          commune_code=c.code)
                self.parcels.append(dict(commune=c, village=v, poly=poly, sheet=sheet,
                                         number=number, use=use))
        created, updated = _vintage(rng, len(table), datetime(2024, 2, 20, 8, 0, tzinfo=ICT))
        table.cols["created_at"], table.cols["updated_at"] = created, updated
        return table

    @staticmethod
    def _parcel_uses(rng: Generator, c: _Commune, v: _Village, j: int, n_res: int,
                     n_agr: int) -> list[str]:
        home = "ODT" if c.is_ward and v.base is None else "ONT"
        uses = [home] * n_res
        if j == 0 and n_res >= 6:
            uses[1:4] = ["TSC", "DGD", "DYT"]
        fields = ["LUA", "HNK", "CLN", "RSX", "RPH"]
        probs = [0.15, 0.3, 0.4, 0.1, 0.05] if c.is_ward else [0.35, 0.25, 0.22, 0.12, 0.06]
        return uses + _pick(rng, fields, probs, n_agr)

    def construction_permits(self) -> _Table:
        """Permits for house plots, most in the wards and former district towns."""
        rng = self.rng("permits")
        table = _Table("construction_permits")
        plots = [p for p in self.parcels if p["use"] in ("ONT", "ODT")]
        if not plots:
            return table
        weight = np.array([6.0 if p["commune"].is_ward else 2.0 if p["commune"].town else 1.0
                           for p in plots])
        n = min(len(plots), _scaled(700, self.scale, 1))
        chosen = np.sort(rng.choice(len(plots), size=n, replace=False, p=weight / weight.sum()))
        first = date(2019, 1, 1)
        days = rng.integers(0, (date(2025, 11, 15) - first).days, size=n)
        order = np.lexsort((chosen, days))
        male = rng.random(n) < 0.7
        groups = np.array([int(rng.choice(len(_GROUPS), p=plots[i]["commune"].mix))
                           for i in chosen.tolist()])
        names = _people(rng, groups, male)
        ids = _citizen_ids(rng, male, rng.integers(1955, 2000, size=n), self.citizen_ids)
        per_year: dict[int, int] = {}
        for k in order.tolist():
            p = plots[int(chosen[k])]
            day = first + timedelta(days=int(days[k]))
            per_year[day.year] = per_year.get(day.year, 0) + 1
            age = (REFERENCE_TIME.date() - day).days
            if rng.random() < 0.03:
                status = "revoked"
            elif age > 730:
                status = "completed" if rng.random() < 0.85 else "under_construction"
            elif age > 365:
                status = _pick(rng, ["completed", "under_construction", "issued"],
                               [0.5, 0.45, 0.05], 1)[0]
            else:
                status = _pick(rng, ["issued", "under_construction", "completed"],
                               [0.45, 0.45, 0.1], 1)[0]
            urban = p["commune"].is_ward
            floors = int(min(9, 1 + rng.geometric(0.45 if urban else 0.75)))
            footprint = abs(float(_GEOD.geometry_area_perimeter(_to_lonlat(p["poly"]))[0]))
            issued = datetime(day.year, day.month, day.day, 14, 0, tzinfo=ICT)
            table.add(
                p["poly"].centroid,
                permit_number=f"{per_year[day.year]:03d}/{day.year}/GPXD",
                permit_date=day, applicant_name=names[k], applicant_id_number=ids[k],
                map_sheet=p["sheet"], parcel_number=p["number"], floors=floors,
                floor_area_m2=round(floors * footprint * float(rng.uniform(0.4, 0.75)), 1),
                status=status, commune_code=p["commune"].code, created_at=issued,
                updated_at=issued if status == "issued" else min(
                    REFERENCE_TIME, issued + timedelta(days=int(rng.integers(30, 700)))),
            )
        return table


# ---------------------------------------------------------------- writing
_SPECIAL = re.compile(r"[\\\t\n\r]")
_NULL = "\\N"


def _escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _array_literal(items: Sequence[Any]) -> str:
    quoted = ('"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


def _number(value: Any) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {value!r}")
    return repr(value)


def _moment(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat(sep=" ")


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": str,
    "integer": lambda v: str(int(v)),
    "number": _number,
    "boolean": lambda v: "t" if v else "f",
    "date": lambda v: v.isoformat(),
    "datetime": _moment,
    "text[]": _array_literal,
}


def _column_text(values: list[Any], kind: str) -> list[str]:
    """One column in COPY text format."""
    fmt = _FORMATTERS[kind]
    out = [_NULL if v is None else fmt(v) for v in values]
    if kind in ("text", "text[]") and _SPECIAL.search("".join(out)):
        out = [v if v is _NULL else _escape(v) for v in out]
    return out


def _finish(table: _Table) -> tuple[list[str], int, io.StringIO]:
    """Geometries to EPSG:4326 EWKB, derived lengths and areas, checks, COPY text (NFC)."""
    geoms = np.concatenate(table.geoms) if table.geoms else np.empty(0, dtype=object)
    if table.plane and len(geoms):
        geoms = _to_lonlat(geoms)
        if table.layer.geometry == "Point":
            geoms = shapely.transform(geoms, lambda c: np.round(c, 7))
        else:
            geoms = shapely.set_precision(geoms, 1e-7)
    if table.layer.geometry != "Point":
        geoms = np.array([_as_multi(g) for g in geoms], dtype=object)
    type_id = {"Point": 0, "MultiLineString": 5, "MultiPolygon": 6}[table.layer.geometry]
    if len(geoms) and (shapely.is_empty(geoms).any()
                       or (shapely.get_type_id(geoms) != type_id).any()):
        raise ValueError(f"{table.layer.id}: empty or mistyped geometry")
    cols = table.cols
    if "length_km" in cols and len(geoms):
        cols["length_km"] = np.round(_geodesic_lengths_km(geoms), 3).tolist()
    if table.layer.id == "land_parcels" and len(geoms):
        cols["area_m2"] = np.round(_areas_m2(geoms), 1).tolist()
    kinds = {f.name: f.type for f in table.layer.fields}
    kinds.update(created_at="datetime", updated_at="datetime")
    for spec in table.layer.fields:
        values = cols[spec.name]
        if spec.required and any(v is None for v in values):
            raise ValueError(f"{table.layer.id}.{spec.name}: missing required values")
        if spec.domain:
            bad = {v for v in values if v is not None} - set(spec.domain)
            if bad:
                raise ValueError(f"{table.layer.id}.{spec.name}: outside the domain: {bad}")
    names = [name for name in cols if name in TABLES[table.layer.id].c]
    columns = [
        shapely.to_wkb(shapely.set_srid(geoms, _SRID), hex=True, include_srid=True).tolist()
        if name == "geom" else _column_text(cols[name], kinds[name])
        for name in names
    ]
    text = "".join("\t".join(row) + "\n" for row in zip(*columns, strict=True))
    return names, len(geoms), io.StringIO(unicodedata.normalize("NFC", text))


def _generate(samples_dir: Path, seed: int, scale: float) -> dict[str, _Table]:
    communes = _communes(samples_dir, _rng(seed, "communes"))
    village_rng = _rng(seed, "villages")
    for c in communes:
        _place_villages(village_rng, c)
    province, commune_table = _boundary_tables(samples_dir, communes)
    gen = _Generator(communes, seed, scale)
    steps: list[tuple[str, Callable[[], _Table]]] = [
        ("stations", gen.stations), ("roads", gen.roads), ("housing", gen.housing),
        ("schools", gen.schools), ("health_facilities", gen.health),
        ("power_lines", gen.power_lines), ("water_network", gen.water_network),
        ("trees", gen.trees), ("iot_stations", gen.iot), ("planning_zones", gen.planning_zones),
        ("land_parcels", gen.land_parcels), ("construction_permits", gen.construction_permits),
    ]
    tables = {"province": province, "communes": commune_table}
    for layer_id, build in steps:
        tables[layer_id] = build()
    return tables


def load_samples(engine: Engine, *, scale: float = 1.0, seed: int = DEFAULT_SEED,
                 samples_dir: Path | None = None) -> dict[str, int]:
    """Replace the contents of every layer table with the sample data; rows per layer id.

    One transaction: the tables are truncated (identities restarted) and refilled with COPY, so
    a failure leaves them as they were and a reload with the same ``seed`` and ``scale`` gives
    identical rows and ids. ``scale`` multiplies the synthetic feature counts (1.0 = the
    province's real order of magnitude); ``samples_dir`` overrides ``data_samples/``.
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    tables = _generate(Path(samples_dir or SAMPLES_DIR), seed, scale)
    layer_ids = [layer.id for layer in LAYERS if layer.id in tables]
    prepared = {layer_id: _finish(tables[layer_id]) for layer_id in layer_ids}

    def ident(layer_id: str) -> sql.Composable:
        table = TABLES[layer_id]
        if table.schema:
            return sql.SQL("{}.{}").format(sql.Identifier(table.schema),
                                           sql.Identifier(table.name))
        return sql.Identifier(table.name)

    counts: dict[str, int] = {}
    with engine.begin() as conn:
        cur = conn.connection.cursor()
        try:
            cur.execute("SET LOCAL statement_timeout = 0")
            cur.execute(sql.SQL("TRUNCATE TABLE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(ident(i) for i in layer_ids)))
            for layer_id in layer_ids:
                names, count, buf = prepared[layer_id]
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    ident(layer_id), sql.SQL(", ").join(map(sql.Identifier, names)))
                cur.copy_expert(copy.as_string(cur), buf)
                counts[layer_id] = count
        finally:
            cur.close()
    with engine.begin() as conn:
        cur = conn.connection.cursor()
        try:
            for layer_id in layer_ids:
                cur.execute(sql.SQL("ANALYZE {}").format(ident(layer_id)))
        finally:
            cur.close()
    return counts
