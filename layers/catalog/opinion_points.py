"""What is said online, placed: a view of the opinion items that name a commune, without author
or text."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="opinion_points",
    title={"vi": "Dư luận trên mạng", "en": "Public opinion online"},
    description={
        "vi": "Tin bài và bài đăng mạng xã hội nhắc đến một xã: lĩnh vực, sắc thái, khẩn cấp, "
              "xã và thời điểm, đặt tại điểm trong xã. Không có tác giả, không có nội dung.",
        "en": "News and social posts naming a commune: sector, tone, urgency, commune and time, "
              "placed at a point inside the commune. No author, no text.",
    },
    group="interaction",
    owner="so_khcn",
    geometry="Point",
    fields=(
        FieldSpec("sector", "text", {"vi": "Lĩnh vực", "en": "Sector"}, required=True,
                  domain=("health", "education", "transport", "environment", "public_order",
                          "social_welfare", "other"),
                  domain_titles=("Y tế", "Giáo dục", "Giao thông", "Môi trường",
                                 "Trật tự, an ninh", "An sinh xã hội", "Khác")),
        FieldSpec("tone", "text", {"vi": "Sắc thái", "en": "Tone"}, required=True,
                  domain=("negative", "neutral", "positive"),
                  domain_titles=("Tiêu cực", "Trung tính", "Tích cực")),
        FieldSpec("urgent", "boolean", {"vi": "Có thể là sự cố", "en": "Possible incident"},
                  required=True),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  references="communes.code"),
        FieldSpec("published_at", "datetime", {"vi": "Thời điểm đăng", "en": "Published at"},
                  required=True),
    ),
    update_every="P1D",
    title_field="sector",
    time_field="published_at",
    tiles=TileSpec(minzoom=8, properties=("sector", "tone", "urgent", "commune_code")),
    color="#8e44ad",
    derived=True,
)
