import pytest
from psycopg2 import sql

from gis_core.errors import InvalidParameterError
from layers.cql import SqlFilter, parse_filter

FIELDS = {"name": "text", "members": "integer", "surveyed_at": "datetime"}


def render(expr, lang=None):
    translator = SqlFilter(FIELDS)
    condition = translator.translate(parse_filter(expr, lang))
    return condition, translator.params


def as_text(condition):
    def render_composable(c):
        if isinstance(c, sql.Composed):
            return "".join(render_composable(p) for p in c.seq)
        if isinstance(c, sql.SQL):
            return c.string
        if isinstance(c, sql.Identifier):
            return '"' + ".".join(c.strings) + '"'
        if isinstance(c, sql.Placeholder):
            return f"%({c.name})s"
        if isinstance(c, sql.Literal):
            return repr(c.wrapped)
        raise AssertionError(type(c))

    return render_composable(condition)


@pytest.mark.parametrize(("expr", "expected"), [
    ("name = 'Đoàn Kết'", '"name" = %(f0)s'),
    ("members > 4 AND name LIKE 'Lò%'", '("members" > %(f0)s AND "name" LIKE %(f1)s)'),
    ("members BETWEEN 2 AND 5", '"members" BETWEEN %(f0)s AND %(f1)s'),
    ("name IS NULL", '"name" IS NULL'),
    ("name IN ('a', 'b')", '"name" IN (%(f0)s, %(f1)s)'),
    ("S_INTERSECTS(geom, POINT(103.4 22.3))", 'ST_Intersects("geom", ST_GeomFromWKB(%(f0)s, 4326))'),
    ("S_WITHIN(geometry, BBOX(103, 22, 104, 23))", 'ST_Within("geom", ST_GeomFromWKB(%(f0)s, 4326))'),
])
def test_cql2_text_translates_to_bound_sql(expr, expected):
    condition, _ = render(expr)
    assert as_text(condition) == expected


def test_cql2_json():
    condition, params = render(
        '{"op": "and", "args": [{"op": "=", "args": [{"property": "name"}, "Tả Lèng"]},'
        ' {"op": ">=", "args": [{"property": "members"}, 3]}]}', "cql2-json")
    assert as_text(condition) == '("name" = %(f0)s AND "members" >= %(f1)s)'
    assert params == {"f0": "Tả Lèng", "f1": 3}


def test_literals_never_enter_the_sql_text():
    condition, params = render("name = 'x; DROP TABLE housing; --'")
    assert "DROP" not in as_text(condition)
    assert any("DROP" in str(v) for v in params.values())


@pytest.mark.parametrize("expr", [
    "citizen_id = '012345678901'",      # not queryable (personal)
    "name = ",                           # malformed
    "S_INTERSECTS(name, POINT(1 2))",    # not a geometry
    "S_INTERSECTS(geom, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))",  # self-intersecting
    "members = 'many'",                  # type mismatch
])
def test_bad_filters_are_400s_naming_filter(expr):
    with pytest.raises(InvalidParameterError) as err:
        render(expr)
    assert err.value.parameter == "filter"


def test_unknown_filter_language():
    with pytest.raises(InvalidParameterError) as err:
        parse_filter("a = 1", "sql")
    assert err.value.parameter == "filter-lang"
