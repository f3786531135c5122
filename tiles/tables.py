"""Tables of the tile cache's invalidation: the boxes of changed features (migration 0005)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Double, Identity, Index, Table, Text

from layers.tables import metadata

# One row per changed feature (its old and its new box, each apart), written by statement
# triggers on every layer table; NULL bounds mean the whole layer (TRUNCATE). ``version`` is the
# layer's data version after the change (feature_counts), so a cache applies each change once.
TILE_CHANGES = Table(
    "tile_changes", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("minx", Double),
    Column("miny", Double),
    Column("maxx", Double),
    Column("maxy", Double),
)
Index("ix_tile_changes_layer_version", TILE_CHANGES.c.layer, TILE_CHANGES.c.version)
