"""The operators' corrections as training data, and the versioned models trained on them.

- A **correction** changes an item's sector, tone, urgency or commune. The item's row is locked
  while it is corrected and the correction names the last correction its author saw
  (``based_on``): of two operators correcting the same item at once, the second is told the
  item changed meanwhile (409) and nothing of theirs is written. The correction is kept with who
  and when and what it replaced (audited ``opinion.corrected``); the latest one of an item is its
  label.
- **Retraining** fits a candidate on the training part of the shipped set plus the corrections
  (every fifth correction, by id, is held out with the shipped held-out fifth), scores it and the
  active model on the same held-out part, and activates the candidate only when no task's macro
  F1 is lower. Every candidate is kept with its figures and the decision; once one is active,
  the items fetched in the last ``RECENT_DAYS`` days that nobody corrected are classified again.
"""

from __future__ import annotations

import json
import pickle
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from gis_core.errors import ConflictError, InvalidParameterError
from governance import audit
from governance.access import Principal
from opinion import watch
from opinion.classify import SECTORS, TASKS, TONES, Label, Model, measure, split
from opinion.corpus import Post, read_labelled

RECENT_DAYS = 30
HELD_OUT_EVERY = 5  # corrections whose id is a multiple of this are held out
LOCK = 190025  # one retraining at a time
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Correction:
    """New labels of an item; ``None`` keeps a label as it is (``commune_code`` is changed only
    when ``place`` is set: then ``None`` means "names no commune")."""

    sector: str | None = None
    tone: str | None = None
    urgent: bool | None = None
    commune_code: str | None = None
    place: bool = False


def _check(conn: Connection, change: Correction) -> None:
    if change.sector is not None and change.sector not in SECTORS:
        raise InvalidParameterError(
            f"Lĩnh vực '{change.sector}' không có; chọn một trong: {', '.join(SECTORS)}.",
            message_en=f"No sector '{change.sector}'; pick one of: {', '.join(SECTORS)}.",
            parameter="sector")
    if change.tone is not None and change.tone not in TONES:
        raise InvalidParameterError(
            f"Sắc thái '{change.tone}' không có; chọn một trong: {', '.join(TONES)}.",
            message_en=f"No tone '{change.tone}'; pick one of: {', '.join(TONES)}.",
            parameter="tone")
    if change.place and change.commune_code is not None and conn.execute(
            text("SELECT 1 FROM communes WHERE code = :c"), {"c": change.commune_code}
    ).first() is None:
        raise InvalidParameterError(
            f"Không có xã mã '{change.commune_code}'.",
            message_en=f"There is no commune with code '{change.commune_code}'.",
            parameter="commune_code")


def correct(conn: Connection, principal: Principal, item_id: int, change: Correction,
            based_on: int | None) -> dict[str, Any]:
    """Correct an item's labels (inside the caller's transaction); the item as it now is.

    ``based_on`` is the id of the item's latest correction when its author read it (None when
    it had none); another correction since then is a conflict (409).
    """
    _check(conn, change)
    found = watch.item(conn, item_id, lock=True)  # a concurrent correction waits here
    if found["correction_id"] != based_on:
        who = conn.execute(text("SELECT corrected_by, corrected_at FROM opinion_corrections "
                                "WHERE id = :id"), {"id": found["correction_id"]}).first()
        by = f" ({who[0]}, {who[1]:%H:%M:%S %d/%m/%Y})" if who else ""
        raise ConflictError(
            f"Mục #{item_id} vừa được sửa{by} sau khi bạn mở; tải lại để xem nhãn mới rồi sửa "
            "lại nếu cần.",
            message_en=f"Item #{item_id} was corrected{by} after you opened it; reload to see "
            "its new labels, then correct it again if needed.")
    previous = {k: found[k] for k in ("sector", "tone", "urgent", "commune_code")}
    new = {"sector": change.sector or found["sector"], "tone": change.tone or found["tone"],
           "urgent": found["urgent"] if change.urgent is None else change.urgent,
           "commune_code": change.commune_code if change.place else found["commune_code"]}
    correction_id = conn.execute(text(
        "INSERT INTO opinion_corrections (item_id, body, sector, tone, urgent, commune_code, "
        "previous, corrected_by) VALUES (:item, :body, :sector, :tone, :urgent, :commune, "
        "CAST(:previous AS jsonb), :by) RETURNING id"),
        {"item": item_id, "body": found["body"], **new, "commune": new["commune_code"],
         "previous": json.dumps(previous), "by": principal.username or principal.label}
    ).scalar_one()
    conn.execute(text(
        "UPDATE opinion_items SET sector = :sector, tone = :tone, urgent = :urgent, "
        "commune_code = :commune, geom = CASE WHEN :moved THEN (SELECT ST_PointOnSurface(geom) "
        "FROM communes WHERE code = :commune) ELSE geom END WHERE id = :id"),
        {**new, "commune": new["commune_code"], "id": item_id,
         "moved": new["commune_code"] != found["commune_code"]})
    audit.record(conn, "opinion.corrected", actor=principal, target=f"opinion_item:{item_id}",
                 details={"correction": correction_id, "from": previous, "to": new})
    return watch.item(conn, item_id)


def corrections(conn: Connection) -> list[tuple[int, Post]]:
    """(correction id, labelled post) of the latest correction of each item, oldest first."""
    rows = conn.execute(text(
        "SELECT DISTINCT ON (coalesce(item_id, -id)) id, body, sector, tone, urgent, "
        "commune_code FROM opinion_corrections ORDER BY coalesce(item_id, -id), id DESC")).all()
    return sorted((r[0], Post(r[1], r[2], r[3], r[4], r[5] or "", f"correction/{r[0]}"))
                  for r in rows)


