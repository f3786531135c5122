"""Text crossing the server's edge: control characters found and removed on the way in,
server paths cut from messages on the way out.

PostgreSQL text cannot hold NUL, no header, name or reason needs any control character, and no
client needs to know where the server keeps its files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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


def without_paths(text: str, roots: Iterable[str]) -> str:
    """``text`` with every path under one of ``roots`` cut to its last part (a file's own name)."""
    for root in sorted({r.rstrip("/") for r in roots if r.strip("/")}, key=len, reverse=True):
        text = re.sub(re.escape(root) + r"(?:/[^\s'\"/:;,()\[\]<>]*)*",
                      lambda m: m.group(0).rsplit("/", 1)[-1], text)
    return text
