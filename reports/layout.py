"""What every output shares: the Decree 30/2020 header block, number formats and status words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
PLACE = "Lai Châu"
SOURCE = "Nguồn: cơ sở dữ liệu Trung tâm Điều hành thông minh tỉnh Lai Châu"
STATUS = {"met": "Đạt", "at_risk": "Có nguy cơ không đạt", "not_met": "Chưa đạt",
          "no_target": "Chưa có mục tiêu", "no_data": "Không có số liệu",
          "suppressed": "Ẩn (dưới 5 hộ)"}
NO_DATA = "Không có số liệu"
COLUMNS = ("STT", "Đơn vị", "Chỉ tiêu", "Đơn vị tính", "Kết quả", "Mục tiêu", "Đánh giá")
ACTIVITY_COLUMNS = ("STT", "Nội dung", "Kết quả")
INCIDENT_COLUMNS = ("STT", "Số", "Sự cố", "Thời điểm", "Tình trạng")


def fmt(value: Any) -> str:
    """A figure as Vietnamese print shows it: 1.234,56 (no data: the words, never zero)."""
    if value is None:
        return NO_DATA
    if value == "suppressed":
        return STATUS["suppressed"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


@dataclass(frozen=True)
class Header:
    """The administrative header of one issued report."""

    parent: str
    issuer: str
    number: str
    title: str
    subtitle: str
    recipients: tuple[str, ...]
    signer: str
    issued: datetime
    run_id: int

    @property
    def place_date(self) -> str:
        """``Lai Châu, ngày 07 tháng 12 năm 2026``."""
        d = self.issued
        return f"{PLACE}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"

    @property
    def marker(self) -> str:
        """The line tying the file to its stored snapshot (read back by ``verify``)."""
        return f"IOC-REPORT:{self.run_id}"


def table_rows(section: dict[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Header and printed rows of a section's table (empty rows for sections without one)."""
    kind = section["kind"]
    if kind == "indicators":
        return COLUMNS, [(str(n), r["unit_name"], r["name"]["vi"], r["unit_of"],
                          fmt("suppressed" if r["status"] == "suppressed" else r["value"]),
                          fmt(r["target"]) if r["target"] is not None else "—", STATUS[r["status"]])
                         for n, r in enumerate(section["rows"], 1)]
    if kind == "chart":
        return ("STT", "Kỳ", "Kết quả", "Mục tiêu"), [
            (str(n), p["period"], fmt(p["value"]), fmt(p["target"]) if p["target"] is not None else "—")
            for n, p in enumerate(section["points"], 1)]
    if kind == "activity":
        return ACTIVITY_COLUMNS, [(str(n), r["label"], fmt(r["value"]))
                                  for n, r in enumerate(section["rows"], 1)]
    if kind == "incidents":
        return INCIDENT_COLUMNS, [(str(n), str(r["id"]), r["title"], r["started_at"], r["status"])
                                  for n, r in enumerate(section["rows"], 1)]
    if kind == "incident":
        labels = {"households": "Hộ trong vùng ảnh hưởng", "people": "Nhân khẩu",
                  "poor_households": "Hộ nghèo", "near_poor_households": "Hộ cận nghèo",
                  "temporary_houses": "Hộ ở nhà tạm", "schools": "Trường học",
                  "students": "Học sinh", "health_facilities": "Cơ sở y tế"}
        return ACTIVITY_COLUMNS, [(str(n), labels[k], fmt(v))
                                  for n, (k, v) in enumerate(section["totals"].items(), 1)]
    return (), []


def lead_text(section: dict[str, Any]) -> str | None:
    """The paragraph a section opens with, if any."""
    if section["kind"] == "text":
        return section["text"]["vi"]
    if section["kind"] == "incident":
        i = section["incident"]
        return (f"Sự cố số {i['id']}: {i['title']} ({i['kind']}), bắt đầu {i['started_at'][:16]}, "
                f"bán kính ảnh hưởng {fmt(i['radius_m'])} m; tình trạng: {i['status_title']}.")
    if section["kind"] == "incidents" and not section["rows"]:
        return "Không có sự cố nào được ghi nhận trong kỳ."
    return None
