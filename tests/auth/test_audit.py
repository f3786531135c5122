"""The audit log is append-only and its hash chain detects removed and altered entries."""

import json
import time

import httpx
import psycopg2
import pytest

from tests.auth.conftest import bearer
from tests.conftest import serving


def _verify(database_url):
    from gis_core.db import engine_for
    from governance import audit

    with engine_for(database_url).connect() as conn:
        return audit.verify(conn)


@pytest.fixture()
def scratch_db():
    """A migrated database of its own, so tampering cannot disturb the other tests."""
    from api.cli import migrate
    from gis_core.db import engine_for
    from governance import audit
    from tests.conftest import _fresh_database

    for url in _fresh_database("ioc_audit"):
        migrate(url)
        engine = engine_for(url)
        for i in range(5):
            audit.record_now(engine, "test.entry", actor=f"user{i}",
                             details={"i": i, "tên": "Sìn Hồ"})
        yield url


def test_update_delete_truncate_are_refused(database_url, tokens):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log",
                          "TRUNCATE audit_log"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)
            conn.rollback()


def test_intact_chain_verifies(client, tokens, database_url):
    result = _verify(database_url)
    assert result.ok and result.checked > 0
    api = client.get("/api/v1/admin/audit/verify", headers=bearer(tokens["op1"])).json()
    assert api["ok"] and api["checked"] >= result.checked
    entries = client.get("/api/v1/admin/audit?action=login&limit=5",
                         headers=bearer(tokens["op1"])).json()
    assert entries and all(e["action"] == "login" for e in entries)


def _tamper(url, statement):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE audit_log DISABLE TRIGGER ioc_audit_append_only")
        cur.execute(statement)
        cur.execute("ALTER TABLE audit_log ENABLE TRIGGER ioc_audit_append_only")


def test_altered_entry_is_detected(scratch_db):
    assert _verify(scratch_db).ok
    _tamper(scratch_db, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3")
    result = _verify(scratch_db)
    assert not result.ok and result.problems == ["entry 3: content altered"]


def test_removed_entry_is_detected(scratch_db):
    _tamper(scratch_db, "DELETE FROM audit_log WHERE seq = 2")
    result = _verify(scratch_db)
    assert not result.ok
    assert "entries 2..2 removed" in result.problems


def test_rehashed_entry_still_breaks_the_chain(scratch_db):
    """Recomputing an altered entry's own hash does not help: the next entry points at the old one."""
    from datetime import UTC

    from governance.audit import _digest

    with psycopg2.connect(scratch_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT seq, at, actor, action, target, outcome, client_ip, reason, details, "
                    "prev_hash FROM audit_log WHERE seq = 2")
        seq, at, _, action, target, outcome, ip, reason, details, prev = cur.fetchone()
    forged = _digest(prev, seq, at.astimezone(UTC), "intruder", action, target, outcome, ip,
                     reason, details)
    _tamper(scratch_db, f"UPDATE audit_log SET actor = 'intruder', hash = '{forged}' "  # noqa: S608
            "WHERE seq = 2")
    result = _verify(scratch_db)
    assert result.problems == ["entry 3: previous hash does not match entry 2"]


def test_cli_verify_exits_non_zero_on_a_broken_chain(scratch_db, monkeypatch, capsys):
    from api.cli import main

    monkeypatch.setenv("DATABASE_URL", scratch_db)
    main(["audit", "--verify"])
    assert "toàn vẹn" in capsys.readouterr().out
    _tamper(scratch_db, "DELETE FROM audit_log WHERE seq = 4")
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "--verify"])
    assert exit_.value.code == 2
    assert "removed" in capsys.readouterr().out


