"""Vietnamese text, places, near-copies and feeds, without a database."""

from __future__ import annotations

import json

import pytest

from opinion import corpus, dedup, feeds, places
from opinion.text import features, fold, is_vietnamese, normalise


@pytest.fixture(scope="module")
def gazetteer() -> places.Gazetteer:
    rows = json.loads((places.UNITS_CSV.parent / "communes.geojson").read_text())["features"]
    return places.Gazetteer([(f["properties"]["code"], f["properties"]["name"]) for f in rows],
                            places.former_names())


def test_normalisation_and_words():
    decomposed = "Sìn Hồ".encode().decode()  # NFC already; build the NFD form explicitly
    import unicodedata
    assert normalise(unicodedata.normalize("NFD", decomposed)) == "sìn hồ"
    assert normalise("Mn ơi đg ko đi dc") == "mọi người ơi đường không đi được"
    assert fold("Đường Sìn Hồ") == "duong sin ho"
    words = features("Sạt lở đất ở quốc lộ").split()
    assert "sạt_lở" in words and "~sat" in words


@pytest.mark.parametrize(("post", "code"), [
    ("Sạt lở ở Sìn Hồ", "03478"), ("duong vao sin ho bi sat lo", "03478"),
    ("SÌN HỒ mưa lớn", "03478"), ("xã Nậm Xe mất điện", "03394"),  # a former commune's name
    ("Sin Suối Hồ mưa đá", "03394"), ("huyện Sìn Hồ họp", None), ("Sìn Hồ và Nậm Tăm", None),
    ("Đường vào bản mình hỏng", None),
])
def test_placement(gazetteer, post, code):
    place = gazetteer.place(post)
    assert (place.code if place else None) == code


def test_labelled_places_match_the_gazetteer(gazetteer):
    posts = corpus.read_labelled()
    wrong = [p for p in posts if ((g := gazetteer.place(p.text)) and g.code or "") != p.commune]
    assert len(wrong) <= len(posts) * 0.01, wrong[:5]


def test_shipped_data_is_what_the_composer_writes(tmp_path):
    corpus.write(tmp_path)
    for name in ("labelled.csv", "week/news.xml", "week/group.json", "week/labels.csv"):
        assert (tmp_path / name).read_bytes() == (corpus.OUT / name).read_bytes(), name
    assert len(corpus.read_labelled()) >= 1500


def test_language():
    assert all(is_vietnamese(p.text) for p in corpus.read_labelled())
    assert is_vietnamese("duong vao ban bi sat lo roi khong di duoc")
    assert not is_vietnamese("Heavy rain in the north today, drive carefully")
    assert not is_vietnamese("今天莱州省下大雨，道路中断")


def test_near_copies():
    a = dedup.signature("Sạt lở đất vùi lấp đường vào bản Nà Khum, xe không đi được, mong "
                        "chính quyền sớm xử lý")
    b = dedup.signature("Chia sẻ lại: sạt lở đất vùi lấp đường vào bản Nà Khum, xe ko đi dc, "
                        "mong chính quyền sớm xử lý!!")
    c = dedup.signature("Trường học ở Sìn Hồ khai giảng năm học mới trong không khí vui tươi")
    assert dedup.resemblance(a, b) >= dedup.NEAR > dedup.resemblance(a, c)
    assert set(dedup.bands(a)) & set(dedup.bands(b))


@pytest.mark.parametrize(("body", "reason"), [
    (b"<!DOCTYPE html><html></html>", "html"), (b"<rss><channel><item>", "broken"),
    (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><r>&x;</r>",
     "not_a_feed"),
])
def test_unreadable_feeds(body, reason):
    with pytest.raises(feeds.Unreadable) as err:
        feeds.parse_feed(body)
    assert err.value.reason == reason
