"""The SensorThings entity sets over the platform's tables: what each one reads and links to.

Things, Locations and FeaturesOfInterest are the measuring stations of the ``iot_stations``
layer (one location and one feature of interest per station, sharing its id); Sensors and
ObservedProperties come from ``sensors.catalog``; Datastreams and Observations are tables.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants and the catalog only
from __future__ import annotations

from dataclasses import dataclass, field

from sensors.catalog import PROPERTIES, SENSORS

MEASURING = ", ".join(f"'{k}'" for k in SENSORS)
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
GEOJSON = "application/geo+json"


def _values(rows: list[tuple[object, ...]]) -> str:
    def lit(v: object) -> str:
        return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"
    return "VALUES " + ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


@dataclass(frozen=True)
class Nav:
    """A navigation property: the target set and how a target row links to the source row."""

    target: str
    many: bool
    local: str  # column of the source row
    remote: str  # column of the target row


@dataclass(frozen=True)
class EntitySet:
    """An entity set: its SQL (one row per entity), properties, JSON and time columns, links."""

    name: str
    sql: str
    properties: tuple[str, ...]
    json: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    nav: dict[str, Nav] = field(default_factory=dict)

    def columns(self) -> list[str]:
        """Every column the set's SQL yields."""
        return ["id", *self.properties, *self.hidden]


_STATION = (f"FROM iot_stations s WHERE s.kind IN ({MEASURING})")
_SENSOR_ROWS = [(s.id, s.kind, s.name["vi"], s.name["en"]) for s in SENSORS.values()]
_PROPERTY_ROWS = [(p.id, p.key, p.name["vi"], p.name["en"], p.definition, p.unit, p.unit_name)
                  for p in PROPERTIES.values()]
_KINDS = _values([(s.kind, s.id, s.name["vi"]) for s in SENSORS.values()])
_PROPS = _values([(p.key, p.id, p.name["vi"], p.unit_name) for p in PROPERTIES.values()])

SETS: dict[str, EntitySet] = {e.name: e for e in (
    EntitySet(
        "Things",
        "SELECT s.id, s.name, k.title AS description, jsonb_strip_nulls(jsonb_build_object("
        "'kind', s.kind, 'status', s.status, 'communeCode', s.commune_code, 'lastValue', "
        "s.last_value, 'unit', s.unit, 'lastReadingAt', s.last_reading_at)) AS properties "
        f"FROM iot_stations s JOIN ({_KINDS}) AS k(kind, sensor_id, title) ON k.kind = s.kind",
        ("name", "description", "properties"), json=("properties",),
        nav={"Locations": Nav("Locations", True, "id", "id"),
             "Datastreams": Nav("Datastreams", True, "id", "thing_id")}),
    EntitySet(
        "Locations",
        "SELECT s.id, s.name, 'Vị trí ' || s.name AS description, "
        f"'{GEOJSON}' AS \"encodingType\", ST_AsGeoJSON(s.geom, 6)::jsonb AS location {_STATION}",
        ("name", "description", "encodingType", "location"), json=("location",),
        nav={"Things": Nav("Things", True, "id", "id")}),
    EntitySet(
        "FeaturesOfInterest",
        "SELECT s.id, s.name, 'Khu vực quanh ' || s.name AS description, "
        f"'{GEOJSON}' AS \"encodingType\", ST_AsGeoJSON(s.geom, 6)::jsonb AS feature {_STATION}",
        ("name", "description", "encodingType", "feature"), json=("feature",),
        nav={"Observations": Nav("Observations", True, "id", "foi_id")}),
    EntitySet(
        "Sensors",
        "SELECT id, name, name_en AS description, 'text/plain' AS \"encodingType\", "
        "kind || ': ' || name_en AS metadata "
        f"FROM ({_values(_SENSOR_ROWS)}) AS t(id, kind, name, name_en)",
        ("name", "description", "encodingType", "metadata"),
        nav={"Datastreams": Nav("Datastreams", True, "id", "sensor_id")}),
    EntitySet(
        "ObservedProperties",
        "SELECT id, name, definition, name_en AS description, jsonb_build_object('key', key) "
        f"AS properties FROM ({_values(_PROPERTY_ROWS)}) AS t(id, key, name, name_en, definition, "
        "unit, unit_name)",
        ("name", "definition", "description", "properties"), json=("properties",),
        nav={"Datastreams": Nav("Datastreams", True, "id", "property_id")}),
    EntitySet(
        "Datastreams",
        "SELECT d.id, p.title || ' — ' || s.name AS name, p.title || ' tại ' || s.name AS description, "
        f"'{OM_MEASUREMENT}' AS \"observationType\", jsonb_build_object('name', p.unit_name, "
        "'symbol', d.unit, 'definition', 'http://unitsofmeasure.org/ucum.html#' || d.unit) "
        "AS \"unitOfMeasurement\", (SELECT min(phenomenon_time) FROM observations o "
        "WHERE o.datastream_id = d.id) AS first_time, (SELECT max(phenomenon_time) "
        "FROM observations o WHERE o.datastream_id = d.id) AS last_time, d.property, "
        "d.station_id AS thing_id, k.sensor_id, p.property_id "
        "FROM datastreams d JOIN iot_stations s ON s.id = d.station_id "
        f"JOIN ({_KINDS}) AS k(kind, sensor_id, title) ON k.kind = s.kind "
        f"JOIN ({_PROPS}) AS p(key, property_id, title, unit_name) ON p.key = d.property",
        ("name", "description", "observationType", "unitOfMeasurement"),
        json=("unitOfMeasurement",), times=("first_time", "last_time"),
        hidden=("first_time", "last_time", "property", "thing_id", "sensor_id", "property_id"),
        nav={"Thing": Nav("Things", False, "thing_id", "id"),
             "Sensor": Nav("Sensors", False, "sensor_id", "id"),
             "ObservedProperty": Nav("ObservedProperties", False, "property_id", "id"),
             "Observations": Nav("Observations", True, "id", "datastream_id")}),
    EntitySet(
        "Observations",
        "SELECT o.id, o.phenomenon_time AS \"phenomenonTime\", o.phenomenon_time AS \"resultTime\", "
        "o.result, o.datastream_id, d.station_id AS foi_id "
        "FROM observations o JOIN datastreams d ON d.id = o.datastream_id",
        ("phenomenonTime", "resultTime", "result"), times=("phenomenonTime", "resultTime"),
        hidden=("datastream_id", "foi_id"),
        nav={"Datastream": Nav("Datastreams", False, "datastream_id", "id"),
             "FeatureOfInterest": Nav("FeaturesOfInterest", False, "foi_id", "id")}),
)}
