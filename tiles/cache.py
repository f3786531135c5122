"""Tile caches with exact invalidation: a change drops only the tiles its boxes touch.

Triggers on every layer table (migration 0005) write each changed feature's old and new bounding
box to ``tile_changes`` with the layer's new data version. Before answering, a cache applies the
changes past the version it last applied: it drops exactly the cached tiles of that layer whose
area (with the tile's buffer) meets one of the boxes, and keeps every other tile. Two backends:
memory (per process, bounded in bytes, least recently used out) and Redis (shared by workers).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, int, int, int]  # layer, z, x, y
Box = tuple[float, float, float, float]  # west, south, east, north (degrees)


@dataclass
class RenderedTile:
    """An encoded tile, whether its features were capped or clustered, and its ETag."""

    data: bytes
    capped: bool = False
    clustered: bool = False
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        self.etag = hashlib.blake2b(self.data, digest_size=10).hexdigest()


@dataclass(frozen=True)
class Change:
    """One changed feature's box in a layer (``box`` None: the whole layer)."""

    version: int
    box: Box | None


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> Box:
    """A tile's bounds in degrees, widened by ``margin`` (a fraction of the tile) on each side."""
    n = 2**z

    def lon(col: float) -> float:
        return col / n * 360.0 - 180.0

    def lat(row: float) -> float:
        row = min(max(row, 0.0), float(n))
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return lon(x - margin), lat(y + 1 + margin), lon(x + 1 + margin), lat(y - margin)


def touches(box: Box, other: Box) -> bool:
    """Whether two boxes meet (edges included)."""
    return not (box[2] < other[0] or other[2] < box[0] or box[3] < other[1] or other[3] < box[1])


def changes_since(cursor: Any, layer: str, since: int, until: int) -> list[Change]:
    """The changes of ``layer`` with versions in (since, until], oldest first."""
    cursor.execute(
        "SELECT version, minx, miny, maxx, maxy FROM tile_changes "
        "WHERE layer = %s AND version > %s AND version <= %s ORDER BY version",
        (layer, since, until))
    return [Change(v, None if minx is None else (minx, miny, maxx, maxy))
            for v, minx, miny, maxx, maxy in cursor.fetchall()]


class TileCache:
    """The invalidation protocol shared by the backends; subclasses store the tiles.

    ``margin`` is the fraction of a tile its features may reach beyond its edge (the MVT buffer).
    """

    margin: float = 0.0
    local: bool = False  # whether reads stay in this process (no network trip)

    def sync(self, cursor: Any, layer: str, version: int | None) -> None:
        """Apply the layer's changes up to ``version`` (its current data version)."""
        if version is None:
            return
        known = self.known(layer)
        if known == version:
            return
        if known is None or version < known:
            self.drop_layer(layer)  # first sight, or a database restored under the cache
        else:
            changes = changes_since(cursor, layer, known, version)
            if any(c.box is None for c in changes):
                self.drop_layer(layer)
            else:
                self.drop_touching(layer, [c.box for c in changes if c.box is not None])
        self.set_known(layer, version)

    def _hit(self, key: Key, box: list[Box]) -> bool:
        bounds = tile_bounds(key[1], key[2], key[3], self.margin)
        return any(touches(bounds, b) for b in box)

    def known(self, layer: str) -> int | None:
        """The last layer version applied."""
        raise NotImplementedError

    def set_known(self, layer: str, version: int) -> None:
        """Record the last layer version applied."""
        raise NotImplementedError

    def get(self, key: Key) -> RenderedTile | None:
        """The cached tile, or None."""
        raise NotImplementedError

    def put(self, key: Key, tile: RenderedTile, version: int) -> None:
        """Keep a tile rendered at layer ``version`` (refused when the layer moved on since)."""
        raise NotImplementedError

    def drop_layer(self, layer: str) -> None:
        """Drop every tile of ``layer``."""
        raise NotImplementedError

    def drop_touching(self, layer: str, boxes: list[Box]) -> int:
        """Drop the tiles of ``layer`` that meet one of ``boxes``; how many went."""
        raise NotImplementedError

    def __contains__(self, key: Key) -> bool:
        return self.get(key) is not None


