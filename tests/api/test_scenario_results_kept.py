"""Scenario answers kept per data version: a repeat comes from memory, an edit is seen at once."""

import threading

import orjson
import psycopg2
import pytest

from api.scenario_http import StampCache
from gis_core.db import raw_cursor
from scenarios.registry import require_scenario

RUN = "/api/v1/scenarios/sector_social_welfare/run"


@pytest.fixture
def commune(database_url):
    """The commune with most households, and one of its households to edit (put back after)."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT commune_code FROM housing GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        code = cur.fetchone()[0]
        cur.execute("SELECT id, poverty_status, updated_at FROM housing WHERE commune_code = %s "
                    "ORDER BY id LIMIT 1", (code,))
        saved = cur.fetchone()
    yield code, saved[0], saved[1]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE housing SET poverty_status = %s, updated_at = %s WHERE id = %s",
                    (saved[1], saved[2], saved[0]))


def fresh(app, code):
    """The answer computed now, without the cache."""
    with raw_cursor(app.state.engine) as cursor:
        scenario = require_scenario(cursor, "sector_social_welfare")
        params = scenario.Params.model_validate({"selection": {"type": "communes",
                                                               "codes": [code]}})
        return orjson.loads(orjson.dumps(scenario.run(cursor, params).result))


def test_a_repeat_is_kept_and_an_edit_is_never_served_stale(client, app, database_url, commune):
    code, household, status = commune
    body = {"selection": {"type": "communes", "codes": [code]}}
    first = client.post(RUN, json=body)
    assert first.status_code == 200
    assert first.json() == fresh(app, code)
    kept = len(app.state.scenario_cache._items)
    again = client.post(RUN, json=body)
    assert again.content == first.content
    assert len(app.state.scenario_cache._items) == kept  # served from memory, nothing new kept

    other = "poor" if status != "poor" else "none"
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE housing SET poverty_status = %s WHERE id = %s", (other, household))
    after = client.post(RUN, json=body)  # at once, no waiting: the edit changed the data stamp
    assert after.json() == fresh(app, code)
    assert after.content != first.content


def test_concurrent_callers_of_one_answer_compute_it_once():
    cache = StampCache(8)
    computed = []
    gate = threading.Event()

    def compute():
        computed.append(1)
        gate.wait(10)
        return len(computed)

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(cache.get_or_compute(("k",), compute)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert computed == [1] and answers == [1] * 8


def test_a_failed_computation_is_not_kept_and_the_next_caller_computes():
    cache = StampCache(8)

    def fail():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get_or_compute(("k",), fail)
    assert cache.get_or_compute(("k",), lambda: 42) == 42
