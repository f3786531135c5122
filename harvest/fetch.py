"""Pulling a declared source into a local file the import pipeline reads: OGC API Features pages
and JSON records become a GeoJSON file, a WFS feature type is read by GDAL, a CSV, XLSX or
GeoJSON URL is downloaded as it is. A source that answers HTML, an error, too much or too late
raises ``SourceFailed`` with a clear reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from gis_core.errors import ValidationError
from harvest.declarations import Declaration

MAX_BYTES = 1024 * 2**20
SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "geojson": ".geojson"}


class SourceFailed(ValidationError):
    """The source could not be read (down, slow, HTML, malformed, too large)."""

    code = "harvest-source-failed"

    def __init__(self, message: str, message_en: str):
        super().__init__(message, message_en=message_en, parameter="source")


def _client(decl: Declaration) -> httpx.Client:
    headers = {"Accept": "application/geo+json, application/json;q=0.9, */*;q=0.5",
               "User-Agent": "laichau-ioc-harvest"}
    if decl.auth:
        headers.update(decl.auth.headers())
    return httpx.Client(timeout=decl.timeout_seconds, headers=headers, follow_redirects=True,
                        max_redirects=5)


def _get(client: httpx.Client, url: str, params: dict[str, Any] | None = None) -> bytes:
    """The body of a 200 answer that is not an HTML page, within ``MAX_BYTES``."""
    try:
        with client.stream("GET", url, params=params) as answer:
            if answer.status_code != 200:
                raise SourceFailed(f"Nguồn trả lời HTTP {answer.status_code} cho {answer.url}.",
                                   f"The source answered HTTP {answer.status_code} for {answer.url}.")
            kind = answer.headers.get("content-type", "").lower()
            chunks, size = [], 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SourceFailed(f"Nguồn trả về hơn {MAX_BYTES // 2**20} MB.",
                                       f"The source sent more than {MAX_BYTES // 2**20} MB.")
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise SourceFailed(f"Nguồn không trả lời trong {client.timeout.read:g} giây ({url}).",
                           f"The source did not answer within {client.timeout.read:g} s ({url}).") \
            from None
    except httpx.HTTPError as err:
        raise SourceFailed(f"Không kết nối được tới nguồn {url}: {type(err).__name__}.",
                           f"Cannot reach the source {url}: {type(err).__name__}.") from None
    body = b"".join(chunks)
    if "html" in kind or body.lstrip()[:1] == b"<" and b"<html" in body[:2048].lower():
        raise SourceFailed(f"Nguồn trả về một trang HTML, không phải dữ liệu ({url}).",
                           f"The source answered an HTML page, not data ({url}).")
    return body


def _json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise SourceFailed(f"Nguồn không trả về JSON hợp lệ ({url}).",
                           f"The source did not answer valid JSON ({url}).") from None


def _too_many(decl: Declaration) -> SourceFailed:
    return SourceFailed(f"Nguồn có hơn {decl.max_features:,} đối tượng (giới hạn max_features).",
                        f"The source holds more than {decl.max_features:,} features "
                        "(max_features).")


def _write_geojson(features: list[dict[str, Any]], folder: Path) -> Path:
    path = folder / "source.geojson"
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"type": "FeatureCollection", "features": features}, out, ensure_ascii=False)
    return path


def _ogcapi(decl: Declaration, client: httpx.Client, folder: Path) -> Path:
    """Every page of ``{collection}/items``, following the ``next`` links."""
    url: str | None = decl.url.rstrip("/")
    if not url.endswith("/items"):
        url += "/items"
    params: dict[str, Any] | None = {"limit": decl.page_size, "f": "json"}
    features: list[dict[str, Any]] = []
    while url:
        page = _json(_get(client, url, params), url)
        if not isinstance(page, dict) or page.get("type") != "FeatureCollection":
            raise SourceFailed(f"Trang {url} không phải FeatureCollection của OGC API Features.",
                               f"The page {url} is not an OGC API Features FeatureCollection.")
        for feature in page.get("features") or []:
            props = feature.setdefault("properties", {}) or {}
            feature["properties"] = props
            if "id" in feature and "id" not in props:
                props["id"] = feature["id"]
            features.append(feature)
        if len(features) > decl.max_features:
            raise _too_many(decl)
        nxt = next((link.get("href") for link in page.get("links") or []
                    if link.get("rel") == "next" and link.get("href")), None)
        if not page.get("features"):
            nxt = None
        url, params = (urljoin(url, nxt), None) if nxt else (None, None)
    return _write_geojson(features, folder)


def _dig(data: Any, path: str | None) -> Any:
    for part in (path.split(".") if path else []):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not {"type", "coordinates"} <= value.keys():
            out.update(_flat(value, name + "."))
        else:
            out[name] = value
    return out


def _json_records(decl: Declaration, client: httpx.Client, folder: Path) -> Path:
    """A JSON REST answer: the list at ``items``, each record's geometry from ``geometry`` (GeoJSON
    or WKT) or from ``x``/``y``; nested objects become dotted field names."""
    data = _dig(_json(_get(client, decl.url), decl.url), decl.items)
    if not isinstance(data, list):
        raise SourceFailed(f"Không thấy danh sách bản ghi tại '{decl.items or '(gốc)'}'.",
                           f"No list of records at '{decl.items or '(root)'}'.")
    if len(data) > decl.max_features:
        raise _too_many(decl)
    features = []
    for record in data:
        props = _flat(record) if isinstance(record, dict) else {}
        geometry = None
        if decl.geometry:
            value = props.pop(decl.geometry, None)
            if isinstance(value, str):
                props["wkt_geometry"] = value
            geometry = value if isinstance(value, dict) else None
        elif props.get(decl.x or "") is not None and props.get(decl.y or "") is not None:
            try:
                geometry = {"type": "Point",
                            "coordinates": [float(props[decl.x]), float(props[decl.y])]}
            except (TypeError, ValueError):
                geometry = None
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    if decl.geometry and any("wkt_geometry" in f["properties"] for f in features):
        import shapely

        for feature in features:
            wkt = feature["properties"].pop("wkt_geometry", None)
            if wkt:
                try:
                    feature["geometry"] = shapely.geometry.mapping(shapely.from_wkt(wkt))
                except shapely.errors.GEOSException:
                    feature["geometry"] = None
    return _write_geojson(features, folder)


def _wfs(decl: Declaration, folder: Path) -> Path:
    """A WFS 2.0 feature type read by GDAL's WFS driver and written as GeoJSON (in WGS 84 when
    the service offers it, else as served with its CRS)."""
    import pyogrio
    import pyogrio.raw

    options = {"GDAL_HTTP_TIMEOUT": str(int(decl.timeout_seconds)), "OGR_WFS_PAGING_ALLOWED": "ON",
               "OGR_WFS_PAGE_SIZE": str(decl.page_size)}
    if decl.auth:
        header, value = next(iter(decl.auth.headers().items()))
        options["GDAL_HTTP_HEADERS"] = f"{header}: {value}"
    pyogrio.set_gdal_config_options(options)
    try:
        source = f"WFS:{decl.url}"
        info = pyogrio.read_info(source, layer=decl.type_name)
        if info["features"] > decl.max_features:
            raise _too_many(decl)
        meta, _, geometry, values = pyogrio.raw.read(source, layer=decl.type_name)
    except pyogrio.errors.DataSourceError as err:
        raise SourceFailed(f"Không đọc được dịch vụ WFS {decl.url}: {err}",
                           f"Cannot read the WFS {decl.url}: {err}") from None
    finally:
        pyogrio.set_gdal_config_options({k: None for k in options})
    path = folder / "source.gpkg"
    pyogrio.raw.write(path, geometry, values, meta["fields"], driver="GPKG",
                      layer=decl.type_name.replace(":", "_"), crs=meta["crs"],
                      geometry_type=meta["geometry_type"], encoding="UTF-8")
    return path


def fetch(decl: Declaration, folder: Path) -> Path:
    """The source's current content as a file in ``folder``, ready for the import pipeline."""
    if decl.kind == "wfs":
        return _wfs(decl, folder)
    with _client(decl) as client:
        if decl.kind == "ogcapi":
            return _ogcapi(decl, client, folder)
        if decl.kind == "json":
            return _json_records(decl, client, folder)
        body = _get(client, decl.url)
    if decl.kind == "geojson":
        data = _json(body, decl.url)
        if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
            raise SourceFailed(f"Nguồn {decl.url} không phải GeoJSON.",
                               f"The source {decl.url} is not GeoJSON.")
        if len(data.get("features") or []) > decl.max_features:
            raise _too_many(decl)
    path = folder / f"source{SUFFIX[decl.kind]}"
    path.write_bytes(body)
    return path
