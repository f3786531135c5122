"""Cadastral land parcels."""

from layers.spec import FieldSpec, LayerSpec, TileSpec

# Land-use codes of the cadastral records (Circular 08/2024/TT-BTNMT).
LAND_USE_CODES = ("ONT", "ODT", "LUA", "HNK", "CLN", "RSX", "RPH", "TSC", "DGD", "DYT", "DGT", "SON")
LAND_USE_CODE_TITLES = (
    "Đất ở tại nông thôn", "Đất ở tại đô thị", "Đất trồng lúa", "Đất trồng cây hằng năm khác",
    "Đất trồng cây lâu năm", "Đất rừng sản xuất", "Đất rừng phòng hộ", "Đất trụ sở cơ quan",
    "Đất xây dựng cơ sở giáo dục", "Đất xây dựng cơ sở y tế", "Đất giao thông", "Đất sông, suối",
)

LAYER = LayerSpec(
    id="land_parcels",
    title={"vi": "Thửa đất", "en": "Land parcels"},
    description={
        "vi": "Thửa đất địa chính: tờ bản đồ, số thửa, diện tích, loại đất.",
        "en": "Cadastral parcels: map sheet, parcel number, area, land-use type.",
    },
    group="land",
    owner="so_nn_mt",
    geometry="MultiPolygon",
    fields=(
        FieldSpec("map_sheet", "integer", {"vi": "Số tờ bản đồ", "en": "Map sheet"},
                  required=True, minimum=1),
        FieldSpec("parcel_number", "integer", {"vi": "Số thửa", "en": "Parcel number"},
                  required=True, minimum=1),
        FieldSpec("area_m2", "number", {"vi": "Diện tích (m²)", "en": "Area (m²)"},
                  required=True, minimum=0),
        FieldSpec(
            "land_use_type", "text", {"vi": "Loại đất", "en": "Land-use type"}, required=True,
            domain=LAND_USE_CODES, domain_titles=LAND_USE_CODE_TITLES,
        ),
        FieldSpec("commune_code", "text", {"vi": "Mã xã", "en": "Commune code"},
                  required=True, references="communes.code"),
    ),
    update_every="P90D",
    key_field=None,
    tiles=TileSpec(minzoom=14, properties=("map_sheet", "parcel_number", "land_use_type")),
    color="#b5651d",
)
