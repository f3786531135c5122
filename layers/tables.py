"""SQLAlchemy Core tables derived from the layer declarations (the migrations' metadata)."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeEngine

from gis_core.crs import STORAGE_SRID
from layers.registry import LAYERS
from layers.spec import FieldSpec, LayerSpec

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
    }
)

_TYPES: dict[str, TypeEngine] = {
    "text": Text(),
    "integer": Integer(),
    "number": Double(),
    "boolean": Boolean(),
    "date": Date(),
    "datetime": DateTime(timezone=True),
    "text[]": ARRAY(Text()),
}


def _column(spec: FieldSpec) -> Column:
    return Column(spec.name, _TYPES[spec.type], nullable=not spec.required,
                  comment=spec.title.get("vi"))


# One run of ``ioc import`` (or an upload): the provenance every imported record points to.
IMPORT_JOBS = Table(
    "import_jobs", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer", Text, nullable=False),
    Column("dataset", Text, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", Text, nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("source_crs", Text),
    Column("actor", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    Column("added", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("removed", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("report", JSONB),
)
Index(None, IMPORT_JOBS.c.layer, IMPORT_JOBS.c.dataset)

# Every change to every feature (migration 0003's triggers): who, when, from where, what changed.
FEATURE_HISTORY = Table(
    "feature_history", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer", Text, nullable=False),
    Column("feature_id", BigInteger, nullable=False),
    Column("op", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("valid_from", DateTime(timezone=True)),
    Column("actor", Text),
    Column("source", Text),
    Column("old", JSONB),
    Column("changes", JSONB),
)
Index(None, FEATURE_HISTORY.c.layer, FEATURE_HISTORY.c.feature_id)
Index(None, FEATURE_HISTORY.c.layer, FEATURE_HISTORY.c.changed_at)


def table_for(layer: LayerSpec) -> Table:
    """Build the table of one layer: id, geometry, declared fields, timestamps, provenance."""
    columns: list[Column] = [
        Column("id", BigInteger, Identity(always=False), primary_key=True),
        Column(
            "geom",
            Geometry(layer.geometry.upper(), srid=STORAGE_SRID, spatial_index=True),
            nullable=False,
        ),
        *(_column(f) for f in layer.fields),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("source_dataset", Text),
        Column("source_key", Text),
        Column("import_job", BigInteger, ForeignKey(IMPORT_JOBS.c.id)),
    ]
    table = Table(layer.id, metadata, *columns,
                  UniqueConstraint("source_dataset", "source_key"))
    for f in layer.fields:
        if f.references or f.name == layer.key_field:
            Index(None, table.c[f.name])
    return table


TABLES: dict[str, Table] = {layer.id: table_for(layer) for layer in LAYERS}

# Exact row count and data version per layer, kept by statement triggers (migration 0002).
FEATURE_COUNTS = Table(
    "feature_counts", metadata,
    Column("layer", Text, primary_key=True),
    Column("n", BigInteger, nullable=False, server_default="0"),
    Column("version", BigInteger, nullable=False, server_default="0"),
)
