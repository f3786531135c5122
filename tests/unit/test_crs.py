import pytest
from pyproj import Transformer

from gis_core.crs import CRS84_URI, bbox_to_crs84, parse_crs, vn2000_tm3_proj4
from gis_core.errors import InvalidParameterError

# CRS.md: Lai Châu reference points computed with EPSG:9205.
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
