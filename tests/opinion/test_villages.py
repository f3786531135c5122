"""Villages in the gazetteer: declared by a deployment's CSV (the shipped file is a labelled
sample of the format), imported all or nothing by a command or the API (a job); a post naming
a village lands on its commune, a village name found in two communes places nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from api.cli import main
from opinion import ingest, places
from opinion.sources import Source
from tests.opinion.conftest import NOW, item_ids

API = "/api/v1/opinion"
SAMPLE = Path(__file__).resolve().parents[2] / "data_samples" / "opinion" / "villages.SAMPLE.csv"
GOOD_ROW = "Bản Thử,03478,103.22416,22.31975,,kiểm thử\n"
HEADER = "name,commune_code,lon,lat,variants,source\n"


def _count(database_url: str) -> int:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM opinion_villages")
        return cur.fetchone()[0]


def test_the_shipped_file_is_a_labelled_sample():
    text = SAMPLE.read_text(encoding="utf-8")
    rows = text.splitlines()[1:]
    assert rows and all("MẪU" in r and "SAMPLE" in r and "not real" in r for r in rows)


def test_villages_place_a_post_on_their_commune_and_ambiguous_ones_never_guess():
    gazetteer = places.Gazetteer(
        [("03478", "Sìn Hồ"), ("03445", "Mường Tè"), ("03549", "Phong Thổ")], [],
        [places.Village("Bản Nà Thử", "03478", 103.2, 22.3, ("Na Thu",)),
         places.Village("Bản Chung Thử", "03445", 102.6, 22.5),
         places.Village("Chung Thử", "03549", 103.2, 22.6)])
    found = gazetteer.place("Đường vào bản Nà Thử bị sạt lở")
    assert found == places.Place("03478", "ban na thu", 103.2, 22.3)
    assert gazetteer.place("duong vao ban na thu bi sat lo").code == "03478"  # no diacritics
    assert gazetteer.place("thôn Na Thu mất điện").code == "03478"  # a variant
    assert gazetteer.place("Nà Thử mất điện cả ngày") is None  # no "bản": not a village
    assert gazetteer.place("bạn Nà Thử ơi") is None  # "bạn" is a friend, not a village
    assert gazetteer.place("Bản Chung Thử mất điện") is None  # two communes: never guessed
    with_commune = gazetteer.place("bản Chung Thử, xã Phong Thổ mất điện")
    assert with_commune and (with_commune.code, with_commune.lon) == ("03549", 103.2)
    assert gazetteer.place("bản Nà Thử và xã Mường Tè") is None  # two communes named


def test_the_command_imports_the_file_and_posts_land_on_the_villages(
        replayed, feed_server, database_url, monkeypatch, capsys):
    from gis_core.db import engine_for

    monkeypatch.setenv("DATABASE_URL", database_url)
    main(["opinion", "villages", str(SAMPLE)])
    assert '"villages": 4' in capsys.readouterr().out
    assert _count(database_url) == 4
    ingest.run(engine_for(database_url),
               [Source("villages", "feed", "Tin bản", f"{feed_server}/villages.xml")], now=NOW)
    ids = item_ids(database_url, "https://example.vn/villages/")
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT url, commune_code, round(ST_X(geom)::numeric, 5)::float, "
                    "round(ST_Y(geom)::numeric, 5)::float FROM opinion_items WHERE id = ANY(%s)",
                    (list(ids.values()),))
        placed = {r[0].rsplit("/", 1)[1]: r[1:] for r in cur.fetchall()}
    assert placed["0"] == ("03595", 103.88016, 21.9571)  # bản Mẫu Hai: its commune, its point
    assert placed["1"][0] == "03478"  # "ban mau mot", typed without diacritics
    assert placed["2"] == (None, None, None)  # bản Mẫu Chung: in two communes, unplaced
    assert placed["3"][:2] == ("03549", 103.22109)  # … unless the post names one of them


def test_a_bad_file_is_refused_whole(client, staff, settle, database_url, monkeypatch, capsys):
    before = _count(database_url)
    bad = HEADER + GOOD_ROW + "Bản Lạc,99999,103.2,22.3,,x\nBản Trống,03478,abc,22.3,,x\n"
    answer = client.post(f"{API}/villages", headers=staff("operator"),
                         files={"file": ("villages.csv", bad.encode(), "text/csv")})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert "dòng 4" in problem["detail"] and "line 4" in problem["detail_en"]
    # A code that is no commune, or a point far from its commune: found by the job, nothing
    # written.
    far = HEADER + GOOD_ROW + "Bản Xa,03478,102.5,22.7,,x\nBản Lạc,99999,103.2,22.3,,x\n"
    done = settle(client.post(f"{API}/villages", headers=staff("operator"),
                              files={"file": ("villages.csv", far.encode(), "text/csv")}),
                  staff("operator"))
    assert done.status_code == 422, done.text
    assert "dòng 4" in done.json()["detail"]
    assert _count(database_url) == before
    assert client.post(f"{API}/villages", headers=staff("leader"),
                       files={"file": ("v.csv", b"x", "text/csv")}).status_code == 403
    monkeypatch.setenv("DATABASE_URL", database_url)
    with pytest.raises(SystemExit) as exit_:
        main(["opinion", "villages", "/nowhere/villages.csv"])
    assert exit_.value.code == 1 and len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_api_imports_a_good_file_by_a_job(client, staff, settle, database_url):
    good = (HEADER + GOOD_ROW).encode()
    done = settle(client.post(f"{API}/villages", headers=staff("operator"),
                              files={"file": ("villages.csv", good, "text/csv")}),
                  staff("operator"))
    assert done.status_code == 201, done.text
    assert done.json() == {"villages": 1, "communes": 1}
    listed = client.get(f"{API}/villages", headers=staff("leader")).json()["villages"]
    assert [(v["name"], v["commune_code"], v["source"]) for v in listed] == [
        ("Bản Thử", "03478", "kiểm thử")]
