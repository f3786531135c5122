"""Coordinate reference systems of the platform: WGS 84, Web Mercator and VN-2000 (see CRS.md).

Geometries are stored in EPSG:4326 (lon, lat). OGC API names CRSs by URI; EPSG:4326 and
EPSG:4756 have latitude first, CRS84 and the projected CRSs have easting first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pyproj import CRS, Transformer

from gis_core.errors import InvalidParameterError

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
STORAGE_SRID = 4326

# Decision 05/2007/QĐ-BTNMT, as PROJ's +towgs84 (position-vector convention: the rotations
# carry the opposite sign of the Decision's coordinate-frame values).
VN2000_TOWGS84 = (
    -191.90441429, -39.30318279, -111.45032835, 0.00928836, -0.01975479, 0.00427372, 0.252906278
)
# EPSG:9205-9218, the provincial TM-3 zones of VN-2000, by central meridian (degrees).
VN2000_TM3_ZONES: dict[int, float] = {
    9205: 103.0, 9206: 104.0, 9207: 104.5, 9208: 104.75, 9209: 105.5, 9210: 105.75,
    9211: 106.0, 9212: 106.25, 9213: 106.5, 9214: 107.0, 9215: 107.25, 9216: 107.5,
    9217: 108.25, 9218: 108.5,
}
# CRSs every collection offers on output and in bbox-crs (OGC API Features Part 2).
OUTPUT_SRIDS = (4326, 3857, 9205, 9208)


@dataclass(frozen=True)
class OutputCrs:
    """A CRS requested by a client: its URI, PostGIS SRID, axis order and coordinate precision."""

    uri: str
    srid: int
    lat_first: bool
    decimals: int


def vn2000_tm3_proj4(central_meridian: float) -> str:
    """PROJ string of a VN-2000 TM-3 zone, with the national 7-parameter shift."""
    towgs84 = ",".join(f"{v:.9g}" for v in VN2000_TOWGS84)
    return (
        f"+proj=tmerc +lat_0=0 +lon_0={central_meridian:g} +k=0.9999 +x_0=500000 +y_0=0 "
        f"+ellps=WGS84 +towgs84={towgs84} +units=m +no_defs"
    )


def crs_uri(srid: int | None) -> str:
    """OGC URI of an SRID (None means CRS84)."""
    return CRS84_URI if srid is None else EPSG_URI.format(code=srid)


def supported_uris() -> list[str]:
    """The CRS URIs offered by every collection, CRS84 first."""
    return [CRS84_URI, *(crs_uri(s) for s in OUTPUT_SRIDS)]


@cache
def parse_crs(value: str, parameter: str = "crs") -> OutputCrs:
    """Resolve a CRS URI, CURIE or ``EPSG:n`` to an ``OutputCrs``; 400 if not offered."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    normalised = text.upper()
    for prefix in ("HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/", "OGC:"):
        if normalised.startswith(prefix) and normalised[len(prefix):] == "CRS84":
            return OutputCrs(CRS84_URI, 4326, lat_first=False, decimals=7)
    code: int | None = None
    for prefix in ("HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/", "EPSG:", "EPSG::"):
        if normalised.startswith(prefix) and normalised[len(prefix):].isdigit():
            code = int(normalised[len(prefix):])
    if code is None or code not in OUTPUT_SRIDS:
        offered = ", ".join(supported_uris())
        raise InvalidParameterError(
            f"Tham số '{parameter}' không hợp lệ: '{value}'. Các hệ tọa độ hỗ trợ: {offered}.",
            message_en=f"Parameter '{parameter}' is invalid: '{value}'. Supported CRSs: {offered}.",
            parameter=parameter,
        )
    geographic = CRS.from_epsg(code).is_geographic
    return OutputCrs(crs_uri(code), code, lat_first=geographic, decimals=7 if geographic else 3)


@cache
def _to_crs84(srid: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(srid), CRS.from_user_input("OGC:CRS84"))


