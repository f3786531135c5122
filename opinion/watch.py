"""What the operators act on: items (the author only to those allowed, audited), spikes of a
commune and sector against their usual level, and an item made into a feedback case or an
incident."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import InvalidParameterError, NotFoundError
from governance import audit
from governance.access import Principal
from opinion.phrases import SECTOR_NAMES
from opinion.text import fold

_WORDS = re.compile(r"\w+")

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
BASELINE_DAYS = 14
MIN_SPIKE = 3  # fewer posts in a day is never a spike
SIGMAS = 3.0
# The feedback category a sector's case opens in (the operator may choose another).
SERVICE = {"transport": "road_damage", "environment": "waste", "health": "health",
           "education": "education", "social_welfare": "admin_procedure",
           "public_order": "admin_procedure", "other": "admin_procedure"}
_ITEM = ("SELECT i.id, i.source, i.url, i.body, i.published_at, i.sector, i.tone, i.urgent, "
         "i.commune_code, c.name AS commune_name, i.case_id, i.incident_id, i.model_version, "
         "(SELECT max(k.id) FROM opinion_corrections k WHERE k.item_id = i.id) AS correction_id, "
         "ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon "
         "FROM opinion_items i LEFT JOIN communes c ON c.code = i.commune_code")


def today() -> date:
    """The date in Lai Châu now."""
    return datetime.now(LOCAL).date()


def item(conn: Connection, item_id: int, *, lock: bool = False) -> dict[str, Any]:
    """One item without its author; 404 when there is none."""
    if lock:
        # Locked first, read after: a statement that waited for the lock still reads the other
        # tables (its corrections) as they were when it started.
        conn.execute(text("SELECT 1 FROM opinion_items WHERE id = :id FOR UPDATE"),
                     {"id": item_id})
    row = conn.execute(text(f"{_ITEM} WHERE i.id = :id"), {"id": item_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"Không có mục dư luận {item_id}.",
                            message_en=f"There is no opinion item {item_id}.")
    return dict(row)


def items(conn: Connection, *, commune: str | None = None, sector: str | None = None,
          urgent: bool | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Items, newest first, without their authors."""
    rows = conn.execute(text(
        f"{_ITEM} WHERE (CAST(:commune AS text) IS NULL OR i.commune_code = :commune) "
        "AND (CAST(:sector AS text) IS NULL OR i.sector = :sector) "
        "AND (CAST(:urgent AS boolean) IS NULL OR i.urgent = :urgent) "
        "ORDER BY i.published_at DESC, i.id DESC LIMIT :limit OFFSET :offset"),
        {"commune": commune, "sector": sector, "urgent": urgent, "limit": limit,
         "offset": offset}).mappings()
    return [dict(r) for r in rows]


def author(conn: Connection, principal: Principal, item_id: int) -> dict[str, Any]:
    """The author handle of an item, for a stated reason; the read is audited."""
    if not principal.reason:
        raise InvalidParameterError(
            "Cần lý do (X-Reason) để xem tác giả bài đăng.",
            message_en="A reason (X-Reason) is needed to see a post's author.", parameter="reason")
    handle = conn.execute(text("SELECT author FROM opinion_items WHERE id = :id"),
                          {"id": item_id}).first()
    if handle is None:
        raise NotFoundError(f"Không có mục dư luận {item_id}.",
                            message_en=f"There is no opinion item {item_id}.")
    audit.record(conn, "opinion.author_read", actor=principal, target=f"opinion_item:{item_id}")
    return {"id": item_id, "author": handle[0]}


@dataclass(frozen=True)
class Spike:
    """A commune and sector with more posts on ``day`` than usual."""

    commune_code: str
    commune_name: str
    sector: str
    day: date
    count: int
    usual: float
    lat: float
    lon: float

    def as_dict(self) -> dict[str, Any]:
        """The spike as a warning of the situation view."""
        name = SECTOR_NAMES[self.sector]
        return {"level": "warning", "commune_code": self.commune_code,
                "commune_name": self.commune_name, "sector": self.sector,
                "day": self.day.isoformat(), "count": self.count, "usual": round(self.usual, 2),
                "lat": self.lat, "lon": self.lon,
                "message": f"{self.commune_name}: {self.count} bài về {name.lower()} trong ngày "
                           f"{self.day:%d/%m/%Y}, thường {self.usual:.1f} bài/ngày.",
                "message_en": f"{self.commune_name}: {self.count} posts on {self.sector} on "
                              f"{self.day.isoformat()}, usually {self.usual:.1f} a day."}


