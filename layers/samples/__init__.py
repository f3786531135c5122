"""Sample data for every layer: the real boundaries plus a deterministic synthetic generator.

``fill_layer_tables`` truncates the layer tables and fills them in one transaction. ``province``
and ``communes`` come from ``data_samples/`` (real reference boundaries); everything else is
synthetic, generated with ``numpy.random.Generator(PCG64(...))`` from ``seed`` at the province's
real scale when ``scale=1.0``. The same seed and scale give byte-identical rows and ids.

Each layer has one generator, ``GENERATOR`` in ``generators/<layer id>.py``, found by the layer's
id (``registry.py``). They share the ``world`` (communes, villages, what one generator leaves for
another), ``names``, ``draw`` and ``geometry``; ``finish`` turns a generated ``table`` into COPY
text and ``load`` writes them all.
"""

from layers.samples.load import fill_layer_tables
from layers.samples.reference import DEFAULT_SEED

__all__ = ["DEFAULT_SEED", "fill_layer_tables"]
