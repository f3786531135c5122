"""Sources as declarations: RSS/Atom feeds, JSON exports of social pages and groups, and
platform connectors a deployment configures with its own credentials.

A deployment lists its sources in ``var/opinion_sources.json`` (a list of the fields of
``Source``); the declarations below are the province's defaults.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from gis_core.errors import InvalidParameterError

Kind = Literal["feed", "export", "connector"]


@dataclass(frozen=True)
class Source:
    """One place posts come from. ``url`` is fetched (feed, export); ``connector`` names a
    registered platform connector, which reads its credentials from ``credentials_env``."""

    id: str
    kind: Kind
    name: str
    url: str | None = None
    connector: str | None = None
    credentials_env: str | None = None


@dataclass(frozen=True)
class RawItem:
    """One post as a source gives it, before any check."""

    ref: str
    text: str
    url: str | None
    author: str | None
    published_at: datetime | None


class Connector(Protocol):
    """A platform's API: what a deployment plugs in for a source of kind ``connector``."""

    def fetch(self, source: Source, since: datetime | None) -> Iterable[RawItem]:
        """The posts published since ``since`` (all it has when None)."""
        ...


CONNECTORS: dict[str, Connector] = {}


def register(name: str, connector: Connector) -> None:
    """Make ``connector`` available to sources of kind ``connector`` naming ``name``."""
    CONNECTORS[name] = connector


DEFAULTS: tuple[Source, ...] = (
    Source("bao_lai_chau", "feed", "Báo Lai Châu", "https://baolaichau.vn/rss/tin-moi.rss"),
    Source("cong_tt_lai_chau", "feed", "Cổng thông tin điện tử tỉnh Lai Châu",
           "https://laichau.gov.vn/rss/tin-tuc.rss"),
)


def load(path: Path) -> tuple[Source, ...]:
    """The sources declared in ``path`` (JSON list), or the defaults when there is no file."""
    if not path.exists():
        return DEFAULTS
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return tuple(_checked(Source(**row)) for row in rows)
    except (ValueError, TypeError) as err:
        raise InvalidParameterError(f"Tệp nguồn {path.name} không hợp lệ: {err}.",
                                    message_en=f"The sources file {path.name} is invalid: {err}."
                                    ) from None


def _checked(source: Source) -> Source:
    if source.kind not in ("feed", "export", "connector"):
        raise ValueError(f"{source.id}: kind must be feed, export or connector")
    if source.kind == "connector" and not source.connector:
        raise ValueError(f"{source.id}: a connector source names its connector")
    if source.kind != "connector" and not source.url:
        raise ValueError(f"{source.id}: a {source.kind} source has a url")
    return source


def iter_connector(source: Source, since: datetime | None) -> Iterator[RawItem]:
    """The posts of a connector source."""
    connector = CONNECTORS.get(source.connector or "")
    if connector is None:
        raise LookupError(f"no connector '{source.connector}' registered")
    yield from connector.fetch(source, since)