def spikes(conn: Connection, day: date) -> list[Spike]:
    """The commune × sector pairs whose count on ``day`` (Lai Châu time) is at least
    ``MIN_SPIKE`` and over their mean of the previous ``BASELINE_DAYS`` days by ``SIGMAS``
    standard deviations (Poisson: the square root of the mean, at least 0.5)."""
    rows = conn.execute(text(
        "SELECT i.commune_code, c.name, ST_Y(ST_PointOnSurface(c.geom)), "
        "ST_X(ST_PointOnSurface(c.geom)), i.sector, "
        "(i.published_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS d, count(*) "
        "FROM opinion_items i JOIN communes c ON c.code = i.commune_code "
        "WHERE (i.published_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date BETWEEN :start AND :day "
        "GROUP BY 1, 2, 3, 4, 5, 6"),
        {"start": day - timedelta(days=BASELINE_DAYS), "day": day}).all()
    today: dict[tuple, int] = {}
    before: dict[tuple, int] = {}
    for code, name, lat, lon, sector, d, n in rows:
        target = today if d == day else before
        key = (code, name, sector, lat, lon)
        target[key] = target.get(key, 0) + n
    found = []
    for key, count in today.items():
        usual = before.get(key, 0) / BASELINE_DAYS
        if count >= MIN_SPIKE and count > usual + SIGMAS * max(math.sqrt(usual), 0.5):
            found.append(Spike(key[0], key[1], key[2], day, count, usual, key[3], key[4]))
    return sorted(found, key=lambda s: (-s.count, s.commune_code, s.sector))


def case_text(found: dict[str, Any]) -> str:
    """What a case opened from ``found`` says: the item's number, source, sector, commune and
    time, not who wrote it or their words (the description of a case is public)."""
    sector = SECTOR_NAMES[found["sector"]]
    where = found["commune_name"] or "chưa rõ xã"
    return (f"Từ theo dõi dư luận trên mạng (mục #{found['id']}, nguồn {found['source']}): "
            f"{sector.lower()}, {where}, đăng lúc "
            f"{found['published_at'].astimezone(LOCAL):%H:%M %d/%m/%Y}"
            + (", có thể là sự cố." if found["urgent"] else "."))


def attach_case(conn: Connection, principal: Principal, item_id: int, case_id: int) -> None:
    """Record that ``item_id`` became the feedback case ``case_id`` (audited)."""
    conn.execute(text("UPDATE opinion_items SET case_id = :case WHERE id = :id"),
                 {"case": case_id, "id": item_id})
    audit.record(conn, "opinion.case_opened", actor=principal, target=f"opinion_item:{item_id}",
                 details={"case": case_id})


# Words of a post that name the kind of incident it reports (folded), first match wins.
INCIDENT_WORDS = (("landslide", ("sat lo", "lo dat", "dat da", "sut lun")),
                  ("flash_flood", ("lu quet", "lu ong")),
                  ("flood", ("ngap", "lu lut", "nuoc lu", "nuoc dang")),
                  ("forest_fire", ("chay rung",)),
                  ("fire", ("chay",)),
                  ("storm", ("gio loc", "mua da", "dong loc")))


def incident_kind(body: str) -> str:
    """The kind of incident a post reports, from its words ("sạt lở" → landslide), or other."""
    words = " " + " ".join(fold(w) for w in _WORDS.findall(body.lower())) + " "
    for kind, phrases in INCIDENT_WORDS:
        if any(f" {p} " in words for p in phrases):
            return kind
    return "other"


def incident_title(found: dict[str, Any], kind_title: str) -> str:
    """An incident's title from an item: its kind, commune and number, not its words."""
    where = found["commune_name"] or "chưa rõ xã"
    return f"{kind_title} – {where} (theo dõi dư luận, mục #{found['id']})"


def commune_area(conn: Connection, code: str) -> dict[str, Any]:
    """A commune's boundary as GeoJSON, simplified to about 10 m (an incident's area)."""
    return conn.execute(text(
        "SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0001), 6)::json "
        "FROM communes WHERE code = :c"), {"c": code}).scalar_one()


def attach_incident(conn: Connection, principal: Principal, item_id: int,
                    incident_id: int) -> None:
    """Record that ``item_id`` opened the incident ``incident_id`` (audited)."""
    conn.execute(text("UPDATE opinion_items SET incident_id = :inc WHERE id = :id"),
                 {"inc": incident_id, "id": item_id})
    audit.record(conn, "opinion.incident_opened", actor=principal,
                 target=f"opinion_item:{item_id}", details={"incident": incident_id})
