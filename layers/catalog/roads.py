"""Roads, from national highways to village tracks."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="roads",
    title={"vi": "Đường giao thông", "en": "Roads"},
    description={
        "vi": "Mạng lưới đường: quốc lộ, tỉnh lộ, đường xã, đường thôn bản, đường đô thị.",
        "en": "Road network: national, provincial, commune, village and urban roads.",
    },
    group="infrastructure",
    owner="so_xay_dung",
    geometry="MultiLineString",
    fields=(
        FieldSpec("name", "text", {"vi": "Tên đường", "en": "Name"}),
        FieldSpec(
            "road_class", "text", {"vi": "Cấp đường", "en": "Road class"}, required=True,
            domain=("national", "provincial", "commune", "village", "urban"),
            domain_titles=("Quốc lộ", "Tỉnh lộ", "Đường xã", "Đường thôn, bản", "Đường đô thị"),
        ),
        FieldSpec(
            "surface", "text", {"vi": "Kết cấu mặt đường", "en": "Surface"}, required=True,
            domain=("asphalt", "concrete", "gravel", "earth"),
            domain_titles=("Nhựa", "Bê tông", "Cấp phối", "Đất"),
        ),
        FieldSpec("width_m", "number", {"vi": "Bề rộng (m)", "en": "Width (m)"}, minimum=0),
        FieldSpec("length_km", "number", {"vi": "Chiều dài (km)", "en": "Length (km)"}, minimum=0),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
    ),
    update_every="P180D",
    title_field="name",
    tiles=TileSpec(minzoom=6, properties=("name", "road_class", "surface")),
    color="#7f8c8d",
)
