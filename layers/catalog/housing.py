"""Houses surveyed in the field, with the household's poverty status."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="housing",
    title={"vi": "Nhà ở hộ gia đình", "en": "Housing"},
    description={
        "vi": "Vị trí nhà ở, loại nhà, hộ nghèo/cận nghèo, ảnh và thông tin khảo sát.",
        "en": "Houses with their type, the household's poverty status, photos and survey data.",
    },
    group="housing",
    owner="so_xay_dung",
    geometry="Point",
    fields=(
        FieldSpec("household_code", "text", {"vi": "Mã hộ", "en": "Household code"},
                  required=True),
        FieldSpec("head_of_household", "text", {"vi": "Chủ hộ", "en": "Head of household"},
                  required=True, sensitivity="personal", max_length=100),
        FieldSpec("citizen_id", "text", {"vi": "Số CCCD chủ hộ", "en": "Citizen ID"},
                  sensitivity="personal", max_length=12),
        FieldSpec("village", "text", {"vi": "Thôn, bản", "en": "Village"}),
        FieldSpec("members", "integer", {"vi": "Số nhân khẩu", "en": "Members"},
                  required=True, minimum=1, maximum=30),
        FieldSpec(
            "poverty_status", "text", {"vi": "Hộ nghèo", "en": "Poverty status"}, required=True,
            domain=("poor", "near_poor", "none"),
            domain_titles=("Hộ nghèo", "Hộ cận nghèo", "Không"),
        ),
        FieldSpec(
            "house_type", "text", {"vi": "Loại nhà", "en": "House type"}, required=True,
            domain=("permanent", "semi_permanent", "temporary"),
            domain_titles=("Kiên cố", "Bán kiên cố", "Tạm"),
        ),
        FieldSpec("photo_refs", "text[]", {"vi": "Ảnh", "en": "Photos"}, sensitivity="internal"),
        FieldSpec("surveyed_at", "datetime", {"vi": "Thời điểm khảo sát", "en": "Surveyed at"},
                  required=True),
        FieldSpec("surveyed_by", "text", {"vi": "Người khảo sát", "en": "Surveyed by"},
                  sensitivity="internal"),
        FieldSpec(
            "approval_status", "text", {"vi": "Trạng thái duyệt", "en": "Approval status"},
            required=True, domain=("pending", "approved", "rejected"),
            domain_titles=("Chờ duyệt", "Đã duyệt", "Từ chối"),
        ),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  required=True, references="communes.code"),
    ),
    update_every="P1Y",
    title_field="household_code",
    key_field="household_code",
    time_field="surveyed_at",
    tiles=TileSpec(minzoom=12, properties=("poverty_status", "house_type", "members")),
    color="#c0392b",
)
