"""Stations: power substations, bus stations, water plants."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="stations",
    title={"vi": "Trạm, bến", "en": "Stations"},
    description={
        "vi": "Trạm biến áp, bến xe khách, nhà máy nước.",
        "en": "Power substations, bus stations and water plants.",
    },
    group="infrastructure",
    owner="so_xay_dung",
    geometry="Point",
    fields=(
        FieldSpec("name", "text", {"vi": "Tên", "en": "Name"}, required=True),
        FieldSpec(
            "kind", "text", {"vi": "Loại", "en": "Kind"}, required=True,
            domain=("power_substation", "bus_station", "water_plant"),
            domain_titles=("Trạm biến áp", "Bến xe khách", "Nhà máy nước"),
        ),
        FieldSpec("capacity", "number", {"vi": "Công suất", "en": "Capacity"}, minimum=0),
        FieldSpec("capacity_unit", "text", {"vi": "Đơn vị công suất", "en": "Capacity unit"}),
        FieldSpec("operator", "text", {"vi": "Đơn vị quản lý", "en": "Operator"}),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
    ),
    update_every="P1Y",
    title_field="name",
    tiles=TileSpec(minzoom=8, properties=("name", "kind")),
    color="#34495e",
)
