"""Text from outside (headers, names, query values): control characters found and removed.

PostgreSQL text cannot hold NUL, and no header, name or reason needs any control character.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (NUL, line breaks, escapes, C1 controls)."""
    return _CONTROL.search(text) is not None


def printable(text: str) -> str:
    """``text`` in NFC without control characters, trimmed."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()


def without_nul(value: object) -> object:
    """``value`` (text, or lists and mappings of it) with NUL characters removed, for storage."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value