def bbox_to_crs84(
    bbox: tuple[float, ...], crs: OutputCrs
) -> tuple[float, float, float, float]:
    """Transform a bbox given in ``crs`` (its own axis order) to CRS84, edges densified.

    Transforming only the corners of a projected box misses the bulge of its edges; densifying
    each edge keeps the result a true envelope of the requested area.
    """
    if crs.uri == CRS84_URI:
        return bbox[0], bbox[1], bbox[2], bbox[3]
    minx, miny, maxx, maxy = (bbox[0], bbox[1], bbox[2], bbox[3])
    return _to_crs84(crs.srid).transform_bounds(minx, miny, maxx, maxy, densify_pts=21)


# VN-2000 CRSs besides the TM-3 zones: UTM 48N and 49N, and geographic.
VN2000_UTM = {3405: 105.0, 3406: 111.0}
VN2000_GEOGRAPHIC = 4756


def _vn2000_proj4(srid: int) -> str | None:
    towgs84 = ",".join(f"{v:.9g}" for v in VN2000_TOWGS84)
    if srid in VN2000_TM3_ZONES:
        return vn2000_tm3_proj4(VN2000_TM3_ZONES[srid])
    if srid in VN2000_UTM:
        return (f"+proj=tmerc +lat_0=0 +lon_0={VN2000_UTM[srid]:g} +k=0.9996 +x_0=500000 +y_0=0 "
                f"+ellps=WGS84 +towgs84={towgs84} +units=m +no_defs")
    if srid == VN2000_GEOGRAPHIC:
        return f"+proj=longlat +ellps=WGS84 +towgs84={towgs84} +no_defs"
    return None


@cache
def to_wgs84(srid: int) -> Transformer:
    """Transformer from ``srid`` to WGS 84 lon/lat (x = lon), VN-2000 with the national shift."""
    proj4 = _vn2000_proj4(srid)
    source = CRS.from_proj4(proj4) if proj4 else CRS.from_epsg(srid)
    return Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)


def recognise_crs(wkt: str) -> tuple[int, str]:
    """The EPSG code of a ``.prj`` or other WKT, and how it was recognised.

    VN-2000 definitions from Vietnamese GIS software rarely carry an EPSG code; they are
    recognised by their datum and projection parameters (central meridian, scale factor, false
    easting). Raises ``ValueError`` when the definition cannot be tied to one EPSG code.
    """
    crs = CRS.from_user_input(wkt)
    datum = (crs.datum.name if crs.datum else "").lower().replace("_", " ").replace("-", " ")
    text = wkt.lower().replace("_", " ").replace("-", " ")
    vn2000 = "vn 2000" in datum or "vietnam 2000" in datum or "vn 2000" in text or "vn2000" in text
    if vn2000:
        if crs.is_geographic:
            return VN2000_GEOGRAPHIC, "VN-2000 địa lý / geographic (EPSG:4756)"
        params = {p.name.lower(): p.value for p in (crs.coordinate_operation.params
                                                     if crs.coordinate_operation else [])}
        meridian = params.get("longitude of natural origin")
        scale = params.get("scale factor at natural origin")
        easting = params.get("false easting")
        if meridian is not None and easting is not None and abs(easting - 500000) < 1e-6:
            if scale is not None and abs(scale - 0.9999) < 1e-9:
                for srid, cm in VN2000_TM3_ZONES.items():
                    if abs(cm - meridian) < 1e-6:
                        return srid, f"VN-2000 TM-3 kinh tuyến trục {cm:g}° (EPSG:{srid})"
            if scale is not None and abs(scale - 0.9996) < 1e-9:
                for srid, cm in VN2000_UTM.items():
                    if abs(cm - meridian) < 1e-6:
                        return srid, f"VN-2000 UTM kinh tuyến trục {cm:g}° (EPSG:{srid})"
        raise ValueError(f"VN-2000 với tham số không nhận ra (kinh tuyến trục {meridian}, "
                         f"hệ số {scale}, dịch Đông {easting})")
    code = crs.to_epsg(min_confidence=70)
    if code is None:
        raise ValueError(f"không nhận ra hệ tọa độ '{crs.name}'")
    return code, f"{crs.name} (EPSG:{code})"
