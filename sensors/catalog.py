"""What each kind of station measures (SensorThings ObservedProperties and Sensors) and the
physical range a reading must fall in to be stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Property:
    """An observed property: unit (UCUM), physical range, titles; its SensorThings id."""

    id: int
    key: str
    name: dict[str, str]
    unit: str
    unit_name: str
    low: float
    high: float
    definition: str


@dataclass(frozen=True)
class SensorKind:
    """A kind of station (SensorThings Sensor) and the property it measures."""

    id: int
    kind: str
    name: dict[str, str]
    property: str


PROPERTIES: dict[str, Property] = {p.key: p for p in (
    Property(1, "rain", {"vi": "Lượng mưa (10 phút)", "en": "Rainfall (10 minutes)"}, "mm",
             "millimetre", 0.0, 200.0, "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0343/"),
    Property(2, "water_level", {"vi": "Mực nước", "en": "Water level"}, "m", "metre", -5.0, 60.0,
             "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0721/"),
    Property(3, "pm25", {"vi": "Bụi mịn PM2.5", "en": "PM2.5"}, "ug/m3",
             "microgram per cubic metre", 0.0, 2000.0,
             "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0588/"),
)}

SENSORS: dict[str, SensorKind] = {s.kind: s for s in (
    SensorKind(1, "rain_gauge", {"vi": "Trạm đo mưa tự động", "en": "Automatic rain gauge"}, "rain"),
    SensorKind(2, "water_level", {"vi": "Trạm đo mực nước", "en": "Water-level sensor"},
               "water_level"),
    SensorKind(3, "air_quality", {"vi": "Trạm quan trắc không khí", "en": "Air-quality monitor"},
               "pm25"),
)}

PROPERTY_BY_ID = {p.id: p for p in PROPERTIES.values()}
SENSOR_BY_ID = {s.id: s for s in SENSORS.values()}
