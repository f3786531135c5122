"""IoT devices: cameras, rain gauges, water-level and air-quality sensors."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="iot_stations",
    title={"vi": "Thiết bị IoT", "en": "IoT stations"},
    description={
        "vi": "Camera, trạm đo mưa, đo mực nước, quan trắc không khí; trạng thái và số đo mới nhất.",
        "en": "Cameras, rain gauges, water-level and air-quality sensors; status and last reading.",
    },
    group="iot",
    owner="so_khcn",
    geometry="Point",
    fields=(
        FieldSpec("name", "text", {"vi": "Tên thiết bị", "en": "Name"}, required=True),
        FieldSpec(
            "kind", "text", {"vi": "Loại", "en": "Kind"}, required=True,
            domain=("camera", "rain_gauge", "water_level", "air_quality"),
            domain_titles=("Camera", "Đo mưa", "Đo mực nước", "Quan trắc không khí"),
        ),
        FieldSpec(
            "status", "text", {"vi": "Trạng thái", "en": "Status"}, required=True,
            domain=("online", "offline", "maintenance"),
            domain_titles=("Hoạt động", "Mất kết nối", "Bảo trì"),
        ),
        FieldSpec("last_reading_at", "datetime", {"vi": "Thời điểm đo gần nhất", "en": "Last reading"}),
        FieldSpec("last_value", "number", {"vi": "Giá trị đo gần nhất", "en": "Last value"}),
        FieldSpec("unit", "text", {"vi": "Đơn vị đo", "en": "Unit"}),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
    ),
    update_every="P1D",
    title_field="name",
    key_field="name",
    time_field="last_reading_at",
    tiles=TileSpec(minzoom=8, properties=("name", "kind", "status")),
    color="#16a085",
)
