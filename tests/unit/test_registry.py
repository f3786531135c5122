import pkgutil

import pytest

import layers.catalog
from layers.registry import DERIVED, LAYERS, get_layer
from layers.spec import FieldSpec, LayerSpec
from layers.tables import TABLES

REQUIRED = {
    "province", "communes", "planning_zones", "land_parcels", "construction_permits", "housing",
    "roads", "power_lines", "water_network", "schools", "health_facilities", "trees",
    "stations", "iot_stations",
}


def test_every_catalog_module_is_registered():
    modules = {m.name for m in pkgutil.iter_modules(layers.catalog.__path__)}
    assert modules == {layer.id for layer in LAYERS + DERIVED}


def test_the_regulation_layer_groups_are_covered():
    assert REQUIRED <= {layer.id for layer in LAYERS}
    assert {layer.group for layer in LAYERS} == {
        "base_map", "planning", "land", "housing", "infrastructure", "iot"}


def test_every_layer_is_fully_described():
    for layer in LAYERS:
        assert layer.title["vi"] and layer.title["en"]
        assert layer.update_interval.days >= 1
        for f in layer.fields:
            assert f.sensitivity in ("public", "internal", "personal")


def test_personal_fields_are_declared_where_citizens_are_named():
    housing = get_layer("housing")
    assert {f.name for f in housing.fields if f.sensitivity == "personal"} == {
        "head_of_household", "citizen_id"}
    permits = get_layer("construction_permits")
    assert permits.field("applicant_name").sensitivity == "personal"
    assert "head_of_household" not in {f.name for f in housing.public_fields}


def test_tables_follow_the_declarations():
    for layer in LAYERS:
        table = TABLES[layer.id]
        assert [c.name for c in table.columns] == [
            "id", "geom", *(f.name for f in layer.fields), "created_at", "updated_at",
            "source_dataset", "source_key", "import_job"]
        assert table.c.geom.type.geometry_type == layer.geometry.upper()
        assert table.c.geom.type.srid == 4326


def _layer(**overrides):
    base = dict(id="x", title={"vi": "X", "en": "X"}, description={"vi": "X", "en": "X"},
                group="base_map", owner="so_khcn", geometry="Point",
                fields=(FieldSpec("name", "text"),), update_every="P1D")
    return LayerSpec(**{**base, **overrides})


@pytest.mark.parametrize("overrides", [
    {"id": "Bad-Id"},
    {"title": {"vi": "X"}},
    {"update_every": "1 day"},
    {"title_field": "missing"},
    {"fields": (FieldSpec("name", "text"), FieldSpec("name", "integer"))},
    {"fields": (FieldSpec("name", "text", sensitivity="personal"),),
     "tiles": __import__("layers.spec").spec.TileSpec(properties=("name",))},
])
def test_bad_declarations_are_refused(overrides):
    with pytest.raises(ValueError):
        _layer(**overrides)


def test_system_column_names_cannot_be_declared():
    with pytest.raises(ValueError):
        FieldSpec("geom", "text")
