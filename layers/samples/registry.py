"""The sample generator of every registered layer, found by the layer's id, in running order.

The generator of layer ``<id>`` is ``GENERATOR`` in ``layers/samples/generators/<id>.py``, as the
layer is ``LAYER`` in ``layers/catalog/<id>.py``: adding a layer is its declaration plus its
generator. A registered layer without a generator, an ``after`` naming no layer, or generators
waiting for each other stop the import with a message that names them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from layers.registry import LAYERS
from layers.samples.generator import SampleGenerator

_PACKAGE = "layers.samples.generators"


def generator_of(layer_id: str) -> SampleGenerator:
    """The ``GENERATOR`` of ``layers/samples/generators/<layer_id>.py``."""
    name = f"{_PACKAGE}.{layer_id}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        raise LookupError(f"layer '{layer_id}' has no sample generator: add "
                          f"layers/samples/generators/{layer_id}.py exporting GENERATOR") from None
    generator = getattr(module, "GENERATOR", None)
    if not isinstance(generator, SampleGenerator):
        raise LookupError(f"layers/samples/generators/{layer_id}.py exports no GENERATOR "
                          "(a SampleGenerator)")
    return generator


def in_order(generators: Mapping[str, SampleGenerator]) -> tuple[tuple[str, SampleGenerator], ...]:
    """``generators`` (by layer id) in their given order, each moved after those it names in
    ``after``."""
    for layer_id, generator in generators.items():
        unknown = sorted(set(generator.after) - set(generators))
        if unknown:
            raise LookupError(f"the sample generator of '{layer_id}' runs after unknown "
                              f"layers {unknown}")
    pending, order = dict(generators), []
    while pending:
        done = {layer_id for layer_id, _ in order}
        ready = next((i for i, g in pending.items() if set(g.after) <= done), None)
        if ready is None:
            raise LookupError(f"the sample generators of {sorted(pending)} wait for each other")
        order.append((ready, pending.pop(ready)))
    return tuple(order)


GENERATORS = in_order({layer.id: generator_of(layer.id) for layer in LAYERS})
