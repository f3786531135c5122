"""Where the audit chain's anchors live (outside the database) and their periodic publication.

The key is ``var/audit.key`` (made on first use, like the token key) and the anchors are appended
to ``var/audit-anchors/<database>.jsonl`` (one chain per database); both stay out of the
database, so rewriting the chain there cannot rewrite them. Copy the file (or the log lines
``audit anchor …``) elsewhere too.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool

from gis_core.settings import Settings
from gis_core.tokens import load_secret
from governance import audit, sequencer

LOG = logging.getLogger("ioc.audit")
KEY_FILE = "audit.key"
ANCHOR_FOLDER = "audit-anchors"


def anchor_file(settings: Settings, conn: Connection) -> Path:
    """The file the anchors of the chain in ``conn``'s database are appended to."""
    name = conn.execute(text("SELECT current_database()")).scalar_one()
    return Path(settings.var_dir) / ANCHOR_FOLDER / f"{name}.jsonl"


def anchor_key(settings: Settings) -> bytes:
    """The anchors' HMAC key (created on first use, readable by the owner only)."""
    return load_secret(Path(settings.var_dir) / KEY_FILE)


def publish(engine: Engine, settings: Settings) -> audit.Anchor | None:
    """Publish the chain's head now (nothing when it has not moved since the last anchor); the
    entries still pending are chained first."""
    sequencer.settle(engine)
    with engine.connect() as conn:
        return audit.publish_anchor(conn, anchor_key(settings), anchor_file(settings, conn))


def verify(engine: Engine, settings: Settings) -> audit.Verification:
    """Check the chain (the entries still pending chained first), and the chain against every
    published anchor."""
    sequencer.settle(engine)
    with engine.connect() as conn:
        anchors, unreadable = audit.read_anchors(anchor_file(settings, conn))
        result = audit.verify(conn, anchors, anchor_key(settings))
    result.problems.extend(unreadable)
    return result


async def publish_periodically(engine: Engine, settings: Settings) -> None:
    """Publish the head every ``audit_anchor_minutes`` until cancelled (a failure is logged)."""
    while True:
        try:
            await run_in_threadpool(publish, engine, settings)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the publishing
            LOG.exception("could not publish the audit anchor")
        await asyncio.sleep(settings.audit_anchor_minutes * 60)

