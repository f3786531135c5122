"""What autogenerate compares: our tables, not PostGIS's own."""

from __future__ import annotations

import re
from typing import Any

from geoalchemy2 import alembic_helpers

IGNORED_TABLES = {"spatial_ref_sys", "alembic_version"}
# Indexes on an expression, made by a migration in SQL beside the views and triggers they serve.
SQL_ONLY_INDEXES = {"ix_feedback_requests_public_geom"}
# The monthly partitions of observations, created by observation_partition(), not declared.
PARTITION = re.compile(r"^observations_\d{4}_\d{2}$")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
                   ) -> bool:
    """Leave PostGIS's tables, the observations' partitions and the SQL-only indexes out of the
    comparison; let GeoAlchemy2 judge spatial indexes."""
    if type_ == "table" and (name in IGNORED_TABLES or PARTITION.match(name or "")):
        return False
    if type_ == "index" and name in SQL_ONLY_INDEXES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
