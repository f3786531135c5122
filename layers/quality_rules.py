"""Quality rules: the few declared by hand (coverage), and the settings of those derived from the specs.

Every per-record rule (geometry, commune, domains, ranges, required fields, duplicates, spelling,
normalised text) is derived from the layer declarations in ``layers.quality``; only what a
declaration cannot say is written here.
"""

from __future__ import annotations

from dataclasses import dataclass

from layers.registry import get_layer
from layers.spec import has_commune


@dataclass(frozen=True)
class CoverageRule:
    """Every commune has at least one feature of ``layer`` (matching ``where``)."""

    id: str
    layer: str
    title: dict[str, str]
    where: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        layer = get_layer(self.layer)
        if layer is None or not has_commune(layer):
            raise ValueError(f"coverage {self.id}: layer {self.layer!r} has no commune_code")
        for name, value in self.where:
            spec = layer.field(name)
            if spec.domain and value not in spec.domain:
                raise ValueError(f"coverage {self.id}: {value!r} is not in {name}'s domain")


COVERAGE: tuple[CoverageRule, ...] = (
    CoverageRule("commune_health_station", "health_facilities",
                 {"vi": "Mỗi xã, phường có trạm y tế", "en": "Every commune has its health station"},
                 where=(("kind", "commune_health_station"),)),
    CoverageRule("school_in_commune", "schools",
                 {"vi": "Mỗi xã, phường có trường học", "en": "Every commune has a school"}),
    CoverageRule("households_surveyed", "housing",
                 {"vi": "Mỗi xã, phường có dữ liệu nhà ở hộ gia đình",
                  "en": "Every commune has surveyed households"}),
)
# "Every household has a poverty status" and the like are the layers' required fields
# (FieldSpec.required), checked per record under 'complete'.

# Two features of the same point layer closer than this, with similar names, are duplicates.
DUPLICATE_METRES = 2.0
# pg_trgm similarity from which two names count as the same (when the extension is installed).
SIMILAR_NAMES = 0.6
# Text fields whose values are codes, links or identifiers: exact by nature, never "spellings".
NOT_SPELLINGS = ("_code", "_url", "_number", "_id")


def coverage_for(layer_id: str) -> tuple[CoverageRule, ...]:
    """The coverage rules of one layer."""
    return tuple(rule for rule in COVERAGE if rule.layer == layer_id)
