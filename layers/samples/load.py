"""Generate every layer's samples and write them into the layer tables in one transaction."""

from __future__ import annotations

import io
from pathlib import Path

from psycopg2 import sql
from sqlalchemy.engine import Engine

from gis_core.settings import SAMPLES_DIR
from layers.registry import LAYERS
from layers.samples.finish import finish_table
from layers.samples.generator import SampleGenerator
from layers.samples.reference import DEFAULT_SEED
from layers.samples.registry import GENERATORS
from layers.samples.table import Table
from layers.samples.world import build_world
from layers.tables import TABLES


def generate(samples_dir: Path, seed: int, scale: float,
             generators: tuple[tuple[str, SampleGenerator], ...] = GENERATORS
             ) -> dict[str, Table]:
    """The rows of every layer, by layer id, running ``generators`` in their order."""
    world = build_world(samples_dir, seed, scale)
    tables: dict[str, Table] = {}
    for layer_id, generator in generators:
        table = generator.build(world)
        if table.layer.id != layer_id:
            raise ValueError(f"the sample generator of '{layer_id}' built '{table.layer.id}'")
        tables[layer_id] = table
    return tables


def copy_texts(*, scale: float = 1.0, seed: int = DEFAULT_SEED, samples_dir: Path | None = None
               ) -> dict[str, tuple[list[str], int, io.StringIO]]:
    """Per layer id, in registry order: the columns, the row count and the COPY text."""
    if not scale > 0:
        raise ValueError("scale must be positive")
    tables = generate(Path(samples_dir or SAMPLES_DIR), seed, scale)
    return {layer.id: finish_table(tables[layer.id]) for layer in LAYERS if layer.id in tables}


def fill_layer_tables(engine: Engine, *, scale: float = 1.0, seed: int = DEFAULT_SEED,
                      samples_dir: Path | None = None) -> dict[str, int]:
    """Replace the contents of every layer table with the sample data; rows per layer id.

    One transaction: the tables are truncated (identities restarted) and refilled with COPY, so
    a failure leaves them as they were and a reload with the same ``seed`` and ``scale`` gives
    identical rows and ids. ``scale`` multiplies the synthetic feature counts (1.0 = the
    province's real order of magnitude); ``samples_dir`` overrides ``data_samples/``.
    """
    prepared = copy_texts(scale=scale, seed=seed, samples_dir=samples_dir)
    layer_ids = list(prepared)

    def ident(layer_id: str) -> sql.Composable:
        table = TABLES[layer_id]
        if table.schema:
            return sql.SQL("{}.{}").format(sql.Identifier(table.schema),
                                           sql.Identifier(table.name))
        return sql.Identifier(table.name)

    counts: dict[str, int] = {}
    with engine.begin() as conn:
        cur = conn.connection.cursor()
        try:
            cur.execute("SET LOCAL statement_timeout = 0")
            # CASCADE: what hangs on a replaced feature (a station's time series) goes with it.
            cur.execute(sql.SQL("TRUNCATE TABLE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(ident(i) for i in layer_ids)))
            for layer_id in layer_ids:
                names, count, buf = prepared[layer_id]
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    ident(layer_id), sql.SQL(", ").join(map(sql.Identifier, names)))
                cur.copy_expert(copy.as_string(cur), buf)
                counts[layer_id] = count
        finally:
            cur.close()
    with engine.begin() as conn:
        cur = conn.connection.cursor()
        try:
            for layer_id in layer_ids:
                cur.execute(sql.SQL("ANALYZE {}").format(ident(layer_id)))
        finally:
            cur.close()
    return counts
