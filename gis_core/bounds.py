"""Bounds on what one request may hold: lists with a ceiling and no repeated values.

A list in a request body is never longer than what it can usefully name (every indicator, every
commune) and never names a value twice: a repeat adds no meaning, only work.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field

T = TypeVar("T", bound=Hashable)


def duplicates(values: Sequence[Hashable]) -> list[Any]:
    """The values that occur more than once, each named once, in order of first repeat."""
    seen: set[Hashable] = set()
    repeated: dict[Hashable, None] = {}
    for value in values:
        if value in seen:
            repeated[value] = None
        seen.add(value)
    return list(repeated)


def _unique(values: list[T] | None) -> list[T] | None:
    repeated = duplicates(values or [])
    if repeated:
        raise ValueError(f"each value at most once; repeated: {', '.join(map(str, repeated[:10]))}")
    return values


def unique_list(item: Any, max_length: int, min_length: int = 0) -> Any:
    """``list[item]`` of at most ``max_length`` distinct values, as a pydantic annotation."""
    return Annotated[list[item], Field(min_length=min_length, max_length=max_length),  # type: ignore[valid-type]
                     AfterValidator(_unique)]
