"""Counts per commune of a layer, broken down by its public coded fields: what the public sees of
layers about people (households, permits), and a quick overview of any other."""

from __future__ import annotations

import json
from typing import Any

from psycopg2 import sql

from gis_core.errors import InvalidParameterError
from layers.spec import LayerSpec, has_commune


def commune_summary(cursor: Any, layer: LayerSpec) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one point per commune with its counts."""
    if not has_commune(layer):
        raise InvalidParameterError(
            f"Lớp '{layer.id}' không gắn với xã nên không tổng hợp theo xã được.",
            message_en=f"Layer '{layer.id}' has no commune code to count by.")
    table = sql.Identifier(layer.id)
    cursor.execute("SELECT code, full_name, ST_AsGeoJSON(ST_PointOnSurface(geom), 6) FROM communes "
                   "ORDER BY code")
    communes = {code: {"type": "Feature", "geometry": json.loads(point),
                       "properties": {"code": code, "name": name, "total": 0}}
                for code, name, point in cursor.fetchall()}
    cursor.execute(sql.SQL("SELECT commune_code, count(*) FROM {} GROUP BY 1").format(table))
    for code, n in cursor.fetchall():
        if code in communes:
            communes[code]["properties"]["total"] = n
    for spec in layer.public_fields:
        if not spec.domain:
            continue
        for feature in communes.values():
            feature["properties"][spec.name] = dict.fromkeys(spec.domain, 0)
        cursor.execute(sql.SQL("SELECT commune_code, {f}, count(*) FROM {t} GROUP BY 1, 2").format(
            f=sql.Identifier(spec.name), t=table))
        for code, value, n in cursor.fetchall():
            if code in communes and value is not None:
                communes[code]["properties"][spec.name][value] = n
    return {"type": "FeatureCollection", "layer": layer.id,
            "fields": {f.name: dict(zip(f.domain, f.domain_titles or f.domain, strict=True))
                       for f in layer.public_fields if f.domain},
            "features": list(communes.values())}