def parts(shipped: list[Post], corrected: list[tuple[int, Post]]
          ) -> tuple[list[Post], list[Post]]:
    """(training, held-out): the shipped set's fixed split, plus the corrections, every
    ``HELD_OUT_EVERY``-th (by id) held out."""
    train, test = split(shipped)
    train += [p for i, p in corrected if i % HELD_OUT_EVERY]
    test += [p for i, p in corrected if not i % HELD_OUT_EVERY]
    return train, test


def not_worse(candidate: dict[str, Any], baseline: dict[str, Any]) -> bool:
    """Whether no task's F1 of ``candidate`` is below ``baseline``'s."""
    return all(candidate[t]["f1"] >= baseline[t]["f1"] - TOLERANCE for t in TASKS)


_cache: dict[int, Model] = {}
_cache_lock = threading.Lock()


def _load(conn: Connection, version: int) -> Model:
    with _cache_lock:
        if version not in _cache:
            blob = conn.execute(text("SELECT model FROM opinion_models WHERE id = :id"),
                                {"id": version}).scalar_one()
            _cache.clear()  # one version in memory
            # Our own pickles, written by retrain() into our own database.
            _cache[version] = pickle.loads(blob)  # noqa: S301
        return _cache[version]


def active(conn: Connection) -> tuple[int | None, Model]:
    """(version, model) of the active model; (None, the shipped model) before any retraining."""
    from opinion.classify import model

    version = conn.execute(text("SELECT id FROM opinion_models WHERE active")).scalar()
    return (None, model()) if version is None else (version, _load(conn, version))


def classify(conn: Connection, texts: list[str]) -> tuple[int | None, list[Label]]:
    """The labels of ``texts`` by the active model, and its version."""
    version, found = active(conn)
    return version, found.predict(texts)


def reclassify(conn: Connection, version: int | None, found: Model,
               days: int = RECENT_DAYS) -> int:
    """Classify again the items fetched in the last ``days`` days that nobody corrected; how
    many changed."""
    rows = conn.execute(text(
        "SELECT id, body, sector, tone, urgent FROM opinion_items i "
        "WHERE fetched_at >= now() - CAST(:days AS interval) AND NOT EXISTS "
        "(SELECT 1 FROM opinion_corrections c WHERE c.item_id = i.id) ORDER BY id FOR UPDATE"),
        {"days": timedelta(days=days)}).all()
    labels = found.predict([r[1] for r in rows])
    changed = [(r[0], lab) for r, lab in zip(rows, labels, strict=True)
               if (r[2], r[3], r[4]) != (lab.sector, lab.tone, lab.urgent)]
    conn.execute(text(
        "UPDATE opinion_items i SET model_version = :v WHERE fetched_at >= now() - "
        "CAST(:days AS interval) AND NOT EXISTS (SELECT 1 FROM opinion_corrections c "
        "WHERE c.item_id = i.id)"), {"v": version, "days": timedelta(days=days)})
    if changed:
        conn.execute(text(
            "UPDATE opinion_items i SET sector = n.sector, tone = n.tone, urgent = n.urgent "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:sectors AS text[]), "
            "CAST(:tones AS text[]), CAST(:urgent AS boolean[])) AS n(id, sector, tone, urgent) "
            "WHERE i.id = n.id"),
            {"ids": [c[0] for c in changed], "sectors": [c[1].sector for c in changed],
             "tones": [c[1].tone for c in changed], "urgent": [c[1].urgent for c in changed]})
    return len(changed)


def retrain(engine: Engine, actor: str, days: int = RECENT_DAYS) -> dict[str, Any]:
    """Train on the shipped set plus the corrections, keep the version with its figures, and
    activate it (then classify the recent items again) only when it is not worse than the
    active model on the same held-out part; what was done."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
        corrected = corrections(conn)
        train, test = parts(read_labelled(), corrected)
        candidate = Model(train)
        metrics = measure(candidate, test)
        was, current = active(conn)
        baseline = measure(current, test)
        better = not_worse(metrics, baseline)
        trained_on = {"shipped": len(read_labelled()), "corrections": len(corrected),
                      "train": len(train), "held_out": len(test)}
        version = conn.execute(text(
            "INSERT INTO opinion_models (created_by, trained_on, metrics, baseline, decision, "
            "model) VALUES (:by, CAST(:on AS jsonb), CAST(:m AS jsonb), CAST(:b AS jsonb), "
            ":d, :model) RETURNING id"),
            {"by": actor, "on": json.dumps(trained_on), "m": json.dumps(metrics),
             "b": json.dumps({**baseline, "version": was}),
             "d": "activated" if better else "kept_worse",
             "model": pickle.dumps(candidate)}).scalar_one()
        changed = 0
        if better:
            conn.execute(text("UPDATE opinion_models SET active = false WHERE active"))
            conn.execute(text("UPDATE opinion_models SET active = true WHERE id = :id"),
                         {"id": version})
            changed = reclassify(conn, version, candidate, days)
        audit.record(conn, "opinion.retrained", actor=actor, target=f"opinion_model:{version}",
                     details={"activated": better, "previous": was, "reclassified": changed})
    return {"version": version, "activated": better, "previous": was, "trained_on": trained_on,
            "metrics": metrics, "baseline": baseline, "reclassified": changed}


def versions(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """The trained versions, newest first, with their figures (not the models)."""
    rows = conn.execute(text(
        "SELECT id, created_at, created_by, trained_on, metrics, baseline, active, decision "
        "FROM opinion_models ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings()
    return [dict(r) for r in rows]
