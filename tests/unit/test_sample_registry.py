"""Every registered layer has one sample generator, found by its id and run in a valid order."""

from __future__ import annotations

import pytest

from layers.registry import LAYERS
from layers.samples.generator import SampleGenerator
from layers.samples.registry import GENERATORS, generator_of, in_order


def _never(world):  # noqa: ANN001, ANN202 - never called
    raise AssertionError


def test_every_layer_has_a_generator_in_its_own_module():
    assert sorted(i for i, _ in GENERATORS) == sorted(layer.id for layer in LAYERS)
    for layer_id, generator in GENERATORS:
        assert generator.build.__module__ == f"layers.samples.generators.{layer_id}"


def test_each_generator_runs_after_those_it_reads_from():
    position = {layer_id: k for k, (layer_id, _) in enumerate(GENERATORS)}
    for layer_id, generator in GENERATORS:
        for before in generator.after:
            assert position[before] < position[layer_id], (before, layer_id)
    assert position["housing"] < position["construction_permits"]


def test_a_layer_without_a_generator_is_named():
    with pytest.raises(LookupError, match=r"layers/samples/generators/bus_stops\.py"):
        generator_of("bus_stops")


def test_order_keeps_the_given_order_where_free():
    a, b, c = (SampleGenerator(_never), SampleGenerator(_never, after=("c",)),
               SampleGenerator(_never))
    assert [i for i, _ in in_order({"a": a, "b": b, "c": c})] == ["a", "c", "b"]


def test_unknown_and_circular_after_are_refused():
    with pytest.raises(LookupError, match="unknown layers"):
        in_order({"a": SampleGenerator(_never, after=("nowhere",))})
    with pytest.raises(LookupError, match="wait for each other"):
        in_order({"a": SampleGenerator(_never, after=("b",)),
                  "b": SampleGenerator(_never, after=("a",))})
