"""The generated sample data is fixed: same seed and scale, same bytes.

The figures below are the generator's output at seed 20250701, scale 0.05 (the rows it would
COPY into each table, before any database). A change to them changes the data every test,
benchmark and demonstration runs on; when it is meant, update them here and the row counts in
``data_samples/README.md``, and say so in the commit.
"""

from __future__ import annotations

import hashlib

import pytest

from gis_core.settings import SAMPLES_DIR
from layers.registry import LAYERS
from layers.samples.finish import finish_table
from layers.samples.load import copy_texts, generate
from layers.samples.registry import GENERATORS, in_order

SEED, SCALE = 20250701, 0.05
ROWS = {
    "province": 1, "communes": 38, "planning_zones": 832, "land_parcels": 596,
    "construction_permits": 35, "housing": 5385, "roads": 330, "power_lines": 210,
    "water_network": 49, "schools": 83, "health_facilities": 48, "trees": 175,
    "stations": 54, "iot_stations": 9,
}
# SHA-256 of the COPY text of one layer of each kind: real boundaries, points, lines, polygons.
DIGESTS = {
    "communes": "112cee67ba595afade7b0cc496d33e8cfcba39c552fef6d6916e98fd9b5e5b17",
    "housing": "7c766ed4cd669d16d5f45b0ffec2dc4e60a6b01af8eb72178720fbdc45121a9e",
    "roads": "d0b0d9d267247d133045475a1508e7326776ab06d128d27d63c0454cf1e65060",
    "land_parcels": "99a4dcad400030ede1d9c8ffa10a748cb84643bd75177ae92a26ed4f09545634",
}


@pytest.fixture(scope="module")
def prepared() -> dict[str, tuple[list[str], int, str]]:
    return {layer_id: (names, count, buf.getvalue())
            for layer_id, (names, count, buf) in copy_texts(seed=SEED, scale=SCALE).items()}


def test_every_layer_has_its_fixed_row_count(prepared):
    assert {layer_id: count for layer_id, (_, count, _) in prepared.items()} == ROWS
    assert set(ROWS) == {layer.id for layer in LAYERS}
    for layer_id, (_, count, text) in prepared.items():
        assert text.count("\n") == count, layer_id


@pytest.mark.parametrize("layer_id", sorted(DIGESTS))
def test_the_rows_of_a_layer_are_byte_for_byte_the_same(prepared, layer_id):
    text = prepared[layer_id][2]
    assert hashlib.sha256(text.encode()).hexdigest() == DIGESTS[layer_id]


def test_generators_depend_only_on_what_they_declare(prepared):
    """Run in another order that keeps every ``after``: the same bytes for every layer."""
    reordered = in_order(dict(reversed(GENERATORS)))
    assert [i for i, _ in reordered] != [i for i, _ in GENERATORS]
    tables = generate(SAMPLES_DIR, SEED, SCALE, reordered)
    for layer_id, table in tables.items():
        assert finish_table(table)[2].getvalue() == prepared[layer_id][2], layer_id
