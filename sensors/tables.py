"""Tables of the sensors domain: datastreams, observations, quarantine and alerts.

A station is a row of the ``iot_stations`` layer (the SensorThings Thing); each station has one
datastream per observed property. Observations are unique by (datastream, phenomenon time), which
makes every ingestion path idempotent. They are partitioned by UTC month (``observations_YYYY_MM``,
created ahead by the maintenance job and on demand by ``observation_partition(time)``), each
insert statement noting the hours it touched in ``observation_changes`` (a trigger), from which the
job keeps ``observation_hourly`` — what remains of a month once its raw partition is dropped.
One alert per rule and datastream is open at a time: the partial unique key lets the database
decide between two workers raising it together; an operator's acknowledgement (who, when, a
note) and the clearing stay on the alert's row.
"""

from __future__ import annotations

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

from layers.tables import TABLES, metadata

STATIONS = TABLES["iot_stations"]

DATASTREAMS = Table(
    "datastreams", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("station_id", BigInteger, ForeignKey(STATIONS.c.id, ondelete="CASCADE"), nullable=False),
    Column("property", Text, nullable=False, comment="rain, water_level, pm25 (sensors.catalog)"),
    Column("unit", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("station_id", "property"),
)

OBSERVATIONS = Table(
    "observations", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("datastream_id", BigInteger, ForeignKey(DATASTREAMS.c.id, ondelete="CASCADE"),
           nullable=False),
    Column("phenomenon_time", DateTime(timezone=True), primary_key=True),
    Column("result", Double, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False,
           server_default=text("clock_timestamp()"), comment="when the row was written"),
    UniqueConstraint("datastream_id", "phenomenon_time"),
    postgresql_partition_by="RANGE (phenomenon_time)",
)
Index("ix_observations_phenomenon_time", OBSERVATIONS.c.phenomenon_time, postgresql_using="brin")

OBSERVATION_CHANGES = Table(
    "observation_changes", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("datastream_id", BigInteger, nullable=False),
    Column("hour", DateTime(timezone=True), nullable=False,
           comment="an hour with new observations, not yet rolled up"),
)

OBSERVATION_HOURLY = Table(
    "observation_hourly", metadata,
    Column("datastream_id", BigInteger, ForeignKey(DATASTREAMS.c.id, ondelete="CASCADE"),
           primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("min", Double, nullable=False),
    Column("max", Double, nullable=False),
    Column("sum", Double, nullable=False),
)

QUARANTINE = Table(
    "observation_quarantine", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("topic", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

ALERTS = Table(
    "sensor_alerts", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("rule_id", Text, nullable=False),
    Column("datastream_id", BigInteger, ForeignKey(DATASTREAMS.c.id, ondelete="CASCADE"),
           nullable=False),
    Column("status", Text, nullable=False, comment="raised, acknowledged or cleared"),
    Column("value", Double, nullable=False, comment="the value that crossed the rule"),
    Column("phenomenon_time", DateTime(timezone=True), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("cleared_at", DateTime(timezone=True)),
    Column("incident_id", BigInteger, ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", Text, comment="the account that acknowledged it"),
    Column("acknowledged_unit", Text, comment="the acknowledger's department, or 'operator'"),
    Column("acknowledged_note", Text),
    Column("cleared_value", Double, comment="the value at which the condition ended"),
    Column("clear_noted_at", DateTime(timezone=True),
           comment="when the alert's incident was told that it cleared"),
)
Index("uq_sensor_alerts_open", ALERTS.c.rule_id, ALERTS.c.datastream_id, unique=True,
      postgresql_where=text("status <> 'cleared'"))
# The clearings still to write on their incident's timeline: few rows, found at every rules round.
Index("ix_sensor_alerts_clear_unnoted", ALERTS.c.id,
      postgresql_where=text("status = 'cleared' AND incident_id IS NOT NULL "
                            "AND clear_noted_at IS NULL"))
