"""Coordinate reference systems of the platform: WGS 84, Web Mercator and VN-2000 (see docs/crs.md).

Geometries are stored in EPSG:4326 (lon, lat). OGC API names CRSs by URI; EPSG:4326 and
EPSG:4756 have latitude first, CRS84 and the projected CRSs have easting first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from pyproj import CRS, Geod, Transformer

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


@dataclass(frozen=True)
class Recognised:
    """A file's CRS tied to an EPSG code: how it was recognised, and what to warn about (vi, en)."""

    srid: int
    note: str
    warnings: tuple[tuple[str, str], ...] = ()


# Where a datum shift's effect is measured: the Lai Châu reference point of docs/crs.md.
LAI_CHAU = (103.4583, 22.3964)
_TOWGS84_WKT1 = re.compile(r"TOWGS84\s*\[([^\]]*)\]", re.IGNORECASE)
_TOWGS84_PROJ = re.compile(r"\+towgs84=([^\s]+)", re.IGNORECASE)
_TOWGS84_NAME = re.compile(r"using_towgs84_([-0-9_]+)", re.IGNORECASE)
_ARCSEC = math.pi / (180 * 3600)


def recognise_crs(definition: str) -> Recognised:
    """The EPSG code of a ``.prj`` (ESRI or OGC WKT1, WKT2, a PROJ string) and how it was found.

    VN-2000 definitions from Vietnamese GIS software rarely carry an EPSG code; they are
    recognised by their datum (or a shift close to the national one) and the projection of the
    base CRS (central meridian, scale factor, false easting): pyproj reads a WKT1 with
    ``TOWGS84`` as a bound CRS whose own parameters are the shift's. A shift unlike the national
    seven parameters is named in a warning with its effect at Lai Châu; the national ones are
    used regardless. Raises ``ValueError`` when the definition cannot be tied to one EPSG code.
    """
    crs = CRS.from_user_input(definition)
    base = crs.source_crs if crs.is_bound and crs.source_crs is not None else crs
    shift = _declared_shift(definition, crs)
    datum = (base.datum.name if base.datum else "").lower().replace("_", " ").replace("-", " ")
    text = definition.lower().replace("_", " ").replace("-", " ")
    vn2000 = ("vn 2000" in datum or "vietnam 2000" in datum or "vn 2000" in text
              or "vn2000" in text or (shift is not None and all(
                  abs(a - b) < 5 for a, b in zip(shift[:3], VN2000_TOWGS84[:3], strict=True))))
    if not vn2000:
        code = base.to_epsg(min_confidence=70)
        if code is None:
            raise ValueError(f"không nhận ra hệ tọa độ '{base.name}'")
        return Recognised(code, f"{base.name} (EPSG:{code})")
    warnings = _shift_warnings(shift)
    if base.is_geographic:
        return Recognised(VN2000_GEOGRAPHIC, "VN-2000 địa lý / geographic (EPSG:4756)", warnings)
    params = {p.name.lower(): p.value for p in (base.coordinate_operation.params
                                                 if base.coordinate_operation else [])}
    meridian = params.get("longitude of natural origin")
    scale = params.get("scale factor at natural origin")
    easting = params.get("false easting")
    if meridian is not None and easting is not None and abs(easting - 500000) < 1e-6:
        zones = {0.9999: VN2000_TM3_ZONES, 0.9996: VN2000_UTM}
        for k, table in zones.items():
            if scale is not None and abs(scale - k) < 1e-9:
                for srid, cm in table.items():
                    if abs(cm - meridian) < 1e-6:
                        kind = "TM-3" if k == 0.9999 else "UTM"
                        return Recognised(
                            srid, f"VN-2000 {kind} kinh tuyến trục {cm:g}° (EPSG:{srid})", warnings)
    raise ValueError(f"VN-2000 với tham số không nhận ra (kinh tuyến trục {meridian}, "
                     f"hệ số {scale}, dịch Đông {easting})")


