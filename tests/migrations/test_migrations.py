import psycopg2
import psycopg2.errors
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from gis_core.db import to_sqlalchemy_url
from layers.registry import LAYERS
from migrations import alembic_config
from migrations.schema import metadata


def _tables(url):
    engine = create_engine(to_sqlalchemy_url(url))
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        srids = conn.execute(text(
            "SELECT count(*) FROM spatial_ref_sys WHERE srid BETWEEN 9205 AND 9218")).scalar()
    engine.dispose()
    return names, srids


def test_upgrade_downgrade_upgrade(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    names, srids = _tables(empty_database)
    assert {layer.id for layer in LAYERS} <= names
    assert srids == 14
    command.downgrade(config, "base")
    names, srids = _tables(empty_database)
    assert not {layer.id for layer in LAYERS} & names
    assert srids == 0
    command.upgrade(config, "head")
    names, _ = _tables(empty_database)
    assert {layer.id for layer in LAYERS} <= names


def test_migrations_match_the_registry(database_url):
    """The migrated schema is exactly what the layer declarations describe."""
    from migrations.env_compare import include_object

    engine = create_engine(to_sqlalchemy_url(database_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_object": include_object, "compare_type": True})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_vn2000_transform_in_postgis_matches_the_reference(database_url):
    engine = create_engine(to_sqlalchemy_url(database_url))
    with engine.connect() as conn:
        x, y = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID("
            "ST_MakePoint(103.4583, 22.3964), 4326), 9205) AS p) s")).one()
    engine.dispose()
    assert abs(x - 546991.573) < 0.005 and abs(y - 2477623.919) < 0.005


def test_every_layer_keeps_its_count_and_version(database_url):
    engine = create_engine(to_sqlalchemy_url(database_url))
    with engine.connect() as conn:
        triggers = conn.execute(text(
            "SELECT c.relname, count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'ioc_count_%' GROUP BY c.relname")).all()
        counts = dict(conn.execute(text("SELECT layer, n FROM feature_counts")).all())
        for layer in LAYERS:
            actual = conn.execute(text(f'SELECT count(*) FROM "{layer.id}"')).scalar()  # noqa: S608
            assert counts[layer.id] == actual, layer.id
    engine.dispose()
    assert dict(triggers) == {layer.id: 4 for layer in LAYERS}


def _checks(conn, table: str) -> dict[str, str]:
    return dict(conn.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'c' AND conrelid = CAST(:t AS regclass)"), {"t": table}).all())


def test_check_constraints_match_the_registry(database_url):
    """Every field's domain and range is a CHECK constraint of the migrated table, exactly as the
    declarations derive it (compared as PostgreSQL prints each after parsing it)."""
    from sqlalchemy import CheckConstraint

    from layers.tables import TABLES

    engine = create_engine(to_sqlalchemy_url(database_url))
    with engine.connect() as conn:
        for layer in LAYERS:
            declared = {c.name: str(c.sqltext) for c in TABLES[layer.id].constraints
                        if isinstance(c, CheckConstraint)}
            conn.execute(text(f'CREATE TEMP TABLE probe (LIKE "{layer.id}")'))
            for name, condition in declared.items():
                conn.execute(text(f"ALTER TABLE probe ADD CONSTRAINT {name} CHECK ({condition})"))
            assert _checks(conn, layer.id) == _checks(conn, "probe"), layer.id
            conn.execute(text("DROP TABLE probe"))
        conn.rollback()
    engine.dispose()
    assert "ck_housing_poverty_status_domain" in {c.name for c in TABLES["housing"].constraints}


@pytest.mark.parametrize(("column", "value", "constraint"), [
    ("poverty_status", "'rich'", "ck_housing_poverty_status_domain"),
    ("members", "99", "ck_housing_members_range"),
])
def test_the_database_refuses_a_direct_insert_the_registry_forbids(database_url, column, value,
                                                                    constraint):
    """A plain SQL insert, past every application check, is refused by the table itself."""
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT ST_AsText(ST_PointOnSurface(geom)), code FROM communes LIMIT 1")
            point, commune = cur.fetchone()
            values = {"household_code": "'SQL-1'", "head_of_household": "'Lò Văn Thử'",
                      "village": "'Bản Thử'", "members": "4", "poverty_status": "'none'",
                      "house_type": "'permanent'", "surveyed_at": "now()",
                      "approval_status": "'approved'", "commune_code": f"'{commune}'",
                      column: value}
            with pytest.raises(psycopg2.errors.CheckViolation) as refused:
                cur.execute(f"INSERT INTO housing (geom, {', '.join(values)}) "  # noqa: S608
                            f"VALUES (ST_GeomFromText(%s, 4326), {', '.join(values.values())})",
                            (point,))
            assert refused.value.diag.constraint_name == constraint
    finally:
        conn.rollback()
        conn.close()
