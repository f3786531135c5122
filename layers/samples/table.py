"""The rows of one layer as they are generated, column by column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from layers.registry import LAYERS


class Table:
    """Rows of one layer, column by column, with geometries in the local plane."""

    def __init__(self, layer_id: str, *, plane: bool = True) -> None:
        self.layer = next(layer for layer in LAYERS if layer.id == layer_id)
        self.plane = plane
        self.geoms: list[np.ndarray] = []
        self.cols: dict[str, list[Any]] = {
            name: [] for name in ("geom", *(f.name for f in self.layer.fields),
                                  "created_at", "updated_at")
        }

    def __len__(self) -> int:
        return sum(len(g) for g in self.geoms)

    def add(self, geom: BaseGeometry, **values: Any) -> None:
        """Append one feature."""
        self.extend(np.array([geom], dtype=object), **{k: [v] for k, v in values.items()})

    def extend(self, geoms: np.ndarray, **columns: Sequence[Any]) -> None:
        """Append many features; absent columns are NULL."""
        n = len(geoms)
        unknown = set(columns) - set(self.cols)
        if unknown:
            raise KeyError(f"{self.layer.id}: unknown columns {sorted(unknown)}")
        self.geoms.append(np.asarray(geoms, dtype=object))
        for name, values in self.cols.items():
            if name == "geom":
                continue
            given = columns.get(name)
            if given is None:
                values.extend([None] * n)
            else:
                if len(given) != n:
                    raise ValueError(f"{self.layer.id}.{name}: {len(given)} values for {n} rows")
                if isinstance(given, np.ndarray) and given.dtype.kind == "M":
                    values.extend(np.datetime_as_string(given, unit="s", timezone="UTC").tolist())
                else:
                    values.extend(given.tolist() if isinstance(given, np.ndarray) else given)
