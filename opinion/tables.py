"""The tables of public-opinion monitoring: the items gathered, kept once, and the inputs skipped
with their reason (migration 0017); the operators' corrections, the trained model versions and
the villages a deployment declares (migration 0025)."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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
    # The incident opened from the item, and the model version that classified it last.
    Column("incident_id", BigInteger, ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("model_version", BigInteger),
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

# An operator's correction of an item's sector, tone, urgency or commune: a labelled example
# for the next training (the text is copied, so it outlives the item), and the record of who
# corrected what, when, from which labels. The latest correction of an item is its label.
OPINION_CORRECTIONS = Table(
    "opinion_corrections", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("item_id", BigInteger, ForeignKey("opinion_items.id", ondelete="SET NULL"),
           index=True),
    Column("body", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("tone", Text, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("commune_code", Text),
    Column("previous", JSONB, nullable=False),
    Column("corrected_by", Text, nullable=False),
    Column("corrected_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Trained classifiers, each with what it was trained on and its figures on the held-out part.
# At most one is active (the partial unique index); a retraining that scores worse than the
# active one is kept for the record but never activated.
OPINION_MODELS = Table(
    "opinion_models", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", Text, nullable=False),
    Column("trained_on", JSONB, nullable=False),
    Column("metrics", JSONB, nullable=False),
    Column("baseline", JSONB),
    Column("active", Boolean, nullable=False, server_default=text("false")),
    Column("decision", Text, nullable=False),
    Column("model", LargeBinary, nullable=False),
)
Index("uq_opinion_models_active", OPINION_MODELS.c.active, unique=True,
      postgresql_where=OPINION_MODELS.c.active)

# Villages (bản) a deployment declares (``ioc opinion villages FILE.csv``): a name placed in
# one commune, its position and variant spellings, and where the row came from. Empty until then:
# the project ships no village list (only a labelled sample of the format).
OPINION_VILLAGES = Table(
    "opinion_villages", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("name", Text, nullable=False),
    Column("commune_code", Text, nullable=False),
    Column("variants", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("source", Text, nullable=False),
    Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("imported_by", Text, nullable=False),
)
Index("uq_opinion_villages_name", OPINION_VILLAGES.c.commune_code, OPINION_VILLAGES.c.name,
      unique=True)
