"""``X-Reason`` with bad bytes: the request is answered as without them, and still audited."""

from __future__ import annotations

import psycopg2
import pytest

from tests.auth.conftest import audit_head, bearer


def _entries(database_url, since: int, action: str) -> list[tuple]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT actor, reason, outcome FROM audit_log WHERE seq > %s AND action = %s "
                    "ORDER BY seq", (since, action))
        return cur.fetchall()


@pytest.mark.parametrize("sent,kept", [
    ("%00", None),
    ("ki%E1%BB%83m%00tra%0D%0Ah%E1%BB%99", "kiểmtrahộ"),
    ("r\x00\x01", "r"),
])
def test_a_refusal_with_a_nul_reason_is_a_403_and_audited(client, tokens, database_url, sent,
                                                           kept):
    since = audit_head(database_url)
    response = client.get("/ogc/collections/housing/items?properties=citizen_id",
                          headers={**bearer(tokens["viewer1"]), "X-Reason": sent})
    assert response.status_code == 403, response.text
    assert _entries(database_url, since, "read.denied") == [("viewer1", kept, "denied")]


def test_a_personal_read_with_a_nul_reason_is_served_and_audited(client, tokens, database_url):
    since = audit_head(database_url)
    response = client.get("/ogc/collections/housing/items?limit=2",
                          headers={**bearer(tokens["leader1"]), "X-Reason": "x%00y"})
    assert response.status_code == 200, response.text
    assert any("citizen_id" in f["properties"] for f in response.json()["features"])
    assert _entries(database_url, since, "read.personal") == [("leader1", "xy", "ok")]
