import pytest
from pyproj import Transformer

from gis_core.crs import CRS84_URI, bbox_to_crs84, parse_crs, vn2000_tm3_proj4
from gis_core.errors import InvalidParameterError

# docs/crs.md: Lai Châu reference points computed with EPSG:9205.
REFERENCE = [((103.4583, 22.3964), (546991.573, 2477623.919)),
             ((102.83, 22.37), (482296.995, 2474638.781))]


@pytest.mark.parametrize(("lonlat", "en"), REFERENCE)
def test_pyproj_reproduces_the_reference_points(lonlat, en):
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:9205", always_xy=True).transform(*lonlat)
    assert abs(x - en[0]) < 0.002 and abs(y - en[1]) < 0.002


@pytest.mark.parametrize(("lonlat", "en"), REFERENCE)
def test_our_proj_string_matches_epsg(lonlat, en):
    x, y = Transformer.from_crs("EPSG:4326", vn2000_tm3_proj4(103.0), always_xy=True
                                ).transform(*lonlat)
    assert abs(x - en[0]) < 0.002 and abs(y - en[1]) < 0.002


def test_ninh_thuan_published_pair_and_the_sign_trap():
    t = Transformer.from_crs("EPSG:4326", vn2000_tm3_proj4(108.25), always_xy=True)
    x, y = t.transform(108.87720114429756, 11.349358065695681)
    assert abs(x - 568262.924) < 0.005 and abs(y - 1255172.51) < 0.005
    wrong = vn2000_tm3_proj4(108.25).replace("0.00928836,-0.01975479,0.00427372",
                                             "-0.00928836,0.01975479,-0.00427372")
    xw, yw = Transformer.from_crs("EPSG:4326", wrong, always_xy=True).transform(
        108.87720114429756, 11.349358065695681)
    assert ((xw - x) ** 2 + (yw - y) ** 2) ** 0.5 > 0.3


@pytest.mark.parametrize("value", [
    "http://www.opengis.net/def/crs/EPSG/0/9205", "EPSG:9205", "[EPSG:9205]", "epsg:9205"])
def test_crs_spellings(value):
    assert parse_crs(value).srid == 9205


def test_axis_order():
    assert parse_crs("EPSG:4326").lat_first
    assert not parse_crs(CRS84_URI).lat_first
    assert not parse_crs("EPSG:9208").lat_first


def test_unknown_crs_names_the_parameter():
    with pytest.raises(InvalidParameterError) as err:
        parse_crs("EPSG:2000", "bbox-crs")
    assert err.value.parameter == "bbox-crs" and "bbox-crs" in err.value.message


def test_projected_bbox_is_densified_not_cornered():
    crs = parse_crs("EPSG:9205")
    box = (440000.0, 2400000.0, 560000.0, 2520000.0)
    dense = bbox_to_crs84(box, crs)
    t = Transformer.from_crs("EPSG:9205", "OGC:CRS84", always_xy=True)
    corners = [t.transform(x, y) for x in (box[0], box[2]) for y in (box[1], box[3])]
    # The top edge bulges north of its corners in a transverse Mercator grid.
    assert dense[3] > max(c[1] for c in corners)
    assert dense[0] <= min(c[0] for c in corners) and dense[2] >= max(c[0] for c in corners)


# --- recognising a .prj ----------------------------------------------------------------------
# The national shift as +towgs84 (position vector) and with the Decision's coordinate-frame
# signs copied verbatim (the sign trap of docs/crs.md).
NATIONAL = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
WRONG_SIGNS = "-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278"
TM3_103 = ("+proj=tmerc +lat_0=0 +lon_0=103 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
           "+towgs84={} +units=m +no_defs")
# WKT1 as MapInfo and QGIS write it: datum VN-2000 with TOWGS84, no AUTHORITY anywhere.
WKT1 = ('PROJCS["VN-2000 / TM-3 103-00",GEOGCS["VN-2000",DATUM["Vietnam_2000",'
        'SPHEROID["WGS 84",6378137,298.257223563]{}],PRIMEM["Greenwich",0],'
        'UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",103],'
        'PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],'
        'PARAMETER["false_northing",0],UNIT["metre",1],AXIS["Easting",EAST],'
        'AXIS["Northing",NORTH]]')


def _wkt2_bound(towgs84: str, method: str = "position vector") -> str:
    from pyproj import CRS

    wkt = CRS.from_proj4(TM3_103.format(towgs84)).to_wkt("WKT2_2019")
    if method == "coordinate frame":
        wkt = wkt.replace("Position Vector transformation (geog2D domain)",
                          "Coordinate Frame rotation (geog2D domain)").replace(
            'ID["EPSG",9606]', 'ID["EPSG",9607]')
    return wkt


