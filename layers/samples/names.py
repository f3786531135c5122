"""Names of people and villages of Lai Châu's ethnic groups, citizen ids, unique labels."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from numpy.random import Generator

from layers.samples.reference import PROVINCE_CODE


@dataclass(frozen=True)
class Names:
    """Name parts of one ethnic group (family, middle and given names by sex)."""

    family: tuple[str, ...]
    male_middle: tuple[str, ...]
    female_middle: tuple[str, ...]
    male_given: tuple[str, ...]
    female_given: tuple[str, ...]
    village_style: str


GROUPS = ("thai", "mong", "dao", "kinh", "ha_nhi", "giay", "lu", "cong", "la_hu")
NAMES: dict[str, Names] = {
    "thai": Names(
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
    "mong": Names(
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
    "dao": Names(
        ("Tẩn", "Chảo", "Phàn", "Lý", "Triệu", "Đặng", "Bàn", "Phùng", "Lò"),
        ("Láo", "Láo", "Văn", "A"), ("Mý", "Mẩy", "Thị"),
        ("Sử", "Lở", "Tả", "Chin", "Quẩy", "Seo", "Lưu", "Phẩu", "Chàn", "Tá", "Sành", "Vần",
         "Kiều", "Phấy", "Dùn", "Chiêu", "Chản", "Kẻ", "Lìu", "Sinh", "Giáo", "Phu", "Xiêu"),
        ("Chiêu", "Sành", "Xiêm", "Chản", "Dảo", "Phin", "Xuân", "Mẩy", "Kiều", "Phây", "Lở",
         "Sói", "Chài", "Nái", "Quẩy"),
        "mong",
    ),
    "kinh": Names(
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
    "ha_nhi": Names(
        ("Lý", "Pờ", "Chu", "Phìn", "Lỳ", "Sừ", "Hù", "Chang", "Lò", "Ly", "Phu"),
        ("Giờ", "Hừ", "Xá", "Chà", "Văn", "Ha", "Lù", "Mì"), ("Mé", "Thị"),
        ("Chờ", "Sa", "Lê", "Xá", "Tu", "Ca", "Phà", "Lỳ", "Hừ", "Chừ", "Giá", "Mì", "Xe", "Pà",
         "Cha", "Lù", "Sừ"),
        ("Dụ", "Phạ", "Mé", "Xá", "Chừ", "Ca", "Pà", "Sa", "Hờ", "Lê", "Mì", "Chè"),
        "ha_nhi",
    ),
    "giay": Names(
        ("Hoàng", "Lò", "Vàng", "Lù", "Giàng", "Sần", "Lìu", "Lộc", "Thèn", "Hà"),
        ("Văn",), ("Thị",),
        ("Sanh", "Dìn", "Nhìn", "Chinh", "Sáng", "Phin", "Lềnh", "Mình", "Thâng", "Vần", "Chỉn",
         "Nhàn", "Seng", "Quang", "Tiến", "Phong"),
        ("Nhàn", "Phin", "Xuân", "Dìn", "Mai", "Sim", "Cúc", "Thu", "Hoa", "Chiên", "Lan"),
        "thai",
    ),
    "lu": Names(
        ("Lò", "Tao", "Đao", "Pờ", "Chìu", "Lường", "Vàng", "Pạc"),
        ("Văn",), ("Thị",),
        ("Phanh", "Khăm", "Ón", "Sinh", "Ui", "Pặng", "Lả", "Bun", "Chăn", "Phọm", "Sương",
         "Xiêng"),
        ("Phanh", "Ón", "Ui", "Pặng", "Lả", "Bua", "Khăm", "Sương", "Noọng", "Xiêng"),
        "thai",
    ),
    "cong": Names(
        ("Pờ", "Lò", "Chang", "Hù", "Sin", "Chảo", "Pạc"),
        ("Văn",), ("Thị",),
        ("Sáu", "Sư", "Hái", "Chúng", "Kính", "Diệu", "Sinh", "Thanh", "Xá", "Phé", "Lình"),
        ("Sáu", "Hái", "Diệu", "Sinh", "Xá", "Lình", "Mai", "Phé"),
        "ha_nhi",
    ),
    "la_hu": Names(
        ("Lò", "Chang", "Pờ", "Phùng", "Lý", "Vàng", "Giàng"),
        ("A", "A", "Văn"), ("Thị",),
        ("Pá", "Hừ", "Là", "Sừ", "Chè", "Xá", "Lơ", "Phì", "Cà", "Pha", "Ngư", "Chừ"),
        ("Pá", "Là", "Mé", "Xá", "Chè", "Ngư", "Ha", "Lơ", "Pha", "Mì"),
        "ha_nhi",
    ),
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


def unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``… if already taken; records the result."""
    candidate, k = name, 2
    while candidate in taken:
        candidate = f"{name} ({k})"
        k += 1
    taken.add(candidate)
    return candidate


def ascii_slug(text: str) -> str:
    """``text`` in lower-case ASCII words joined by hyphens ("Bình Lư" → "binh-lu")."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def village_name(rng: Generator, style: str, taken: set[str]) -> str:
    """A village name in the naming ``style`` of an ethnic group, not yet ``taken``."""
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


def people(rng: Generator, groups: np.ndarray, male: np.ndarray) -> list[str]:
    """Full names ("Lò Văn Pánh", "Giàng A Páo", "Chảo Mý Chiêu") for ethnic groups and sexes."""
    out = np.empty(len(groups), dtype=object)
    for gi, group in enumerate(GROUPS):
        parts = NAMES[group]
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


def citizen_ids(rng: Generator, male: np.ndarray, birth_year: np.ndarray,
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
