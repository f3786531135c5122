"""The province outline from ``data_samples/province.geojson`` (real, not generated)."""

from __future__ import annotations

from shapely.geometry import shape

from layers.samples.generator import SampleGenerator
from layers.samples.geometry import as_multi
from layers.samples.reference import BOUNDARIES_VALID_FROM, PROVINCE_AREA_KM2, PROVINCE_CODE, PROVINCE_NAME_EN
from layers.samples.table import Table
from layers.samples.world import World, read_features


def build(world: World) -> Table:
    """The one province row; its area is the sum of the communes' official areas."""
    province = Table("province", plane=False)
    feature = read_features(world.samples_dir / "province.geojson")[0]
    props = feature["properties"]
    area = round(sum(float(c.props.get("area_km2_source") or 0) for c in world.communes), 2)
    province.add(
        as_multi(shape(feature["geometry"])),
        code=props.get("code", PROVINCE_CODE),
        name=props.get("full_name", "Tỉnh Lai Châu"),
        name_en=PROVINCE_NAME_EN,
        area_km2=area or PROVINCE_AREA_KM2,
        created_at=BOUNDARIES_VALID_FROM, updated_at=BOUNDARIES_VALID_FROM,
    )
    return province


GENERATOR = SampleGenerator(build)
