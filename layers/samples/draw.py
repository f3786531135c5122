"""Random draws and whole-number shares, the same for the same seed."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.random import PCG64, Generator

from layers.samples.reference import REFERENCE_TIME


def stream_rng(seed: int, stream: str) -> Generator:
    """An independent generator per stream, so layers do not disturb each other."""
    return Generator(PCG64([seed, zlib.crc32(stream.encode())]))


def scaled(count: float, scale: float, minimum: int = 0) -> int:
    """``count`` times ``scale``, rounded, at least ``minimum``."""
    return max(minimum, int(round(count * scale)))


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total``."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=int)
    exact = weights / weights.sum() * total
    base = np.floor(exact).astype(int)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(len(exact)), -(exact - base)))
    base[order[:rest]] += 1
    return base


def pick(rng: Generator, options: Sequence[Any], probs: Sequence[float], size: int) -> list[Any]:
    """``size`` draws from ``options`` with probabilities ``probs`` (normalised)."""
    cumulative = np.cumsum(probs, dtype=float)
    idx = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return [options[min(i, len(options) - 1)] for i in idx.tolist()]


def vintage(rng: Generator, n: int, start: datetime) -> tuple[list[datetime], list[datetime]]:
    """created_at/updated_at between ``start`` and REFERENCE_TIME, a third of rows edited."""
    span = (REFERENCE_TIME - start).total_seconds() / 60
    created = [start + timedelta(minutes=int(m)) for m in rng.uniform(0, span * 0.4, n)]
    edited = rng.random(n) < 0.35
    later = rng.uniform(0, 1, n)
    updated = [
        c + timedelta(minutes=int(f * (REFERENCE_TIME - c).total_seconds() / 60)) if e else c
        for c, e, f in zip(created, edited, later, strict=True)
    ]
    return created, updated


def fit_share(weights: np.ndarray, households: np.ndarray, share: float, cap: float) -> np.ndarray:
    """Per-commune rates proportional to ``weights`` (capped) averaging ``share`` overall."""
    lo, hi = 0.0, 10.0 / max(weights.min(), 1e-9)
    target = share * households.sum()
    for _ in range(80):
        mid = (lo + hi) / 2
        if (np.minimum(cap, mid * weights) * households).sum() < target:
            lo = mid
        else:
            hi = mid
    return np.minimum(cap, hi * weights)
