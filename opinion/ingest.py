"""One run over the sources: fetch, read, check, keep each item once, classify, place.

Each source is its own transaction, serialised with other runs by an advisory lock so two runs
never keep the same near-copy twice; exact copies (same url, same folded words) are refused by
the unique keys. What is not kept for a reason other than being a copy is recorded in
``opinion_skips``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from opinion import dedup, feeds, learning, places
from opinion.sources import RawItem, Source, iter_connector
from opinion.text import is_vietnamese, nfc, text_key

MAX_TEXT = 5000
MIN_WORDS = 4
FUTURE = timedelta(hours=1)  # clocks differ; an item dated later than this is refused
LOCK = 190017


@dataclass
class Report:
    """What a run did, per source."""

    kept: dict[str, int] = field(default_factory=dict)
    copies: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str, str, str]] = field(default_factory=list)  # source, ref, reason, detail

    def as_dict(self) -> dict:
        """The report as JSON."""
        return {"kept": self.kept, "copies": self.copies,
                "skipped": [dict(zip(("source", "ref", "reason", "detail"), s, strict=True))
                            for s in self.skipped]}


def _raw(source: Source, client: httpx.Client) -> list[RawItem]:
    if source.kind == "connector":
        return list(iter_connector(source, None))
    body = feeds.fetch(source.url or "", client)
    return feeds.parse_feed(body) if source.kind == "feed" else feeds.parse_export(body)


def _check(item: RawItem, now: datetime) -> tuple[str, str] | None:
    """(reason, detail) when ``item`` is not to be kept."""
    words = item.text.split()
    if len(words) < MIN_WORDS:
        return "empty", "bài quá ngắn / too short"
    if len(item.text) > MAX_TEXT:
        return "too_long", f"quá {MAX_TEXT} ký tự / over {MAX_TEXT} characters"
    if item.published_at is None:
        return "no_date", "không có thời điểm đăng / no publication time"
    if item.published_at > now + FUTURE:
        return "future_date", f"thời điểm trong tương lai / dated in the future: {item.published_at}"
    if not is_vietnamese(item.text):
        return "language", "không phải tiếng Việt / not Vietnamese"
    return None


def _is_copy(conn: Connection, item: RawItem, key: str, sig: list[int], bands: list[int]) -> bool:
    if item.url and conn.execute(text("SELECT 1 FROM opinion_items WHERE url = :u"),
                                 {"u": item.url}).first():
        return True
    rows = conn.execute(text("SELECT signature FROM opinion_items WHERE text_key = :k "
                             "OR bands && CAST(:b AS bigint[])"), {"k": key, "b": bands}).all()
    return any(dedup.resemblance(sig, list(r[0])) >= dedup.NEAR for r in rows)


def _skip(conn: Connection, report: Report, source: str, ref: str, reason: str, detail: str
          ) -> None:
    report.skipped.append((source, ref, reason, detail))
    conn.execute(text("INSERT INTO opinion_skips (source, ref, reason, detail) "
                      "VALUES (:s, :r, :reason, :d)"),
                 {"s": source, "r": ref[:500], "reason": reason, "d": detail[:1000]})


def store(conn: Connection, source: Source, items: Iterable[RawItem], report: Report,
          gazetteer: places.Gazetteer, now: datetime) -> None:
    """Keep the new items of ``source`` (inside the caller's transaction)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    fresh: list[tuple[RawItem, str, list[int], list[int]]] = []
    for raw in items:
        item = RawItem(raw.ref, nfc(raw.text), raw.url, raw.author and nfc(raw.author),
                       raw.published_at)
        problem = _check(item, now)
        if problem:
            _skip(conn, report, source.id, item.url or item.ref, *problem)
            continue
        key, sig = text_key(item.text), dedup.signature(item.text)
        bands = dedup.bands(sig)
        if _is_copy(conn, item, key, sig, bands) or any(
                dedup.resemblance(sig, s) >= dedup.NEAR for _, _, s, _ in fresh):
            report.copies[source.id] = report.copies.get(source.id, 0) + 1
            continue
        fresh.append((item, key, sig, bands))
    version, labels = learning.classify(conn, [f[0].text for f in fresh])
    kept = 0
    for (item, key, sig, bands), label in zip(fresh, labels, strict=True):
        place = gazetteer.place(item.text)
        # A village's own position when a village placed it, else a point inside the commune.
        row = conn.execute(text(
            "INSERT INTO opinion_items (source, url, text_key, signature, bands, body, author, "
            "published_at, sector, tone, urgent, commune_code, geom, model_version) "
            "SELECT :source, :url, :key, :sig, :bands, :body, :author, :at, :sector, :tone, "
            ":urgent, :commune, coalesce(ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), "
            "CAST(:lat AS float8)), 4326), "
            "(SELECT ST_PointOnSurface(geom) FROM communes WHERE code = :commune)), :version "
            "ON CONFLICT DO NOTHING RETURNING id"),
            {"source": source.id, "url": item.url, "key": key, "sig": sig, "bands": bands,
             "body": item.text, "author": item.author, "at": item.published_at,
             "sector": label.sector, "tone": label.tone, "urgent": label.urgent,
             "commune": place.code if place else None, "version": version,
             "lon": place.lon if place else None, "lat": place.lat if place else None}).first()
        if row is None:
            report.copies[source.id] = report.copies.get(source.id, 0) + 1
        else:
            kept += 1
    report.kept[source.id] = kept


def run(engine: Engine, sources: Iterable[Source], client: httpx.Client | None = None,
        now: datetime | None = None) -> Report:
    """Fetch every source and keep what is new; a source that fails is recorded and skipped."""
    now = now or datetime.now(UTC)
    report = Report()
    with engine.connect() as conn:
        gazetteer = places.load(conn)
    own = client is None
    client = client or httpx.Client(headers={"User-Agent": "ioc-laichau-opinion/1"})
    try:
        for source in sources:
            try:
                items = _raw(source, client)
            except feeds.Unreadable as err:
                with engine.begin() as conn:
                    _skip(conn, report, source.id, source.url or "", err.reason, err.detail)
                continue
            except LookupError as err:
                with engine.begin() as conn:
                    _skip(conn, report, source.id, "", "no_connector", str(err))
                continue
            with engine.begin() as conn:
                store(conn, source, items, report, gazetteer, now)
    finally:
        if own:
            client.close()
    return report
