"""What autogenerate compares: our tables, not PostGIS's own."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

IGNORED_TABLES = {"spatial_ref_sys", "alembic_version"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
                   ) -> bool:
    """Leave PostGIS's tables out of the comparison; let GeoAlchemy2 judge spatial indexes."""
    if type_ == "table" and name in IGNORED_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
