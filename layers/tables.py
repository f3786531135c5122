"""SQLAlchemy Core tables derived from the layer declarations (the migrations' metadata)."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
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
from sqlalchemy.dialects.postgresql import JSONB

from gis_core.crs import STORAGE_SRID
from layers.fields import checks, column_type
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

def _column(spec: FieldSpec) -> Column:
    return Column(spec.name, column_type(spec), nullable=not spec.required,
                  comment=spec.title.get("vi"))


def _checks(layer: LayerSpec) -> list[CheckConstraint]:
    """The fields' declared checks as CHECK constraints ``ck_<layer>_<field>_<kind>``."""
    return [CheckConstraint(c.condition, name=f"ck_{layer.id}_{f.name}_{c.kind}")
            for f in layer.fields for c in checks(f, f'"{f.name}"')]


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
    """Build the table of one layer: id, geometry, declared fields (with their checks),
    timestamps, provenance."""
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
                  UniqueConstraint("source_dataset", "source_key"), *_checks(layer))
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

# Inserts not yet folded into ``feature_counts`` (migration 0020): a layer written at citizen rates
# (feedback_points) appends here instead of updating its count row, so its writers never wait on
# one another; ``fold`` (governance.sequencer) adds them to the count, moves the version and writes
# their tile boxes, in commit order. A row is one inserted statement's rows of one 0.01° cell.
FEATURE_COUNT_PENDING = Table(
    "feature_count_pending", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer", Text, nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("minx", Double),
    Column("miny", Double),
    Column("maxx", Double),
    Column("maxy", Double),
)
