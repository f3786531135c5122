"""pgBackRest backups of a real cluster: restored, compared, recovered to a point in time."""

from __future__ import annotations

import json

import psycopg2
import pytest

from gis_core.backup import BackupError, Backups, checksums


def _sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _rows(url: str) -> list[tuple]:
    return _sql(url, "SELECT id, name, ST_AsText(geom) FROM places ORDER BY id")


def _insert(url: str, names: list[str]) -> None:
    for name in names:
        _sql(url, "INSERT INTO places (name, geom) VALUES (%s, ST_Point(103.4, 22.4, 4326))",
             (name,))


def test_point_in_time_recovery_gives_exactly_the_rows_of_that_instant(backups: Backups) -> None:
    url = backups.url()
    _sql(url, "CREATE TABLE places (id serial PRIMARY KEY, name text, geom geometry(Point, 4326))")
    _insert(url, [f"Xã Bản Giang {i}" for i in range(20)])
    record = backups.backup("full")
    assert record["tables"]["public.places"][0] == 20

    _insert(url, ["Phường Đoàn Kết", "Xã Mường Tè"])
    _sql(url, "UPDATE places SET name = 'Xã Sìn Hồ' WHERE id = 3")
    (noted,), = _sql(url, "SELECT clock_timestamp()")
    expected = _rows(url)

    _insert(url, ["sau mốc thời gian"] * 5)
    _sql(url, "DELETE FROM places WHERE id < 10")
    _sql(url, "UPDATE places SET name = 'đổi sau' WHERE id = 12")
    assert _rows(url) != expected

    with backups.scratch() as data:
        backups.restore_to_time(noted, into=data)
        restored = _rows(backups.start_scratch(data))
    assert restored == expected
    assert len(restored) == 22 and restored[2][1] == "Xã Sìn Hồ"


def test_every_backup_is_verified_by_a_restore_and_a_mismatch_is_caught(backups: Backups) -> None:
    url = backups.url()
    _sql(url, "CREATE TABLE places (id serial PRIMARY KEY, name text, geom geometry(Point, 4326))")
    _insert(url, ["một", "hai"])
    backups.backup("full")
    _insert(url, ["ba"])
    diff = backups.backup("diff")
    assert [b["type"] for b in backups.info()] == ["full", "diff"]
    _insert(url, ["sau sao lưu"])  # after the point: not in the backup

    result = backups.verify()
    assert result["ok"] and result["label"] == diff["label"]
    assert result["tables"] == len(diff["tables"]) and result["rows"] >= 3
    assert diff["tables"]["public.places"][0] == 3
    assert checksums(url)["public.places"] != diff["tables"]["public.places"]

    # A recorded point that the restore does not reproduce is reported, never passed.
    point = backups.folder / "points" / f"{diff['label']}.json"
    tampered = json.loads(point.read_text())
    tampered["tables"]["public.places"][0] = 4
    point.write_text(json.dumps(tampered))
    with pytest.raises(BackupError, match="places"):
        backups.verify()
    from gis_core.backup import status

    assert status(backups.folder.parent)["verify"]["ok"] is False


def test_lost_data_directory_is_recovered_in_place_to_the_noted_time(backups: Backups) -> None:
    import shutil

    from gis_core import embedded

    url = backups.url()
    _sql(url, "CREATE TABLE places (id serial PRIMARY KEY, name text, geom geometry(Point, 4326))")
    _insert(url, ["Xã Pa Ủ", "Xã Thu Lũm"])
    backups.backup("full")
    _insert(url, ["Xã Ka Lăng"])
    (noted,), = _sql(url, "SELECT clock_timestamp()")
    expected = _rows(url)
    _insert(url, ["sau mốc"])
    (lsn,), = _sql(url, "SELECT pg_switch_wal()")  # what archive_timeout does within a minute
    backups._wait_archived(url, lsn)
    port = embedded.status(backups.root).port

    # The disk fails: the server dies and its data directory is gone.
    _kill = [str(embedded.find_pg_bin() / "pg_ctl"), "-D", str(backups.data), "-m", "immediate", "stop"]
    from gis_core.backup import cluster_owner, run_tool

    run_tool(_kill, cluster_owner(backups.data), what="pg_ctl stop")
    shutil.rmtree(backups.data)

    assert backups.restore_to_time(noted) is None
    state = embedded.status(backups.root)
    assert state.running and state.port == port
    assert _rows(state.url) == expected
    _insert(state.url, ["ghi được sau khôi phục"])  # promoted: a primary again


def test_backup_points_under_concurrent_writers_fail_no_write(backups: Backups) -> None:
    import threading

    url = backups.url()
    _sql(url, "CREATE TABLE a (id serial PRIMARY KEY, v int)")
    _sql(url, "CREATE TABLE b (id serial PRIMARY KEY, v int)")
    backups.configure()
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(first: str, second: str) -> None:
        conn = psycopg2.connect(url)
        try:
            while not done.is_set():
                try:
                    with conn, conn.cursor() as cur:  # one transaction, two tables
                        cur.execute(f"INSERT INTO {first} (v) VALUES (1)")  # noqa: S608
                        cur.execute(f"INSERT INTO {second} (v) VALUES (1)")  # noqa: S608
                except psycopg2.Error as err:
                    errors.append(err)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=order)
               for order in (("a", "b"), ("b", "a"), ("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    try:
        points = [backups.mark_point(f"point-{i}") for i in range(5)]
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert errors == []
    for point in points:  # each point sees whole transactions only
        assert point["tables"]["public.a"][0] == point["tables"]["public.b"][0]
