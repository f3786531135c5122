"""Hospitals, health centres and commune health stations."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="health_facilities",
    title={"vi": "Cơ sở y tế", "en": "Health facilities"},
    description={
        "vi": "Bệnh viện, trung tâm y tế, trạm y tế xã và phòng khám.",
        "en": "Hospitals, health centres, commune health stations and clinics.",
    },
    group="infrastructure",
    owner="so_y_te",
    geometry="Point",
    fields=(
        FieldSpec("name", "text", {"vi": "Tên cơ sở", "en": "Name"}, required=True),
        FieldSpec(
            "kind", "text", {"vi": "Loại cơ sở", "en": "Kind"}, required=True,
            domain=("provincial_hospital", "health_centre", "commune_health_station", "clinic"),
            domain_titles=("Bệnh viện tuyến tỉnh", "Trung tâm y tế khu vực", "Trạm y tế xã",
                           "Phòng khám"),
        ),
        FieldSpec("beds", "integer", {"vi": "Số giường bệnh", "en": "Beds"}, minimum=0),
        FieldSpec("doctors", "integer", {"vi": "Số bác sĩ", "en": "Doctors"}, minimum=0),
        FieldSpec(
            "building_type", "text", {"vi": "Loại công trình", "en": "Building type"},
            domain=("permanent", "semi_permanent", "temporary"),
            domain_titles=("Kiên cố", "Bán kiên cố", "Tạm"),
        ),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  required=True, references="communes.code"),
    ),
    update_every="P1Y",
    title_field="name",
    key_field="name",
    tiles=TileSpec(minzoom=8, properties=("name", "kind", "beds")),
    color="#e74c3c",
)
