"""The categories a citizen can report (Open311 services): responsible department and deadline.

Deadlines are in working days from receipt. Ordinary feedback follows the province's rule for
its citizen-feedback channel (10 working days to answer, as the 1022 hotlines of other provinces
do; set per category here). Complaints and denunciations follow their laws' time limits, which
the laws state in days: Law on Complaints 2011, Art. 28 (first resolution within 30 days of
acceptance, 45 in remote areas such as Lai Châu's) and Law on Denunciations 2018, Art. 30 (30
days); they are counted here as 30 working days, the stricter reading of neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis_core.errors import InvalidParameterError

PROVINCE_RULE = "Quy chế tiếp nhận, xử lý phản ánh, kiến nghị của tỉnh Lai Châu (10 ngày làm việc)"


@dataclass(frozen=True)
class Service:
    """One category: code, names, group, owning department, deadline and its legal basis."""

    code: str
    name: dict[str, str]
    group: str
    department: str
    working_days: int
    basis: str = PROVINCE_RULE
    sensitive: bool = False

    def describe(self, lang: str = "vi") -> dict[str, object]:
        """The Open311 service description."""
        return {"service_code": self.code, "service_name": self.name.get(lang, self.name["vi"]),
                "description": f"{self.name['vi']} / {self.name['en']}", "metadata": False,
                "type": "realtime", "keywords": self.group, "group": self.group}


SERVICES: tuple[Service, ...] = (
    Service("road_damage", {"vi": "Đường hư hỏng, sạt lở", "en": "Damaged road, landslide"},
            "giao_thong", "so_xay_dung", 10),
    Service("street_light", {"vi": "Đèn đường hỏng", "en": "Street light out"},
            "ha_tang", "so_cong_thuong", 10),
    Service("water_supply", {"vi": "Cấp nước, thoát nước", "en": "Water supply and drainage"},
            "ha_tang", "so_xay_dung", 10),
    Service("waste", {"vi": "Rác thải, ô nhiễm môi trường", "en": "Waste and pollution"},
            "moi_truong", "so_nn_mt", 10),
    Service("health", {"vi": "Y tế, an toàn thực phẩm", "en": "Health and food safety"},
            "xa_hoi", "so_y_te", 10),
    Service("education", {"vi": "Giáo dục, trường học", "en": "Education and schools"},
            "xa_hoi", "so_gd_dt", 10),
    Service("admin_procedure", {"vi": "Thủ tục hành chính", "en": "Administrative procedures"},
            "hanh_chinh", "so_noi_vu", 10),
    Service("complaint", {"vi": "Khiếu nại", "en": "Complaint"}, "hanh_chinh", "so_noi_vu", 30,
            "Luật Khiếu nại 2011, Điều 28", sensitive=True),
    Service("denunciation", {"vi": "Tố cáo", "en": "Denunciation"}, "hanh_chinh", "so_noi_vu", 30,
            "Luật Tố cáo 2018, Điều 30", sensitive=True),
)
_BY_CODE = {s.code: s for s in SERVICES}


def require_service(code: str | None) -> Service:
    """The service called ``code``; 400 naming the known codes otherwise."""
    service = _BY_CODE.get(code or "")
    if service is None:
        known = ", ".join(_BY_CODE)
        raise InvalidParameterError(
            f"Không có loại phản ánh (service_code) '{code}'. Dùng một trong: {known}.",
            message_en=f"There is no service_code '{code}'. Use one of: {known}.",
            parameter="service_code")
    return service
