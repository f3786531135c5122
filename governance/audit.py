"""The audit log: append-only, hash-chained entries of logins, account changes, writes and reads
of personal data.

Each entry's hash covers its own content and its predecessor's hash, and ``seq`` has no gaps, so
an entry altered or removed (after disabling the table's append-only trigger) breaks the chain
at that point and ``verify`` names it.

A chain alone does not stop someone with database access from rewriting it consistently
(remove an entry, renumber and re-hash the rest). So the head is **anchored**: ``publish_anchor``
appends ``{seq, hash, at, mac}`` to a file outside the database, the ``mac`` an HMAC-SHA256 with
a key kept beside it (``var/audit.key``, never in the database), and logs it. ``verify`` checks
the chain against every anchor: an anchored entry that is gone or has another hash means the
chain was rewritten, whatever its own hashes say. Entries newer than the last anchor are
protected from the next one on (the server publishes one every few minutes).

``record`` chains at once: it takes the chain's lock, which its transaction holds until commit, so
concurrent writers take turns. Citizen intake, which anyone may drive at hundreds of reports a
second, uses ``record_pending`` instead: the entry is committed with the work into
``audit_pending`` without the lock, and ``chain`` (the sequencer step, ``governance.sequencer``)
moves every committed pending entry into the chain in id order, many per lock. Until then a
pending entry is protected by the append-only trigger of its table, not yet by the chain;
``verify`` and ``publish_anchor`` are preceded by a sequencer step, so they cover it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from gis_core.db import translate_db_errors
from gis_core.text import without_nul
from governance.access import Principal

LOG = logging.getLogger("ioc.audit")
GENESIS = "0" * 64
# Appends are serialised so each entry sees its predecessor.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('ioc_audit_log'))"


def _digest(prev_hash: str, seq: int, at: datetime, actor: str | None, action: str,
            target: str | None, outcome: str, client_ip: str | None, reason: str | None,
            details: Any) -> str:
    body = json.dumps(
        [seq, at.astimezone(UTC).isoformat(), actor, action, target, outcome, client_ip, reason,
         details], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _plain(details: dict[str, Any] | None) -> Any:
    # Round-trip through JSON so the hashed value is exactly what JSONB gives back.
    return json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))


def _text(value: str | None) -> str | None:
    return None if value is None else value.replace("\x00", "")


def record(conn: Connection, action: str, *, actor: Principal | str | None = None,
           target: str | None = None, outcome: str = "ok", details: dict[str, Any] | None = None,
           client_ip: str | None = None, reason: str | None = None) -> int:
    """Append one entry inside the caller's transaction; returns its sequence number."""
    if isinstance(actor, Principal):
        client_ip = client_ip or actor.client_ip
        reason = reason or actor.reason
        actor = actor.username
    # Whatever a client sent (names, reasons, queries) is kept without NUL, which PostgreSQL
    # refuses: an entry must never fail to be written because of the text it records.
    details = without_nul(_plain(details))
    actor, target, client_ip, reason = (_text(actor), _text(target), _text(client_ip),
                                        _text(reason))
    with translate_db_errors():
        conn.execute(text(_LOCK))
        last = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = datetime.now(UTC)
        digest = _digest(prev, seq, at, actor, action, target, outcome, client_ip, reason, details)
        conn.execute(text(
            "INSERT INTO audit_log (seq, at, actor, action, target, outcome, client_ip, reason, "
            "details, prev_hash, hash) VALUES (:seq, :at, :actor, :action, :target, :outcome, "
            ":ip, :reason, CAST(:details AS jsonb), :prev, :hash)"),
            {"seq": seq, "at": at, "actor": actor, "action": action, "target": target,
             "outcome": outcome, "ip": client_ip, "reason": reason,
             "details": json.dumps(details, ensure_ascii=False), "prev": prev, "hash": digest})
    return seq


def record_pending(conn: Connection, action: str, *, actor: str | None = None,
                   target: str | None = None, outcome: str = "ok",
                   details: dict[str, Any] | None = None, client_ip: str | None = None,
                   reason: str | None = None) -> int:
    """Append one entry inside the caller's transaction without the chain's lock; ``chain``
    gives it its place in the chain later. Returns its pending id."""
    details = without_nul(_plain(details))
    return int(conn.execute(text(
        "INSERT INTO audit_pending (at, actor, action, target, outcome, client_ip, reason, "
        "details) VALUES (:at, :actor, :action, :target, :outcome, :ip, :reason, "
        "CAST(:details AS jsonb)) RETURNING id"),
        {"at": datetime.now(UTC), "actor": _text(actor), "action": action,
         "target": _text(target), "outcome": outcome, "ip": _text(client_ip),
         "reason": _text(reason), "details": json.dumps(details, ensure_ascii=False)}).scalar_one())


