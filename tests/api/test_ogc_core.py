"""OGC API - Features Part 1 (Core) on the sample data."""

import json
import unicodedata

import pytest

JSON = {"accept": "application/json"}


def test_landing_page_links_the_api(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "Trung tâm Điều hành thông minh tỉnh Lai Châu" in page.text
    for href in ('href="/ogc', 'href="/docs"', 'href="/map'):
        assert href in page.text
    english = client.get("/?lang=en")
    assert "Lai Châu Intelligent Operations Centre" in english.text


def test_ogc_landing_and_conformance(client):
    landing = client.get("/ogc", headers=JSON).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conformance = client.get("/ogc/conformance", headers=JSON).json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter"):
        assert any(c.endswith(part) for c in conformance), part


def test_collections_list_every_public_layer_with_extents(client):
    from layers.registry import LAYERS

    body = client.get("/ogc/collections", headers=JSON).json()
    collections = {c["id"]: c for c in body["collections"]}
    assert {layer.id for layer in LAYERS} <= set(collections)
    communes = collections["communes"]
    assert communes["title"] == "Đơn vị hành chính cấp xã"
    minx, miny, maxx, maxy = communes["extent"]["spatial"]["bbox"][0]
    assert 102.2 < minx < maxx < 104.0 and 21.5 < miny < maxy < 23.0
    assert "http://www.opengis.net/def/crs/EPSG/0/9205" in communes["crs"]


def test_items_are_geojson_with_counts(client):
    response = client.get("/ogc/collections/communes/items?limit=5", headers=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 38 and body["numberReturned"] == 5
    assert {link["rel"] for link in body["links"]} >= {"self", "next", "collection"}
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert isinstance(feature["id"], int)


def test_next_links_walk_to_the_last_page(client):
    seen = []
    url = "/ogc/collections/communes/items?limit=7"
    pages = 0
    while url:
        body = client.get(url, headers=JSON).json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].split("8000", 1)[-1] if nxt else None
        url = url and url[url.index("/ogc"):]
        pages += 1
    assert pages == 6 and len(seen) == 38 and len(set(seen)) == 38


def test_limit_above_the_maximum_is_throttled(client, settings):
    body = client.get(f"/ogc/collections/communes/items?limit={settings.max_limit + 5}",
                      headers=JSON).json()
    assert body["numberReturned"] == 38


def test_single_feature(client):
    first = client.get("/ogc/collections/communes/items?limit=1", headers=JSON).json()
    fid = first["features"][0]["id"]
    response = client.get(f"/ogc/collections/communes/items/{fid}", headers=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == fid
    assert any(link["rel"] == "collection" for link in feature["links"])


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_anonymous_writes_need_sign_in(client, method):
    url = "/ogc/collections/communes/items" + ("" if method == "POST" else "/1")
    response = client.request(method, url, headers=JSON)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method,url,allow", [
    ("PUT", "/ogc/collections/communes/items", "GET, HEAD, OPTIONS, POST"),
    ("POST", "/ogc/collections/communes/items/1", "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"),
])
def test_other_methods_are_405(client, method, url, allow):
    response = client.request(method, url, headers=JSON)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


def test_unknown_collection_is_404(client):
    assert client.get("/ogc/collections/nowhere", headers=JSON).status_code == 404
    assert client.get("/ogc/collections/nowhere/queryables", headers=JSON).status_code == 404


