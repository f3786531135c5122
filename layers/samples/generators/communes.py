"""The 38 communes from ``data_samples/communes.geojson`` (real, not generated)."""

from __future__ import annotations

from datetime import date

from layers.samples.generator import SampleGenerator
from layers.samples.reference import BOUNDARIES_VALID_FROM
from layers.samples.table import Table
from layers.samples.world import World


def build(world: World) -> Table:
    """The communes as in the file, with the population the world estimated for each."""
    table = Table("communes", plane=False)
    for c in world.communes:
        p = c.props
        legal = p.get("legal_basis")
        if legal:  # the only English word of the source properties
            legal = legal.replace("; codes: ", "; mã đơn vị hành chính: ")
        table.add(
            c.geom, code=p["code"], name=p["name"], full_name=p["full_name"],
            name_en=p.get("name_en"), unit_type=p["unit_type"],
            area_km2=p.get("area_km2_source"), population=c.population,
            predecessor_codes=list(p.get("predecessor_codes") or []),
            predecessor_names=list(p.get("predecessor_names") or []),
            legal_basis=legal,
            valid_from=date.fromisoformat(p["valid_from"]) if p.get("valid_from") else None,
            created_at=BOUNDARIES_VALID_FROM, updated_at=BOUNDARIES_VALID_FROM,
        )
    return table


GENERATOR = SampleGenerator(build)
