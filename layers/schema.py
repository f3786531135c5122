"""Every table the migrations manage: the layer tables and the platform's own tables.

Each area declares its tables on ``layers.tables.metadata`` in its own module; importing them here
gives the migrations and the schema test the complete picture.
"""

from __future__ import annotations

from layers import (
    account_tables,  # noqa: F401 - declares its tables
    rate_tables,  # noqa: F401 - declares the rate limit counts
    scenario_tables,  # noqa: F401 - declares the scenario tables
    tile_tables,  # noqa: F401 - declares the tile invalidation table
)
from layers.tables import metadata

__all__ = ["metadata"]
