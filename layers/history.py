"""A layer as it was at a past moment, and the recorded changes of one feature.

Migration 0003's triggers keep every old version of a row in ``feature_history`` with the moment
it became current (``valid_from``) and the moment it was replaced (``changed_at``). The rows
valid at ``t`` are the current rows last written at or before ``t`` plus the old versions whose
interval contains ``t``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg2 import sql

from gis_core.crs import OutputCrs
from layers.features import feature_sql
from layers.items import CRS84
from layers.spec import FieldSpec, LayerSpec

_AS_OF = (
    "SELECT * FROM {table} WHERE created_at <= %(_t)s AND updated_at <= %(_t)s "
    "UNION ALL SELECT (jsonb_populate_record(NULL::{table}, h.old)).* FROM feature_history h "
    "WHERE h.layer = %(_layer)s AND h.op <> 'insert' AND h.valid_from <= %(_t)s "
    "AND h.changed_at > %(_t)s"
)


def as_of_relation(layer: LayerSpec) -> sql.Composable:
    """A subquery with the layer's rows as they were at ``%(_t)s`` (bind ``_t`` and ``_layer``)."""
    return sql.SQL("(" + _AS_OF + ")").format(table=sql.Identifier(layer.id))


def features_as_of(
    cursor: Any, layer: LayerSpec, moment: datetime, *, limit: int, offset: int = 0,
    visible: tuple[FieldSpec, ...] | None = None, crs: OutputCrs = CRS84,
) -> tuple[str, int]:
    """The features valid at ``moment`` as a JSON array text, and how many there were."""
    visible = layer.public_fields if visible is None else visible
    statement = sql.SQL(
        "WITH v AS {relation} SELECT coalesce(string_agg(f::text, ',' ORDER BY id), ''), "
        "(SELECT count(*) FROM v) FROM (SELECT id, {feature} AS f FROM v ORDER BY id "
        "LIMIT %(_limit)s OFFSET %(_offset)s) page"
    ).format(relation=as_of_relation(layer),
             feature=feature_sql([f.name for f in visible], crs))
    cursor.execute(statement, {"_t": moment, "_layer": layer.id, "_limit": limit,
                               "_offset": offset})
    features, matched = cursor.fetchone()
    return "[" + features + "]", matched


def feature_changes(
    cursor: Any, layer: LayerSpec, feature_id: int, visible: tuple[FieldSpec, ...] | None = None,
) -> list[dict[str, Any]]:
    """Every recorded change of one feature, oldest first, limited to the visible fields."""
    visible = layer.public_fields if visible is None else visible
    shown = {f.name for f in visible} | {"geom"}
    cursor.execute(
        "SELECT h.op, h.changed_at, h.actor, h.source, h.changes, j.file_name, j.file_sha256 "
        "FROM feature_history h LEFT JOIN import_jobs j "
        "ON h.source = 'import:' || j.id "
        "WHERE h.layer = %s AND h.feature_id = %s ORDER BY h.id", (layer.id, feature_id))
    changes = []
    for op, at, actor, source, diff, file_name, sha256 in cursor.fetchall():
        entry: dict[str, Any] = {"op": op, "at": at.isoformat(), "actor": actor, "source": source}
        if file_name:
            entry["file"] = {"name": file_name, "sha256": sha256}
        if diff:
            entry["changed"] = {
                name: ("(hình học thay đổi / geometry changed)" if name == "geom"
                       else {"old": old, "new": new})
                for name, (old, new) in diff.items() if name in shown}
        changes.append(entry)
    return changes
