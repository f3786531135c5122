"""Water supply and drainage pipes."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="water_network",
    title={"vi": "Mạng lưới cấp thoát nước", "en": "Water supply and drainage"},
    description={
        "vi": "Tuyến ống cấp nước và thoát nước.",
        "en": "Water supply and drainage pipes.",
    },
    group="infrastructure",
    owner="so_xay_dung",
    geometry="MultiLineString",
    fields=(
        FieldSpec(
            "kind", "text", {"vi": "Loại", "en": "Kind"}, required=True,
            domain=("supply", "drainage"), domain_titles=("Cấp nước", "Thoát nước"),
        ),
        FieldSpec("diameter_mm", "integer", {"vi": "Đường kính (mm)", "en": "Diameter (mm)"},
                  minimum=10, maximum=3000),
        FieldSpec("material", "text", {"vi": "Vật liệu", "en": "Material"},
                  domain=("HDPE", "PVC", "steel", "concrete"),
                  domain_titles=("HDPE", "PVC", "Thép", "Bê tông")),
        FieldSpec("operator", "text", {"vi": "Đơn vị quản lý", "en": "Operator"}),
        FieldSpec("length_km", "number", {"vi": "Chiều dài (km)", "en": "Length (km)"}, minimum=0),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
    ),
    update_every="P180D",
    tiles=TileSpec(minzoom=12, properties=("kind", "diameter_mm")),
    color="#2980b9",
)