def _rewrite_without(url, removed):
    """Delete entry ``removed``, then renumber and re-hash every later one: a chain that is
    consistent again, as someone with database access could leave it."""
    from datetime import UTC

    from governance.audit import _digest

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE audit_log DISABLE TRIGGER ioc_audit_append_only")
        cur.execute("SELECT hash FROM audit_log WHERE seq = %s", (removed - 1,))
        prev = cur.fetchone()[0]
        cur.execute("DELETE FROM audit_log WHERE seq = %s", (removed,))
        cur.execute("SELECT seq, at, actor, action, target, outcome, client_ip, reason, details "
                    "FROM audit_log WHERE seq > %s ORDER BY seq", (removed,))
        for seq, at, actor, action, target, outcome, ip, reason, details in cur.fetchall():
            digest = _digest(prev, seq - 1, at.astimezone(UTC), actor, action, target, outcome,
                             ip, reason, details)
            cur.execute("UPDATE audit_log SET seq = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                        (seq - 1, prev, digest, seq))
            prev = digest
        cur.execute("ALTER TABLE audit_log ENABLE TRIGGER ioc_audit_append_only")


@pytest.fixture()
def anchored(scratch_db, tmp_path):
    """The scratch chain's head published to an anchor file under a private var folder."""
    from api import audit_anchor
    from gis_core.db import engine_for
    from gis_core.settings import Settings

    settings = Settings(database_url=scratch_db, var_dir=tmp_path)
    engine = engine_for(scratch_db)
    anchor = audit_anchor.publish(engine, settings)
    assert anchor is not None and anchor.seq == 5
    assert audit_anchor.publish(engine, settings) is None  # the head has not moved
    return settings, engine


def test_a_consistent_rewrite_is_caught_by_the_anchor(anchored, scratch_db):
    from api import audit_anchor
    from governance import audit

    settings, engine = anchored
    audit.record_now(engine, "test.entry", actor="user5")  # after the anchor
    _rewrite_without(scratch_db, 2)
    assert _verify(scratch_db).ok  # the chain alone cannot tell
    result = audit_anchor.verify(engine, settings)
    assert not result.ok
    assert len(result.problems) == 1 and "entry 5 differs from its anchor" in result.problems[0]


def test_a_cut_tail_is_caught_by_the_anchor(anchored, scratch_db):
    from api import audit_anchor

    settings, engine = anchored
    _tamper(scratch_db, "DELETE FROM audit_log WHERE seq >= 4")
    assert _verify(scratch_db).ok
    problems = audit_anchor.verify(engine, settings).problems
    assert problems and "entry 5" in problems[0] and "ends at 3" in problems[0]


def test_a_forged_anchor_is_refused(anchored, scratch_db):
    from api import audit_anchor

    settings, engine = anchored
    path = next((settings.var_dir / audit_anchor.ANCHOR_FOLDER).glob("*.jsonl"))
    line = json.loads(path.read_text())
    path.write_text(json.dumps({**line, "hash": "f" * 64}) + "\n")
    assert "not genuine" in audit_anchor.verify(engine, settings).problems[0]


def test_cli_and_api_verify_against_the_anchors(anchored, scratch_db, monkeypatch, capsys):
    from api.cli import main
    from governance import accounts

    settings, engine = anchored
    monkeypatch.setenv("DATABASE_URL", scratch_db)
    monkeypatch.setenv("IOC_VAR_DIR", str(settings.var_dir))
    main(["audit", "--verify"])
    assert "toàn vẹn" in capsys.readouterr().out
    with engine.begin() as conn:
        accounts.create_account(conn, username="van-hanh", role="operator", password="Lai-Chau-2026-op")
    main(["audit", "--anchor"])
    assert "anchor: 6 " in capsys.readouterr().out
    _rewrite_without(scratch_db, 3)
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "--verify"])
    assert exit_.value.code == 2
    assert "rewritten" in capsys.readouterr().out
    with serving(scratch_db, settings.var_dir) as url:
        token = httpx.post(f"{url}/api/v1/auth/token", json={"username": "van-hanh",
                                                              "password": "Lai-Chau-2026-op"})
        verdict = httpx.get(f"{url}/api/v1/admin/audit/verify",
                            headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert verdict.status_code == 200
    assert verdict.json()["ok"] is False
    assert any("rewritten" in p for p in verdict.json()["problems"])


def test_the_server_publishes_the_head_periodically(scratch_db, tmp_path):
    from api import audit_anchor
    from gis_core.db import engine_for
    from governance import audit

    engine = engine_for(scratch_db)
    path = tmp_path / audit_anchor.ANCHOR_FOLDER / f"{scratch_db.rsplit('/', 1)[1]}.jsonl"

    def anchored_up_to(seq: int) -> list[int]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            anchors, _ = audit.read_anchors(path)
            if anchors and anchors[-1].seq == seq:
                break
            time.sleep(0.2)
        return [a.seq for a in anchors]

    with serving(scratch_db, tmp_path, audit_anchor_minutes=0.005):
        assert anchored_up_to(5) == [5]  # published on start
        seq = audit.record_now(engine, "test.entry", actor="later")
        assert anchored_up_to(seq) == [5, seq]  # and again while serving, the head having moved