def _declared_shift(definition: str, crs: CRS) -> tuple[float, ...] | None:
    """The file's datum shift as ``+towgs84`` reads it (position vector: metres, arc-seconds,
    ppm), or None when it declares none.

    WKT1 and PROJ strings are read from the text itself: PROJ silently reinterprets a WKT1
    TOWGS84 that matches a coordinate-frame transformation in its database, which would hide
    the very sign error worth reporting. WKT2 names its method, so its parameters are exact.
    """
    found = _TOWGS84_WKT1.search(definition) or _TOWGS84_PROJ.search(definition)
    if found:
        try:
            values = [float(v) for v in found.group(1).split(",")]
        except ValueError:
            return None
        return tuple(values + [0.0] * (7 - len(values)))[:7] if len(values) in (3, 7) else None
    operation = crs.coordinate_operation if crs.is_bound else None
    if operation is None or len(operation.params) not in (3, 7):
        return _shift_in_datum_name(definition)
    values = []
    for n, p in enumerate(operation.params):
        factor = p.unit_conversion_factor or 1.0
        if n < 3:
            values.append(p.value * factor)
        elif n < 6:
            values.append(p.value * factor / _ARCSEC)
        else:
            ratio = p.value * factor
            values.append((ratio - 1) * 1e6 if abs(ratio - 1) < 0.01 else ratio * 1e6)
    values += [0.0] * (7 - len(values))
    if "coordinate frame" in operation.method_name.lower():
        values[3:6] = [-v for v in values[3:6]]
    return tuple(values)


def _shift_in_datum_name(definition: str) -> tuple[float, ...] | None:
    """The shift GDAL folds into an ESRI datum name when a PROJ string had ``+towgs84``
    (``D_Unknown_based_on_WGS_84_ellipsoid_using_towgs84_-191_90441429_..._0_252906278``), where
    points and commas both became underscores: read only when every value had decimals."""
    found = _TOWGS84_NAME.search(definition)
    tokens = found.group(1).strip("_").split("_") if found else []
    if len(tokens) not in (6, 14):
        return None
    try:
        values = [float(f"{a}.{b}") for a, b in zip(tokens[::2], tokens[1::2], strict=True)]
    except ValueError:
        return None
    return tuple(values + [0.0] * (7 - len(values)))


def shift_offset_m(shift: tuple[float, ...], at: tuple[float, float] = LAI_CHAU) -> float:
    """How far (metres) a VN-2000 position lands from the national transformation's answer when
    moved to WGS 84 with ``shift`` instead."""
    def moved(towgs84: tuple[float, ...]) -> tuple[float, float]:
        source = CRS.from_proj4("+proj=longlat +ellps=WGS84 +towgs84="
                                + ",".join(f"{v:.12g}" for v in towgs84) + " +no_defs")
        return Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True).transform(*at)

    (x0, y0), (x1, y1) = moved(VN2000_TOWGS84), moved(shift)
    return float(Geod(ellps="WGS84").inv(x0, y0, x1, y1)[2])


def _shift_warnings(shift: tuple[float, ...] | None) -> tuple[tuple[str, str], ...]:
    """A warning when the file's shift is not the national one (Decision 05/2007)."""
    if shift is None or all(abs(a - b) < 1e-6 for a, b in zip(shift, VN2000_TOWGS84, strict=True)):
        return ()
    flipped = (*VN2000_TOWGS84[:3], *(-v for v in VN2000_TOWGS84[3:6]), VN2000_TOWGS84[6])
    if not any(shift):
        why = ("TOWGS84 bằng 0, tức coi VN-2000 như WGS 84 (thiếu phép dịch)",
               "a zero TOWGS84 treats VN-2000 as WGS 84 (the shift is missing)")
    elif all(abs(a - b) < 1e-6 for a, b in zip(shift, flipped, strict=True)):
        why = ("các góc xoay mang dấu của Quyết định (quy ước coordinate frame) trong khi TOWGS84 "
               "theo quy ước position vector, cần đổi dấu",
               "the rotations carry the Decision's signs (coordinate-frame convention) while "
               "TOWGS84 takes the position-vector convention: their signs must be flipped")
    else:
        why = ("tham số khác tham số quốc gia", "the parameters differ from the national ones")
    metres = shift_offset_m(shift)
    given = ",".join(f"{v:.9g}" for v in shift)
    national = ",".join(f"{v:.9g}" for v in VN2000_TOWGS84)
    return ((
        f"TOWGS84 trong tệp ({given}) khác 7 tham số quốc gia của Quyết định 05/2007/QĐ-BTNMT "
        f"({national}): {why[0]}; phần mềm dùng TOWGS84 này đặt điểm lệch khoảng {metres:.1f} m "
        "ở Lai Châu. Đã chuyển sang WGS 84 bằng tham số quốc gia; nếu tọa độ của tệp được tính "
        "bằng chính TOWGS84 này (từ GPS), hãy kiểm tra lại vị trí và sửa tệp .prj.",
        f"The file's TOWGS84 ({given}) differs from the national seven parameters of Decision "
        f"05/2007/QĐ-BTNMT ({national}): {why[1]}; software using this TOWGS84 puts points about "
        f"{metres:.1f} m off in Lai Châu. The national parameters were used to reach WGS 84; if "
        "the file's coordinates were computed with this TOWGS84 (from GPS), check the positions "
        "and correct the .prj."),)