class MemoryTileCache(TileCache):
    """Encoded tiles in this process's memory, bounded in bytes, least recently used out."""

    local = True

    def __init__(self, max_bytes: int = 64 * 2**20, margin: float = 0.0):
        self.max_bytes = max_bytes
        self.margin = margin
        self._tiles: OrderedDict[Key, RenderedTile] = OrderedDict()
        self._by_layer: dict[str, set[Key]] = {}
        self._known: dict[str, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def known(self, layer: str) -> int | None:
        """The last layer version applied."""
        return self._known.get(layer)

    def set_known(self, layer: str, version: int) -> None:
        """Record the last layer version applied."""
        with self._lock:
            self._known[layer] = version

    def get(self, key: Key) -> RenderedTile | None:
        """The cached tile, or None."""
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: Key, tile: RenderedTile, version: int) -> None:
        """Keep ``tile``, evicting the least recently used ones beyond the byte budget."""
        if self.max_bytes <= 0:
            return
        with self._lock:
            if key in self._tiles or self._known.get(key[0]) != version:
                return
            self._tiles[key] = tile
            self._by_layer.setdefault(key[0], set()).add(key)
            self._bytes += len(tile.data)
            while self._bytes > self.max_bytes and self._tiles:
                self._remove(next(iter(self._tiles)))

    def _remove(self, key: Key) -> None:
        old = self._tiles.pop(key)
        self._by_layer[key[0]].discard(key)
        self._bytes -= len(old.data)

    def drop_layer(self, layer: str) -> None:
        """Drop every tile of ``layer``."""
        with self._lock:
            for key in list(self._by_layer.get(layer, ())):
                self._remove(key)

    def drop_touching(self, layer: str, boxes: list[Box]) -> int:
        """Drop the tiles of ``layer`` that meet one of ``boxes``; how many went."""
        with self._lock:
            doomed = [key for key in self._by_layer.get(layer, ()) if self._hit(key, boxes)]
            for key in doomed:
                self._remove(key)
            return len(doomed)


class RedisTileCache(TileCache):
    """Encoded tiles in Redis, shared by every worker; keys are scoped to one database.

    Each layer keeps a set of its cached addresses, so a change examines that layer's tiles only.
    """

    def __init__(self, url: str, scope: str, margin: float = 0.0, ttl_s: int = 86_400):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = "ioc:tiles:" + hashlib.blake2b(scope.encode(), digest_size=6).hexdigest()
        self.margin = margin
        self.ttl_s = ttl_s

    def _tile_key(self, key: Key) -> str:
        return f"{self.prefix}:t:{key[0]}:{key[1]}:{key[2]}:{key[3]}"

    def known(self, layer: str) -> int | None:
        """The last layer version applied."""
        value = self.redis.get(f"{self.prefix}:v:{layer}")
        return int(value) if value is not None else None

    def set_known(self, layer: str, version: int) -> None:
        """Record the last layer version applied."""
        self.redis.set(f"{self.prefix}:v:{layer}", version)

    def get(self, key: Key) -> RenderedTile | None:
        """The cached tile, or None."""
        value = self.redis.get(self._tile_key(key))
        if value is None:
            return None
        return RenderedTile(value[1:], capped=bool(value[0] & 1), clustered=bool(value[0] & 2))

    def put(self, key: Key, tile: RenderedTile, version: int) -> None:
        """Keep ``tile`` for a day, unless the layer moved on since it was rendered."""
        if self.known(key[0]) != version:
            return
        flags = bytes([int(tile.capped) | int(tile.clustered) << 1])
        with self.redis.pipeline() as pipe:
            pipe.set(self._tile_key(key), flags + tile.data, ex=self.ttl_s)
            pipe.sadd(f"{self.prefix}:i:{key[0]}", f"{key[1]}/{key[2]}/{key[3]}")
            pipe.execute()

    def _members(self, layer: str) -> list[Key]:
        members = self.redis.smembers(f"{self.prefix}:i:{layer}")
        return [(layer, *map(int, m.decode().split("/"))) for m in members]  # type: ignore[misc]

    def _delete(self, layer: str, keys: list[Key]) -> None:
        if keys:
            with self.redis.pipeline() as pipe:
                pipe.delete(*(self._tile_key(k) for k in keys))
                pipe.srem(f"{self.prefix}:i:{layer}", *(f"{k[1]}/{k[2]}/{k[3]}" for k in keys))
                pipe.execute()

    def drop_layer(self, layer: str) -> None:
        """Drop every tile of ``layer``."""
        self._delete(layer, self._members(layer))

    def drop_touching(self, layer: str, boxes: list[Box]) -> int:
        """Drop the tiles of ``layer`` that meet one of ``boxes``; how many went."""
        doomed = [key for key in self._members(layer) if self._hit(key, boxes)]
        self._delete(layer, doomed)
        return len(doomed)
