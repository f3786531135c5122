"""A feature's version: its ETag and values, read while holding the row, and what changed since.

The protocol, for every writer of a single feature (direct edits and approvals):

1. take the layer table in ROW EXCLUSIVE mode, the mode the write itself needs. An import holds
   the table in SHARE ROW EXCLUSIVE mode while it merges, so the writer waits for the whole
   import (and then sees its values) instead of locking a row the import is about to change;
2. read the feature ``FOR UPDATE``: a second writer made from the same version waits here, then
   reads the first one's version;
3. compare (``If-Match``, or the fields an edit changes), write, commit.

Submitting a pending edit only reads the version it was made against (no lock): the approval
compares again under the lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import NotFoundError, PreconditionFailedError
from layers.spec import LayerSpec

GEOMETRY = "geometry"


@dataclass(frozen=True)
class Version:
    """One version of a feature: its strong ETag, declared fields and WGS 84 geometry."""

    etag: str
    properties: dict[str, Any]
    geometry: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The values kept with a pending edit as the version it was made against."""
        return {"etag": self.etag, "properties": self.properties, GEOMETRY: self.geometry}

    def value(self, name: str) -> Any:
        """A field's value, or the geometry for ``GEOMETRY``."""
        return self.geometry if name == GEOMETRY else self.properties.get(name)


# The version hash of a feature's whole row, over the table aliased ``t``.
ROW_HASH = "md5(row_to_json(t)::text)"


def etag_sql(layer: LayerSpec) -> str:
    """SQL (DB-API ``%(id)s`` parameter) computing the version hash of one feature's whole row."""
    return f'SELECT {ROW_HASH} FROM "{layer.id}" t WHERE id = %(id)s'  # noqa: S608


def feature_etag(conn: Connection, layer: LayerSpec, feature_id: int) -> str | None:
    """A strong ETag of the feature's whole row, or None when there is no such feature."""
    value = conn.exec_driver_sql(etag_sql(layer), {"id": feature_id}).scalar()
    return f'"{value}"' if value else None


def read_version(conn: Connection, layer: LayerSpec, feature_id: int, *, lock: bool
                 ) -> Version | None:
    """The feature's current version, or None; ``lock`` holds its row (and the table's write
    lock) until the transaction ends."""
    if lock:
        conn.execute(text(f'LOCK TABLE "{layer.id}" IN ROW EXCLUSIVE MODE'))
    row = conn.execute(text(
        f"SELECT md5(row_to_json(t)::text), to_jsonb(t) - 'geom', "  # noqa: S608 - registry id
        f"ST_AsGeoJSON(t.geom)::jsonb FROM \"{layer.id}\" t WHERE t.id = :id"
        + (" FOR UPDATE" if lock else "")), {"id": feature_id}).first()
    if row is None:
        return None
    names = {f.name for f in layer.fields}
    return Version(f'"{row[0]}"', {k: v for k, v in row[1].items() if k in names}, row[2])


def etag_matches(etag: str, if_match: str) -> bool:
    """Whether an ``If-Match`` header names this ETag (or ``*``); weak tags compare by value."""
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    return "*" in tags or etag in tags


def _was_deleted(conn: Connection, layer: LayerSpec, feature_id: int) -> bool:
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM feature_history WHERE layer = :layer AND feature_id = :id "
        "AND op = 'delete')"), {"layer": layer.id, "id": feature_id}).scalar())


def require_version(conn: Connection, layer: LayerSpec, feature_id: int, if_match: str | None,
                    *, lock: bool) -> Version:
    """The version a write is made against; without ``If-Match`` it is the current one.

    404 without the feature (412 when ``If-Match`` names a version of a feature deleted since);
    412 when ``If-Match`` names another version.
    """
    version = read_version(conn, layer, feature_id, lock=lock)
    if version is None:
        if if_match and _was_deleted(conn, layer, feature_id):
            raise PreconditionFailedError(
                "Đối tượng đã bị người khác xóa sau khi bạn tải nó.",
                message_en="Someone else deleted the feature after you read it.")
        raise NotFoundError(f"Không có đối tượng '{feature_id}' trong lớp '{layer.id}'.",
                            message_en=f"There is no feature '{feature_id}' in '{layer.id}'.")
    if if_match and not etag_matches(version.etag, if_match):
        raise PreconditionFailedError(
            "Đối tượng đã được người khác sửa; hãy tải lại rồi sửa tiếp.",
            message_en="Someone else changed the feature; reload it and edit again.")
    return version


def changed_since(base: dict[str, Any], now: Version, names: Iterable[str]) -> list[str]:
    """Which of ``names`` (fields, or ``GEOMETRY``) hold other values now than in ``base``."""
    before = base.get("properties", {})
    return [name for name in names
            if (base.get(GEOMETRY) if name == GEOMETRY else before.get(name)) != now.value(name)]
