"""Urban trees."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="trees",
    title={"vi": "Cây xanh đô thị", "en": "Urban trees"},
    description={
        "vi": "Cây xanh trên đường phố và công viên.",
        "en": "Street and park trees.",
    },
    group="infrastructure",
    owner="so_xay_dung",
    geometry="Point",
    fields=(
        FieldSpec("species", "text", {"vi": "Loài cây", "en": "Species"}, required=True),
        FieldSpec("height_m", "number", {"vi": "Chiều cao (m)", "en": "Height (m)"},
                  minimum=0, maximum=60),
        FieldSpec("planted_year", "integer", {"vi": "Năm trồng", "en": "Year planted"},
                  minimum=1900, maximum=2100),
        FieldSpec(
            "condition", "text", {"vi": "Tình trạng", "en": "Condition"},
            domain=("good", "fair", "poor", "dead"), domain_titles=("Tốt", "Trung bình", "Kém", "Chết"),
        ),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
    ),
    update_every="P1Y",
    title_field="species",
    tiles=TileSpec(minzoom=14, properties=("species", "condition")),
    color="#2ecc71",
)
