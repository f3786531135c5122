"""The 38 commune-level units (communes and wards) since 1 July 2025."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="communes",
    title={"vi": "Đơn vị hành chính cấp xã", "en": "Communes and wards"},
    description={
        "vi": "38 xã, phường của tỉnh Lai Châu từ 01/7/2025 (Nghị quyết 1670/NQ-UBTVQH15).",
        "en": "The 38 communes and wards of Lai Châu since 2025-07-01 (Resolution 1670/NQ-UBTVQH15).",
    },
    group="base_map",
    owner="so_noi_vu",
    geometry="MultiPolygon",
    fields=(
        FieldSpec("code", "text", {"vi": "Mã đơn vị", "en": "Official code"}, required=True),
        FieldSpec("name", "text", {"vi": "Tên", "en": "Name"}, required=True),
        FieldSpec("full_name", "text", {"vi": "Tên đầy đủ", "en": "Full name"}, required=True),
        FieldSpec("name_en", "text", {"vi": "Tên không dấu", "en": "Name without diacritics"}),
        FieldSpec(
            "unit_type", "text", {"vi": "Loại đơn vị", "en": "Unit type"}, required=True,
            domain=("commune", "ward"), domain_titles=("Xã", "Phường"),
        ),
        FieldSpec("area_km2", "number", {"vi": "Diện tích (km²)", "en": "Area (km²)"}, minimum=0),
        FieldSpec(
            "population", "integer", {"vi": "Dân số (ước tính)", "en": "Population (estimate)"},
            minimum=0,
        ),
        FieldSpec(
            "predecessor_codes", "text[]",
            {"vi": "Mã các đơn vị trước sáp nhập", "en": "Predecessor unit codes"},
        ),
        FieldSpec(
            "predecessor_names", "text[]",
            {"vi": "Các đơn vị trước sáp nhập", "en": "Predecessor units"},
        ),
        FieldSpec("legal_basis", "text", {"vi": "Căn cứ pháp lý", "en": "Legal basis"}),
        FieldSpec("valid_from", "date", {"vi": "Hiệu lực từ", "en": "Valid from"}),
    ),
    update_every="P1Y",
    title_field="full_name",
    # The time of a commune is the day its boundary took effect (OGC ``datetime``, extent).
    time_field="valid_from",
    key_field="code",
    tiles=TileSpec(minzoom=0, properties=("code", "name", "unit_type")),
    color="#555555",
)
