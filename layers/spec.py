"""Declarations of layers: the one source every table, collection and rule derives from.

A field's declaration, reading, checks and descriptions live in ``layers.fields``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from layers.fields import SYSTEM_COLUMNS, FieldSpec, FieldType, Sensitivity

GeometryType = Literal["Point", "MultiLineString", "MultiPolygon"]
Group = Literal["base_map", "planning", "land", "housing", "infrastructure", "iot", "interaction"]

__all__ = ["SYSTEM_COLUMNS", "FieldSpec", "FieldType", "LayerSpec", "Sensitivity", "TileSpec"]

GROUP_TITLES: dict[str, dict[str, str]] = {
    "base_map": {"vi": "Bản đồ nền", "en": "Base map"},
    "planning": {"vi": "Quy hoạch", "en": "Planning"},
    "land": {"vi": "Đất đai", "en": "Land"},
    "housing": {"vi": "Nhà ở", "en": "Housing"},
    "infrastructure": {"vi": "Hạ tầng kỹ thuật", "en": "Technical infrastructure"},
    "iot": {"vi": "IoT", "en": "IoT"},
    "interaction": {"vi": "Tương tác người dân", "en": "Citizen interaction"},
}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class TileSpec:
    """How a layer appears in vector tiles: zoom range and the attributes carried."""

    minzoom: int = 0
    maxzoom: int = 22
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the province: table, OGC collection, tiles and rules derive from this."""

    id: str
    title: dict[str, str]
    description: dict[str, str]
    group: Group
    owner: str
    geometry: GeometryType
    fields: tuple[FieldSpec, ...]
    update_every: str
    title_field: str | None = None
    time_field: str = "updated_at"
    key_field: str | None = None
    tiles: TileSpec = field(default_factory=TileSpec)
    color: str = "#3366cc"
    # A read-only view derived from a domain's own tables (its migration creates the view and keeps
    # its count and tile changes): served like any layer, never written, imported or sampled.
    derived: bool = False

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"invalid layer id {self.id!r}")
        if set(self.title) != {"vi", "en"} or set(self.description) != {"vi", "en"}:
            raise ValueError(f"{self.id}: title and description need 'vi' and 'en'")
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.id}: duplicate field names")
        for ref in (self.title_field, self.key_field, *self.tiles.properties):
            if ref is not None and ref not in names:
                raise ValueError(f"{self.id}: unknown field {ref!r}")
        if self.time_field not in (*names, "created_at", "updated_at"):
            raise ValueError(f"{self.id}: unknown time field {self.time_field!r}")
        for name in self.tiles.properties:
            if self.field(name).sensitivity != "public":
                raise ValueError(f"{self.id}: tile property {name!r} is not public")
        self.update_interval  # noqa: B018 - validates the duration

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def public_fields(self) -> tuple[FieldSpec, ...]:
        """Fields anyone may read."""
        return tuple(f for f in self.fields if f.sensitivity == "public")

    @property
    def update_interval(self) -> timedelta:
        """``update_every`` as a timedelta (years of 365 days, months of 30)."""
        match = _DURATION.match(self.update_every)
        if not match or not any(match.groups()):
            raise ValueError(f"{self.id}: update_every must be an ISO 8601 duration like P30D")
        years, months, weeks, days = (int(g or 0) for g in match.groups())
        return timedelta(days=years * 365 + months * 30 + weeks * 7 + days)


def has_commune(layer: LayerSpec) -> bool:
    """Whether the layer's features carry a commune code (so can be edited by a commune)."""
    return any(f.name == "commune_code" for f in layer.fields)
