"""Citizens' feedback as points: a view of the feedback cases without anything about the reporter."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="feedback_points",
    title={"vi": "Phản ánh của người dân", "en": "Citizen feedback"},
    description={
        "vi": "Phản ánh, kiến nghị của người dân và doanh nghiệp: lĩnh vực, trạng thái, xã, vị trí "
              "làm tròn (khoảng 100 m; 1 km với khiếu nại, tố cáo) và kết quả đã trả lời. Không "
              "có thông tin người phản ánh.",
        "en": "Feedback from citizens and businesses: category, status, commune, a rounded "
              "position (about 100 m; 1 km for complaints and denunciations) and the published "
              "answer. Nothing about the reporter.",
    },
    group="interaction",
    owner="so_khcn",
    geometry="Point",
    fields=(
        FieldSpec("service_code", "text", {"vi": "Lĩnh vực", "en": "Category"}, required=True),
        FieldSpec(
            "status", "text", {"vi": "Trạng thái", "en": "Status"}, required=True,
            domain=("received", "classified", "forwarded", "in_progress", "resolved", "returned",
                    "closed"),
            domain_titles=("Đã tiếp nhận", "Đã phân loại", "Đã chuyển xử lý", "Đang xử lý",
                           "Đã giải quyết", "Đã trả kết quả", "Đã đóng"),
        ),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
        FieldSpec("department", "text", {"vi": "Cơ quan xử lý", "en": "Responsible department"},
                  required=True),
        FieldSpec("result", "text", {"vi": "Kết quả trả lời", "en": "Answer"}),
        FieldSpec("requested_at", "datetime", {"vi": "Thời điểm gửi", "en": "Sent at"},
                  required=True),
        FieldSpec("due_on", "date", {"vi": "Hạn trả lời", "en": "Answer due"}, required=True),
    ),
    update_every="P1D",
    title_field="service_code",
    time_field="requested_at",
    tiles=TileSpec(minzoom=8, properties=("service_code", "status", "commune_code")),
    color="#e67e22",
    derived=True,
)