_PENDING = "at, actor, action, target, outcome, client_ip, reason, details"


def chain(conn: Connection, limit: int = 10_000) -> int:
    """Move up to ``limit`` committed pending entries into the chain, oldest id first, under the
    chain's lock (held to the caller's commit); returns how many. An entry is taken out of
    ``audit_pending`` and put into ``audit_log`` in the same transaction: none is lost or
    chained twice, whoever else is chaining."""
    with translate_db_errors():
        conn.execute(text(_LOCK))
        rows = conn.execute(text(
            f"DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending "  # noqa: S608
            f"ORDER BY id LIMIT :limit) RETURNING id, {_PENDING}"), {"limit": limit}).all()
        if not rows:
            return 0
        last = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
        seq, prev = (last[0], last[1]) if last else (0, GENESIS)
        values = []
        for _, at, actor, action, target, outcome, client_ip, reason, details in sorted(rows):
            seq += 1
            digest = _digest(prev, seq, at, actor, action, target, outcome, client_ip, reason,
                             details)
            values.append({"seq": seq, "at": at, "actor": actor, "action": action,
                           "target": target, "outcome": outcome, "ip": client_ip,
                           "reason": reason, "details": json.dumps(details, ensure_ascii=False),
                           "prev": prev, "hash": digest})
            prev = digest
        conn.execute(text(
            "INSERT INTO audit_log (seq, at, actor, action, target, outcome, client_ip, reason, "
            "details, prev_hash, hash) VALUES (:seq, :at, :actor, :action, :target, :outcome, "
            ":ip, :reason, CAST(:details AS jsonb), :prev, :hash)"), values)
    return len(values)


def pending(conn: Connection) -> int:
    """How many entries wait to be chained."""
    return int(conn.execute(text("SELECT count(*) FROM audit_pending")).scalar_one())


def record_now(engine: Engine, action: str, **kwargs: Any) -> int:
    """Append one entry in a transaction of its own (refusals: the refused work rolls back)."""
    with engine.begin() as conn:
        return record(conn, action, **kwargs)


@dataclass(frozen=True)
class Entry:
    """One audit entry as read back."""

    seq: int
    at: datetime
    actor: str | None
    action: str
    target: str | None
    outcome: str
    client_ip: str | None
    reason: str | None
    details: Any
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**vars(self), "at": self.at.astimezone(UTC).isoformat()}


_COLUMNS = "seq, at, actor, action, target, outcome, client_ip, reason, details, prev_hash, hash"


def entries(conn: Connection, *, actor: str | None = None, action: str | None = None,
            since_seq: int = 0, limit: int = 100, target: str | None = None,
            outcome: str | None = None, after: datetime | None = None,
            before: datetime | None = None) -> list[Entry]:
    """The newest entries, newest first: by actor, action (``x.*`` for a prefix), a part of the
    target, outcome, and time (``after`` inclusive, ``before`` exclusive)."""
    prefix = action[:-1] if action and action.endswith(".*") else None
    like = None if target is None else "%" + target.replace("\\", "\\\\").replace(
        "%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(text(
        f"SELECT {_COLUMNS} FROM audit_log WHERE seq > :since "  # noqa: S608 - constant columns
        "AND (CAST(:actor AS text) IS NULL OR actor = :actor) "
        "AND (CAST(:action AS text) IS NULL OR action = :action) "
        "AND (CAST(:prefix AS text) IS NULL OR starts_with(action, :prefix)) "
        "AND (CAST(:like AS text) IS NULL OR target LIKE :like) "
        "AND (CAST(:outcome AS text) IS NULL OR outcome = :outcome) "
        "AND (CAST(:after AS timestamptz) IS NULL OR at >= :after) "
        "AND (CAST(:before AS timestamptz) IS NULL OR at < :before) ORDER BY seq DESC LIMIT :limit"),
        {"since": since_seq, "actor": actor, "action": None if prefix else action,
         "prefix": prefix, "like": like, "outcome": outcome, "after": after, "before": before,
         "limit": limit})
    return [Entry(*row) for row in rows]


