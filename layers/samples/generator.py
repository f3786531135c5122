"""What a layer's sample generator declares: how its rows are made and what must come first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from layers.samples.table import Table
from layers.samples.world import World


@dataclass(frozen=True)
class SampleGenerator:
    """The sample generator of one layer, exported as ``GENERATOR`` by its module.

    ``build`` returns the layer's rows. It draws only from its own random stream
    (``world.rng(name)``, a name never to change: it would change the data), so layers do not
    disturb each other, and it reads what other generators left on the world only from those
    named in ``after``, which run first.
    """

    build: Callable[[World], Table]
    after: tuple[str, ...] = ()
