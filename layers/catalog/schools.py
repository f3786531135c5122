"""Schools from preschool to upper secondary."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

LAYER = LayerSpec(
    id="schools",
    title={"vi": "Trường học", "en": "Schools"},
    description={
        "vi": "Trường mầm non, tiểu học, trung học cơ sở, trung học phổ thông và liên cấp.",
        "en": "Preschools, primary, lower and upper secondary and multi-level schools.",
    },
    group="infrastructure",
    owner="so_gd_dt",
    geometry="Point",
    fields=(
        FieldSpec("name", "text", {"vi": "Tên trường", "en": "Name"}, required=True,
                  max_length=200),
        FieldSpec(
            "level", "text", {"vi": "Cấp học", "en": "Level"}, required=True,
            domain=("preschool", "primary", "lower_secondary", "upper_secondary", "multi_level"),
            domain_titles=("Mầm non", "Tiểu học", "Trung học cơ sở", "Trung học phổ thông",
                           "Liên cấp"),
        ),
        FieldSpec("students", "integer", {"vi": "Số học sinh", "en": "Students"}, minimum=0),
        FieldSpec("capacity", "integer", {"vi": "Quy mô (chỗ học)", "en": "Places"}, minimum=0),
        FieldSpec("classrooms", "integer", {"vi": "Số phòng học", "en": "Classrooms"}, minimum=0),
        FieldSpec(
            "building_type", "text", {"vi": "Loại công trình", "en": "Building type"},
            domain=("permanent", "semi_permanent", "temporary"),
            domain_titles=("Kiên cố", "Bán kiên cố", "Tạm"),
        ),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  required=True, references="communes.code"),
    ),
    update_every="P1Y",
    title_field="name",
    key_field="name",
    tiles=TileSpec(minzoom=9, properties=("name", "level", "students")),
    color="#27ae60",
)
