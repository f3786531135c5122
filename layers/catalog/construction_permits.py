"""Digitised construction permits."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="construction_permits",
    title={"vi": "Giấy phép xây dựng", "en": "Construction permits"},
    description={
        "vi": "Giấy phép xây dựng đã số hóa, gắn với thửa đất.",
        "en": "Digitised construction permits, tied to their land parcel.",
    },
    group="land",
    owner="so_xay_dung",
    geometry="Point",
    fields=(
        FieldSpec("permit_number", "text", {"vi": "Số giấy phép", "en": "Permit number"},
                  required=True),
        FieldSpec("permit_date", "date", {"vi": "Ngày cấp", "en": "Permit date"}, required=True),
        FieldSpec("applicant_name", "text", {"vi": "Chủ đầu tư", "en": "Applicant"},
                  sensitivity="personal"),
        FieldSpec("applicant_id_number", "text", {"vi": "Số CCCD chủ đầu tư", "en": "Applicant ID"},
                  sensitivity="personal"),
        FieldSpec("map_sheet", "integer", {"vi": "Số tờ bản đồ", "en": "Map sheet"}, minimum=1),
        FieldSpec("parcel_number", "integer", {"vi": "Số thửa", "en": "Parcel number"}, minimum=1),
        FieldSpec("floors", "integer", {"vi": "Số tầng", "en": "Floors"}, minimum=1, maximum=60),
        FieldSpec("floor_area_m2", "number", {"vi": "Tổng diện tích sàn (m²)", "en": "Floor area (m²)"},
                  minimum=0),
        FieldSpec(
            "status", "text", {"vi": "Tình trạng", "en": "Status"}, required=True,
            domain=("issued", "under_construction", "completed", "revoked"),
            domain_titles=("Đã cấp", "Đang xây dựng", "Đã hoàn công", "Đã thu hồi"),
        ),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  required=True, references="communes.code"),
    ),
    update_every="P30D",
    title_field="permit_number",
    key_field="permit_number",
    time_field="permit_date",
    tiles=TileSpec(minzoom=12, properties=("permit_number", "floors", "status")),
    color="#8e44ad",
)