def _esri_gdal_wrote(towgs84: str) -> str:
    """The .prj GDAL writes beside a Shapefile whose CRS was a PROJ string with +towgs84."""
    from pyproj import CRS

    name = "D_Unknown_based_on_WGS_84_ellipsoid_using_towgs84_" + towgs84.replace(
        ".", "_").replace(",", "_")
    return CRS.from_epsg(9205).to_wkt("WKT1_ESRI").replace("D_Vietnam_2000", name).replace(
        "GCS_VN_2000", "GCS_unknown")


def _wkt1_epsg(code: int) -> str:
    from pyproj import CRS

    return CRS.from_epsg(code).to_wkt("WKT1_GDAL")


@pytest.mark.parametrize(("definition", "srid"), [
    pytest.param(lambda: _wkt1_epsg(9205), 9205, id="wkt1-epsg"),
    pytest.param(lambda: WKT1.format(""), 9205, id="wkt1-no-towgs84"),
    pytest.param(lambda: WKT1.format(f",TOWGS84[{NATIONAL}]"), 9205, id="wkt1-towgs84"),
    pytest.param(lambda: WKT1.format(f",TOWGS84[{NATIONAL}]").replace("103", "104.75")
                 .replace("103-00", "104-45"), 9208, id="wkt1-towgs84-104.75"),
    pytest.param(lambda: __import__("pyproj").CRS.from_epsg(9205).to_wkt("WKT1_ESRI"), 9205,
                 id="esri"),
    pytest.param(lambda: _esri_gdal_wrote(NATIONAL), 9205, id="esri-from-gdal-proj-string"),
    pytest.param(lambda: __import__("pyproj").CRS.from_epsg(9205).to_wkt("WKT2_2019"), 9205,
                 id="wkt2-epsg"),
    pytest.param(lambda: _wkt2_bound(NATIONAL), 9205, id="wkt2-bound"),
    pytest.param(lambda: _wkt2_bound(WRONG_SIGNS, "coordinate frame"), 9205,
                 id="wkt2-bound-coordinate-frame"),
    pytest.param(lambda: TM3_103.format(NATIONAL), 9205, id="proj-string"),
    pytest.param(lambda: _wkt1_epsg(3405), 3405, id="utm-48n"),
    pytest.param(lambda: _wkt1_epsg(4756), 4756, id="geographic"),
])
def test_vn2000_definitions_with_the_national_shift_are_recognised_without_warning(definition,
                                                                                    srid):
    from gis_core.crs import recognise_crs

    found = recognise_crs(definition())
    assert found.srid == srid and f"EPSG:{srid}" in found.note
    assert found.warnings == ()


@pytest.mark.parametrize(("definition", "metres", "words"), [
    pytest.param(lambda: WKT1.format(f",TOWGS84[{WRONG_SIGNS}]"), 0.79, "signs",
                 id="wkt1-wrong-signs"),
    pytest.param(lambda: TM3_103.format(WRONG_SIGNS), 0.79, "signs", id="proj-wrong-signs"),
    pytest.param(lambda: _esri_gdal_wrote(WRONG_SIGNS), 0.79, "signs", id="esri-wrong-signs"),
    pytest.param(lambda: _wkt2_bound(WRONG_SIGNS), 0.79, "signs", id="wkt2-wrong-signs"),
    pytest.param(lambda: WKT1.format(",TOWGS84[0,0,0,0,0,0,0]"), 223, "missing",
                 id="wkt1-no-shift"),
    pytest.param(lambda: WKT1.format(",TOWGS84[-192,-39,-111]"), None, "differ",
                 id="wkt1-three-parameters"),
])
def test_a_shift_unlike_the_national_one_is_named_with_its_effect(definition, metres, words):
    from gis_core.crs import recognise_crs

    found = recognise_crs(definition())
    assert found.srid == 9205
    (vi, en), = found.warnings
    assert words in en and "05/2007" in vi and "national parameters were used" in en
    shown = float(en.split("about ")[1].split(" m")[0])
    if metres is not None:
        assert abs(shown - metres) < 0.02 * metres + 0.01
    assert f"{shown:.1f} m" in vi


def test_unrecognisable_vn2000_parameters_are_named():
    from gis_core.crs import recognise_crs

    with pytest.raises(ValueError, match="kinh tuyến trục 101"):
        recognise_crs(WKT1.format(f",TOWGS84[{NATIONAL}]").replace("central_meridian\",103",
                                                                  "central_meridian\",101"))
