"""Power transmission and distribution lines."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="power_lines",
    title={"vi": "Đường dây điện", "en": "Power lines"},
    description={
        "vi": "Đường dây truyền tải và phân phối điện.",
        "en": "Power transmission and distribution lines.",
    },
    group="infrastructure",
    owner="so_cong_thuong",
    geometry="MultiLineString",
    fields=(
        FieldSpec("name", "text", {"vi": "Tên tuyến", "en": "Name"}),
        FieldSpec("voltage_kv", "number", {"vi": "Cấp điện áp (kV)", "en": "Voltage (kV)"},
                  required=True, minimum=0.2, maximum=500),
        FieldSpec(
            "kind", "text", {"vi": "Loại", "en": "Kind"}, required=True,
            domain=("overhead", "underground"), domain_titles=("Đường dây trên không", "Cáp ngầm"),
        ),
        FieldSpec("operator", "text", {"vi": "Đơn vị quản lý", "en": "Operator"}),
        FieldSpec("length_km", "number", {"vi": "Chiều dài (km)", "en": "Length (km)"}, minimum=0),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
    ),
    update_every="P180D",
    title_field="name",
    tiles=TileSpec(minzoom=8, properties=("name", "voltage_kv")),
    color="#f39c12",
)
