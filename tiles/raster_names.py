"""Names shared by the raster code and its callers, importable without loading rasterio."""

from __future__ import annotations

TERRAIN = "terrain"  # the platform's terrain model (SYNTHETIC unless a real COG replaces it)
KINDS = ("hillshade", "terrain-rgb")  # the raster tile sets served for each raster
