"""The tables of public-opinion monitoring (migration 0017): the items gathered, kept once, and
the inputs skipped with their reason."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

from layers.tables import metadata

# One row per post or article. ``url`` and ``text_key`` (the folded words) are unique: the same
# item fetched again, or copied word for word, is kept once; ``bands`` finds near-copies
# (opinion.dedup). ``author`` is personal data: never public, every read audited.
OPINION_ITEMS = Table(
    "opinion_items", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("source", Text, nullable=False),
    Column("url", Text, unique=True),
    Column("text_key", Text, nullable=False, unique=True),
    Column("signature", ARRAY(BigInteger), nullable=False),
    Column("bands", ARRAY(BigInteger), nullable=False),
    Column("body", Text, nullable=False),
    Column("author", Text),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sector", Text, nullable=False),
    Column("tone", Text, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("commune_code", Text),
    Column("geom", Geometry("POINT", srid=4326, spatial_index=True)),
    Column("case_id", BigInteger, ForeignKey("feedback_requests.id", ondelete="SET NULL")),
)
Index("ix_opinion_items_bands", OPINION_ITEMS.c.bands, postgresql_using="gin")
Index("ix_opinion_items_published", OPINION_ITEMS.c.published_at)

# What a run did not keep, and why: a source that answered HTML, a broken or oversized feed, a
# post in another language or without a date.
OPINION_SKIPS = Table(
    "opinion_skips", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", Text, nullable=False),
    Column("ref", Text),
    Column("reason", Text, nullable=False),
    Column("detail", Text),
)
