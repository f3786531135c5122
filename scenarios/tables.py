"""Tables of the scenario engine: targets, reported values, thematic documents and incidents.

Also the geography expression indexes that metre-radius queries on the point layers need
(``ST_DWithin(geom::geography, …)`` can use an index only on that same expression).
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from gis_core.crs import STORAGE_SRID
from layers.tables import TABLES, metadata

# Point layers measured in metres around a point (radius selections, nearest facilities).
GEOGRAPHY_INDEXED = ("housing", "schools", "health_facilities")
for _layer in GEOGRAPHY_INDEXED:
    Index(f"ix_{_layer}_geog", text("(geom::geography)"), postgresql_using="gist",
          _table=TABLES[_layer])

INDICATOR_TARGETS = Table(
    "indicator_targets", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False, comment="2025, 2025-Q3 or 2025-07"),
    Column("unit_code", Text, nullable=False, comment="'province' or a commune code"),
    Column("value", Double, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("entered_by", Text, nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("indicator", "period", "unit_code"),
)

REPORTED_VALUES = Table(
    "reported_values", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("indicator", Text, nullable=False),
    Column("period", Text, nullable=False, comment="2025, 2025-Q3 or 2025-07"),
    Column("unit_code", Text, nullable=False, comment="'province' or a commune code"),
    Column("value", Double, nullable=False),
    Column("entered_by", Text, nullable=False),
    Column("source", Text, nullable=False, comment="api, csv, xlsx or reference"),
    Column("note", Text),
    Column("entered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("indicator", "period", "unit_code"),
)

THEMATIC_SCENARIOS = Table(
    "thematic_scenarios", metadata,
    Column("id", Text, primary_key=True),
    Column("document", JSONB, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

INCIDENTS = Table(
    "incidents", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("geom", Geometry("GEOMETRY", srid=STORAGE_SRID, spatial_index=True), nullable=False),
    Column("radius_m", Double, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

INCIDENT_EVENTS = Table(
    "incident_events", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("incident_id", BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("status", Text, nullable=False),
    Column("note", Text),
    Column("actor", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