def test_html_pages(client):
    for url in ("/ogc?f=html", "/ogc/collections?f=html", "/ogc/collections/communes?f=html",
                "/ogc/collections/communes/items?f=html&limit=3"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/html")
    html = client.get("/ogc/collections/communes/items?limit=50", headers={"accept": "text/html"})
    assert "Đoàn Kết" in html.text


def test_openapi_documents(client):
    ogc = client.get("/ogc/openapi?f=json")
    assert ogc.status_code == 200
    assert "/collections/communes/items" in ogc.json()["paths"]
    ours = client.get("/openapi.json").json()
    assert "/api/v1/layers" in ours["paths"]


def test_datetime_filters_on_the_layer_time_field(client, reader):
    JSON = {"accept": "application/geo+json", **reader}  # noqa: N806
    before = client.get("/ogc/collections/housing/items?limit=1&datetime=../2024-06-30T23:59:59Z",
                        headers=JSON).json()["numberMatched"]
    after = client.get("/ogc/collections/housing/items?limit=1&datetime=2024-07-01T00:00:00Z/..",
                       headers=JSON).json()["numberMatched"]
    total = client.get("/ogc/collections/housing/items?limit=1", headers=JSON).json()
    assert before > 0 and after > 0 and before + after == total["numberMatched"]


def test_vietnamese_names_round_trip_byte_for_byte(client, samples_dir):
    source = json.loads((samples_dir / "communes.geojson").read_text(encoding="utf-8"))
    expected = {f["properties"]["code"]: f["properties"]["full_name"] for f in source["features"]}
    response = client.get("/ogc/collections/communes/items?limit=100", headers=JSON)
    served = {f["properties"]["code"]: f["properties"]["full_name"]
              for f in json.loads(response.content.decode("utf-8"))["features"]}
    assert served == expected
    for name in served.values():
        assert unicodedata.is_normalized("NFC", name)
    assert "Phường Đoàn Kết".encode() in response.content or "\\u" in response.text


@pytest.mark.parametrize(("url", "status", "parameter"), [
    ("/ogc/collections/nowhere/items", 404, None),
    ("/ogc/collections/communes/items/999999999", 404, None),
    ("/ogc/collections/communes/items/not-a-number", 404, None),
    ("/ogc/collections/communes/items/1%27%20OR%201=1", 404, None),
    ("/ogc/collections/communes/items?limit=0", 400, "limit"),
    ("/ogc/collections/communes/items?limit=ten", 400, "limit"),
    ("/ogc/collections/communes/items?offset=-1", 400, "offset"),
    ("/ogc/collections/communes/items?bbox=1,2,3", 400, "bbox"),
    ("/ogc/collections/communes/items?bbox=a,b,c,d", 400, "bbox"),
    ("/ogc/collections/communes/items?bbox=104,22,103,23", 400, "bbox"),
    ("/ogc/collections/communes/items?bbox=103,22,104,95", 400, "bbox"),
    ("/ogc/collections/communes/items?datetime=yesterday", 400, "datetime"),
    ("/ogc/collections/communes/items?datetime=2025-02-30", 400, "datetime"),
    ("/ogc/collections/communes/items?datetime=2025-07-01/2025-01-01", 400, "datetime"),
    ("/ogc/collections/communes/items?filter=name%20%3D", 400, "filter"),
    ("/ogc/collections/communes/items?filter=nope%3D1", 400, "filter"),
    ("/ogc/collections/communes/items?filter=a%3D1&filter-lang=sql", 400, "filter-lang"),
    ("/ogc/collections/communes/items?crs=EPSG:32648", 400, "crs"),
    ("/ogc/collections/communes/items?crs=garbage", 400, "crs"),
    ("/ogc/collections/communes/items?bbox=1,2,3,4&bbox-crs=EPSG:1", 400, "bbox-crs"),
    ("/ogc/collections/communes/items?bbox-crs=EPSG:9205", 400, "bbox-crs"),
    ("/ogc/collections/communes/items?sortby=nope", 400, "sortby"),
    ("/ogc/collections/communes/items?properties=nope", 400, "properties"),
    ("/ogc/collections/communes/items?skipGeometry=maybe", 400, "skipGeometry"),
    ("/ogc/collections/communes/items?unknown=1", 400, "unknown"),
    ("/ogc/collections/communes/items/1?crs=EPSG:1", 400, "crs"),
    ("/ogc/collections/housing/items?offset=99999999999999999999", 400, "offset"),
    ("/ogc/collections/housing/items?limit=99999999999999999999", 400, "limit"),
    ("/ogc/collections/housing/items?filter=village%20LIKE%20%27%5C%27", 400, None),
    ("/ogc/collections/housing/items?filter=village%3D%27%00%27", 400, "filter"),
    ("/ogc/collections/housing/items?filter=S_INTERSECTS(geom,POLYGON((0%200,1%201)))", 400, "filter"),
    ("/ogc/collections/housing/items?filter=surveyed_at%3ETIMESTAMP(%27notadate%27)", 400, "filter"),
    ("/ogc/collections/housing/items?members=abc", 400, "members"),
])
def test_bad_input_gets_a_clear_problem(client, reader, url, status, parameter):
    response = client.get(url, headers={**JSON, **reader})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"] and body["title"]
    if parameter:
        assert body["parameter"] == parameter
        assert parameter in body["detail"]


def test_temporal_extent_is_rfc3339(client):
    extent = client.get("/ogc/collections/housing", headers=JSON).json()["extent"]
    begin, end = extent["temporal"]["interval"][0]
    from datetime import datetime, timedelta

    moments = [datetime.fromisoformat(m.replace("Z", "+00:00")) for m in (begin, end)]
    for text, moment in zip((begin, end), moments, strict=True):
        assert text[10] == "T" and moment.utcoffset() == timedelta(0)
    assert moments[0] < moments[1]


def test_ogc_html_pages_speak_vietnamese_first(client):
    page = client.get("/ogc/collections?f=html")
    assert '<html lang="vi" dir="ltr"' in page.text and "Lớp dữ liệu" in page.text
    english = client.get("/ogc/collections?f=html&lang=en")
    assert 'dir="ltr"' in english.text and "Collections" in english.text


@pytest.mark.parametrize("url", [
    "/", "/map", "/docs", "/ogc?f=html", "/ogc/collections?f=html",
    "/ogc/collections/schools?f=html", "/ogc/collections/schools/items?f=html&limit=5",
    "/ogc/collections/schools/items/1?f=html", "/ogc/openapi?f=html",
])
def test_pages_load_no_asset_from_the_internet(client, settings, url):
    import re

    page = client.get(url)
    assert page.status_code == 200
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assets = [u for u in links if re.search(r"\.(js|css|png)(\?|$)", u)]
    assert assets
    for asset in assets:
        assert asset.startswith(("/", settings.base_url)), asset
        assert client.get(asset.removeprefix(settings.base_url)).status_code == 200, asset
