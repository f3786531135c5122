"""Zones of approved master and detailed plans."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAND_USES = (
    "residential", "commercial", "public", "green", "industrial", "transport",
    "agricultural", "forest", "mixed",
)
LAND_USE_TITLES = (
    "Đất ở", "Thương mại dịch vụ", "Công trình công cộng", "Cây xanh", "Công nghiệp",
    "Giao thông", "Nông nghiệp", "Lâm nghiệp", "Hỗn hợp",
)

LAYER = LayerSpec(
    id="planning_zones",
    title={"vi": "Phân khu quy hoạch", "en": "Planning zones"},
    description={
        "vi": "Các khu chức năng của quy hoạch chung và quy hoạch chi tiết đã phê duyệt.",
        "en": "Functional zones of the approved master and detailed plans.",
    },
    group="planning",
    owner="so_xay_dung",
    geometry="MultiPolygon",
    fields=(
        FieldSpec("plan_name", "text", {"vi": "Tên đồ án", "en": "Plan"}, required=True),
        FieldSpec(
            "plan_level", "text", {"vi": "Cấp quy hoạch", "en": "Plan level"}, required=True,
            domain=("master", "detailed"), domain_titles=("Quy hoạch chung", "Quy hoạch chi tiết"),
        ),
        FieldSpec(
            "land_use", "text", {"vi": "Chức năng sử dụng đất", "en": "Land-use function"},
            required=True, domain=LAND_USES, domain_titles=LAND_USE_TITLES,
        ),
        FieldSpec("zone_code", "text", {"vi": "Ký hiệu ô đất", "en": "Zone code"}),
        FieldSpec(
            "decision_number", "text", {"vi": "Số quyết định phê duyệt", "en": "Approval decision"},
            required=True,
        ),
        FieldSpec("decision_date", "date", {"vi": "Ngày phê duyệt", "en": "Approval date"}),
        FieldSpec("drawing_url", "text", {"vi": "Bản vẽ", "en": "Drawings"}),
        FieldSpec("report_url", "text", {"vi": "Thuyết minh", "en": "Explanatory report"}),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
    ),
    update_every="P1Y",
    title_field="plan_name",
    tiles=TileSpec(minzoom=10, properties=("plan_name", "plan_level", "land_use", "zone_code")),
    color="#e6a800",
)
