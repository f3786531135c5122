"""What autogenerate compares: our tables, not PostGIS's own."""

from __future__ import annotations

import re
from typing import Any

from geoalchemy2 import alembic_helpers

IGNORED_TABLES = {"spatial_ref_sys", "alembic_version"}
# The monthly partitions of observations, created by observation_partition(), not declared.
PARTITION = re.compile(r"^observations_\d{4}_\d{2}$")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
                   ) -> bool:
    """Leave PostGIS's tables and the observations' partitions out of the comparison; let
    GeoAlchemy2 judge spatial indexes."""
    if type_ == "table" and (name in IGNORED_TABLES or PARTITION.match(name or "")):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