@dataclass(frozen=True)
class Verification:
    """Outcome of checking the chain: entries checked, the head hash, and what is broken."""

    checked: int
    head: str
    problems: list[str]
    anchored: int = 0  # the newest anchored entry checked (0: no anchor)
    pending: int = 0  # entries recorded but not yet chained (committed after the check began)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


@dataclass(frozen=True)
class Anchor:
    """A published head of the chain: entry ``seq`` had hash ``hash`` at ``at``, keyed by ``mac``."""

    seq: int
    hash: str
    at: str
    mac: str

    @staticmethod
    def mac_of(key: bytes, seq: int, head: str, at: str) -> str:
        """The HMAC-SHA256 of an anchor's fields."""
        return hmac.new(key, f"{seq}:{head}:{at}".encode(), hashlib.sha256).hexdigest()

    def genuine(self, key: bytes) -> bool:
        """Whether the anchor was made with ``key``."""
        return hmac.compare_digest(self.mac, self.mac_of(key, self.seq, self.hash, self.at))


def read_anchors(path: Path) -> tuple[list[Anchor], list[str]]:
    """The anchors published in ``path`` (none when it does not exist), and unreadable lines."""
    if not path.exists():
        return [], []
    anchors, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            anchors.append(Anchor(int(data["seq"]), str(data["hash"]), str(data["at"]),
                                  str(data["mac"])))
        except (ValueError, KeyError, TypeError):
            problems.append(f"anchor line {number} of {path.name} is unreadable")
    return anchors, problems


def publish_anchor(conn: Connection, key: bytes, path: Path) -> Anchor | None:
    """Append the chain's current head to ``path`` (and the log) unless it is already there.

    Workers publishing at once take turns on a lock of the file; the head is read under it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as out:
        fcntl.flock(out, fcntl.LOCK_EX)
        head = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
        if head is None:
            return None
        lines = out.read().splitlines()
        try:
            last = json.loads(lines[-1]) if lines else None
        except ValueError:
            last = None
        if isinstance(last, dict) and last.get("seq") == head[0] and last.get("hash") == head[1]:
            return None
        at = datetime.now(UTC).isoformat(timespec="seconds")
        anchor = Anchor(head[0], head[1], at, Anchor.mac_of(key, head[0], head[1], at))
        out.write(json.dumps(vars(anchor)) + "\n")
        out.flush()
        os.fsync(out.fileno())
    LOG.info("audit anchor seq=%s hash=%s at=%s mac=%s", anchor.seq, anchor.hash, anchor.at,
             anchor.mac)
    return anchor


def verify(conn: Connection, anchors: list[Anchor] | None = None, key: bytes | None = None
           ) -> Verification:
    """Walk the whole chain; report gaps (removed entries) and hash mismatches (altered ones).

    With ``anchors`` (and the ``key`` they were made with), also report every anchored entry
    that is missing or whose hash differs from the one published: a rewritten chain.
    """
    anchors = anchors or []
    anchored = {a.seq for a in anchors}
    seen: dict[int, str] = {}
    problems: list[str] = []
    prev, expected_seq, checked = GENESIS, 1, 0
    result = conn.execution_options(stream_results=True).execute(
        text(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq"))  # noqa: S608 - constant columns
    for row in result:
        entry = Entry(*row)
        checked += 1
        if entry.seq != expected_seq:
            problems.append(f"entries {expected_seq}..{entry.seq - 1} removed")
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: previous hash does not match entry {entry.seq - 1}")
        digest = _digest(entry.prev_hash, entry.seq, entry.at, entry.actor, entry.action,
                         entry.target, entry.outcome, entry.client_ip, entry.reason, entry.details)
        if digest != entry.hash:
            problems.append(f"entry {entry.seq}: content altered")
        if entry.seq in anchored:
            seen[entry.seq] = entry.hash
        prev, expected_seq = entry.hash, entry.seq + 1
    for anchor in anchors:
        if key is not None and not anchor.genuine(key):
            problems.append(f"anchor of entry {anchor.seq} ({anchor.at}) is not genuine")
        elif anchor.seq not in seen:
            problems.append(f"entry {anchor.seq}, anchored at {anchor.at}, is missing: the chain "
                            f"ends at {expected_seq - 1}" if anchor.seq >= expected_seq else
                            f"entry {anchor.seq}, anchored at {anchor.at}, is missing")
        elif seen[anchor.seq] != anchor.hash:
            problems.append(f"entry {anchor.seq} differs from its anchor of {anchor.at}: the chain "
                            "was rewritten")
    return Verification(checked=checked, head=prev, problems=problems,
                        anchored=max(anchored, default=0), pending=pending(conn))
