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
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine

from gis_core.crs import STORAGE_SRID
from layers.registry import LAYERS
from layers.spec import FieldSpec, LayerSpec

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
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


def table_for(layer: LayerSpec) -> Table:
    """Build the table of one layer: id, geometry, declared fields, timestamps."""
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
    ]
    table = Table(layer.id, metadata, *columns)
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
