"""The province outline."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="province",
    title={"vi": "Ranh giới tỉnh", "en": "Province boundary"},
    description={
        "vi": "Ranh giới tỉnh Lai Châu (hợp của 38 đơn vị hành chính cấp xã từ 01/7/2025).",
        "en": "Boundary of Lai Châu province (union of its 38 commune-level units since 2025-07-01).",
    },
    group="base_map",
    owner="so_nn_mt",
    geometry="MultiPolygon",
    fields=(
        FieldSpec("code", "text", {"vi": "Mã tỉnh", "en": "Province code"}, required=True),
        FieldSpec("name", "text", {"vi": "Tên", "en": "Name"}, required=True),
        FieldSpec("name_en", "text", {"vi": "Tên tiếng Anh", "en": "English name"}),
        FieldSpec("area_km2", "number", {"vi": "Diện tích (km²)", "en": "Area (km²)"}, minimum=0),
    ),
    update_every="P5Y",
    title_field="name",
    key_field="code",
    tiles=TileSpec(minzoom=0, properties=("code", "name")),
    color="#222222",
)
