"""The audit log is append-only and its hash chain detects removed and altered entries."""

import psycopg2
import pytest

from tests.auth.conftest import bearer


def _verify(database_url):
    from gis_core.db import engine_for
    from layers import audit

    with engine_for(database_url).connect() as conn:
        return audit.verify(conn)


@pytest.fixture()
def scratch_db():
    """A migrated database of its own, so tampering cannot disturb the other tests."""
    from api.cli import migrate
    from gis_core.db import engine_for
    from layers import audit
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

    from layers.audit import _digest

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
