"""Near-identical texts: MinHash over three-word shingles of the folded text, banded so the
database finds the candidates through an index (``opinion_items.bands``, GIN)."""

from __future__ import annotations

import hashlib
import random

from opinion.text import text_key

HASHES, BANDS = 64, 16  # 16 bands of 4: pairs above ~0.6 resemblance share a band almost surely
# Estimated Jaccard resemblance from which two texts are one item: a post shared again with a
# few words added (~0.9); two posts composed alike about different places stay apart (~0.7).
NEAR = 0.85
_PRIME = (1 << 61) - 1
_rng = random.Random(19)  # fixed: signatures are stored and compared across runs
_PERMS = [(_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(HASHES)]


def _h(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big") >> 3


def signature(text: str) -> list[int]:
    """The MinHash signature of ``text`` (63-bit values, to fit bigint)."""
    words = text_key(text).split()
    shingles = {" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))}
    hashed = [_h(s) for s in shingles]
    return [min((a * x + b) % _PRIME for x in hashed) for a, b in _PERMS]


def bands(sig: list[int]) -> list[int]:
    """One key per band of the signature."""
    rows = HASHES // BANDS
    return [_h(f"{b}:" + ",".join(map(str, sig[b * rows:(b + 1) * rows]))) for b in range(BANDS)]


def resemblance(a: list[int], b: list[int]) -> float:
    """The estimated Jaccard resemblance of two signatures."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / HASHES
