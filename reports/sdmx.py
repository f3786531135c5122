"""The indicator catalogue, targets and values as SDMX 2.1: a data structure definition
(dimensions indicator, area (GSO codes), period; attributes unit, target, legal basis, status)
and data messages as SDMX-ML (generic data), SDMX-CSV 2.0 and SDMX-JSON 1.0, for the Government's reporting
system (Decree 47/2020). Figures about fewer than 5 households are withheld (``OBS_STATUS`` C).
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from gis_core.errors import InvalidParameterError, NotFoundError
from governance.access import ANONYMOUS, CURRENT
from reports.figures import data_moment
from scenarios.engine import Request, evaluate
from scenarios.indicators import INDICATORS, Indicator, get_indicator
from scenarios.period import check_period, previous
from scenarios.selection import ProvinceSelection, resolve

AGENCY = "LAICHAU_IOC"
VERSION = "1.0"
FLOW, DSD, SCHEME = "DF_IOC_INDICATORS", "DSD_IOC_INDICATORS", "CS_IOC_INDICATORS"
PROVINCE_CODE = "12"  # Lai Châu in the GSO's list of provinces
MAX_PERIODS = 12
NS = {
    "mes": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
    "str": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
    "com": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
    "gen": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONCEPTS = {
    "INDICATOR": ("Chỉ tiêu", "Indicator"), "REF_AREA": ("Đơn vị hành chính", "Reference area"),
    "TIME_PERIOD": ("Kỳ", "Time period"), "OBS_VALUE": ("Giá trị", "Observation value"),
    "UNIT_MEASURE": ("Đơn vị tính", "Unit of measure"), "TARGET": ("Mục tiêu", "Target"),
    "LEGAL_BASIS": ("Căn cứ pháp lý", "Legal basis"), "OBS_STATUS": ("Trạng thái số liệu",
                                                                     "Observation status"),
    "TARGET_STATUS": ("Đánh giá so với mục tiêu", "Status against the target"),
}
ATTRIBUTES = ("UNIT_MEASURE", "TARGET", "LEGAL_BASIS", "OBS_STATUS", "TARGET_STATUS")
OBS_STATUS = {"A": ("Bình thường", "Normal"), "M": ("Không có số liệu", "Missing"),
              "C": ("Ẩn để bảo vệ thông tin (dưới 5 hộ)", "Confidential (fewer than 5 households)")}
CSV_MEDIA = "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8"
XML_DATA_MEDIA = "application/vnd.sdmx.genericdata+xml; version=2.1"
XML_STRUCTURE_MEDIA = "application/vnd.sdmx.structure+xml; version=2.1"
JSON_DATA_MEDIA = "application/vnd.sdmx.data+json; version=1.0.0; charset=utf-8"


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _names(parent: etree._Element, vi: str, en: str) -> None:
    for lang, text in (("vi", vi), ("en", en)):
        el = etree.SubElement(parent, _q("com", "Name"))
        el.set(XML_LANG, lang)
        el.text = text


def _header(root: etree._Element, message_id: str) -> etree._Element:
    header = etree.SubElement(root, _q("mes", "Header"))
    etree.SubElement(header, _q("mes", "ID")).text = message_id
    etree.SubElement(header, _q("mes", "Test")).text = "false"
    etree.SubElement(header, _q("mes", "Prepared")).text = datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%S")
    etree.SubElement(header, _q("mes", "Sender")).set("id", AGENCY)
    return header


def _ref(parent: etree._Element, id: str, cls: str, package: str, **extra: str) -> None:
    ref = etree.SubElement(parent, "Ref")
    for k, v in {"id": id, "agencyID": AGENCY, "version": VERSION, "class": cls, "package": package,
                 **extra}.items():
        ref.set(k, v)


def _maintainable(parent: etree._Element, tag: str, id: str, vi: str, en: str) -> etree._Element:
    el = etree.SubElement(parent, _q("str", tag))
    el.set("id", id)
    el.set("agencyID", AGENCY)
    el.set("version", VERSION)
    el.set("isFinal", "true")
    _names(el, vi, en)
    return el


def areas(cursor: Any) -> list[tuple[str, str]]:
    """(GSO code, name): the province, then its communes."""
    cursor.execute("SELECT code, name FROM communes ORDER BY code")
    return [(PROVINCE_CODE, "Tỉnh Lai Châu"), *cursor.fetchall()]


def structure(cursor: Any) -> bytes:
    """The SDMX-ML 2.1 structure message: dataflow, codelists, concepts and the DSD."""
    root = etree.Element(_q("mes", "Structure"), nsmap={k: NS[k] for k in ("mes", "str", "com")})
    _header(root, "IOC_STRUCTURE")
    structures = etree.SubElement(root, _q("mes", "Structures"))
    flows = etree.SubElement(structures, _q("str", "Dataflows"))
    flow = _maintainable(flows, "Dataflow", FLOW, "Chỉ tiêu kinh tế – xã hội tỉnh Lai Châu",
                         "Lai Châu socio-economic indicators")
    _ref(etree.SubElement(flow, _q("str", "Structure")), DSD, "DataStructure", "datastructure")
    lists = etree.SubElement(structures, _q("str", "Codelists"))
    cl = _maintainable(lists, "Codelist", "CL_INDICATOR", "Danh mục chỉ tiêu", "Indicators")
    for ind in INDICATORS:
        code = etree.SubElement(cl, _q("str", "Code"))
        code.set("id", ind.id)
        _names(code, ind.name["vi"], ind.name["en"])
    cl = _maintainable(lists, "Codelist", "CL_AREA", "Đơn vị hành chính (mã Tổng cục Thống kê)",
                       "Administrative units (GSO codes)")
    for code_id, name in areas(cursor):
        code = etree.SubElement(cl, _q("str", "Code"))
        code.set("id", code_id)
        _names(code, name, name)
    cl = _maintainable(lists, "Codelist", "CL_OBS_STATUS", "Trạng thái số liệu", "Observation status")
    for code_id, (vi, en) in OBS_STATUS.items():
        code = etree.SubElement(cl, _q("str", "Code"))
        code.set("id", code_id)
        _names(code, vi, en)
    concepts = etree.SubElement(structures, _q("str", "Concepts"))
    scheme = _maintainable(concepts, "ConceptScheme", SCHEME, "Khái niệm", "Concepts")
    for concept_id, (vi, en) in CONCEPTS.items():
        c = etree.SubElement(scheme, _q("str", "Concept"))
        c.set("id", concept_id)
        _names(c, vi, en)
    dsds = etree.SubElement(structures, _q("str", "DataStructures"))
    dsd = _maintainable(dsds, "DataStructure", DSD, "Cấu trúc dữ liệu chỉ tiêu", "Indicator data")
    comps = etree.SubElement(dsd, _q("str", "DataStructureComponents"))
    dims = etree.SubElement(comps, _q("str", "DimensionList"))
    dims.set("id", "DimensionDescriptor")
    for pos, (dim_id, codelist) in enumerate((("INDICATOR", "CL_INDICATOR"), ("REF_AREA", "CL_AREA")), 1):
        d = etree.SubElement(dims, _q("str", "Dimension"))
        d.set("id", dim_id)
        d.set("position", str(pos))
        _concept(d, dim_id)
        enum = etree.SubElement(etree.SubElement(d, _q("str", "LocalRepresentation")),
                                _q("str", "Enumeration"))
        _ref(enum, codelist, "Codelist", "codelist")
    t = etree.SubElement(dims, _q("str", "TimeDimension"))
    t.set("id", "TIME_PERIOD")
    t.set("position", "3")
    _concept(t, "TIME_PERIOD")
    etree.SubElement(etree.SubElement(t, _q("str", "LocalRepresentation")),
                     _q("str", "TextFormat")).set("textType", "ObservationalTimePeriod")
    attrs = etree.SubElement(comps, _q("str", "AttributeList"))
    attrs.set("id", "AttributeDescriptor")
    for attr_id in ATTRIBUTES:
        a = etree.SubElement(attrs, _q("str", "Attribute"))
        a.set("id", attr_id)
        a.set("assignmentStatus", "Mandatory" if attr_id == "OBS_STATUS" else "Conditional")
        _concept(a, attr_id)
        if attr_id == "OBS_STATUS":
            enum = etree.SubElement(etree.SubElement(a, _q("str", "LocalRepresentation")),
                                    _q("str", "Enumeration"))
            _ref(enum, "CL_OBS_STATUS", "Codelist", "codelist")
        rel = etree.SubElement(a, _q("str", "AttributeRelationship"))
        etree.SubElement(etree.SubElement(rel, _q("str", "PrimaryMeasure")), "Ref").set("id", "OBS_VALUE")
    measures = etree.SubElement(comps, _q("str", "MeasureList"))
    measures.set("id", "MeasureDescriptor")
    m = etree.SubElement(measures, _q("str", "PrimaryMeasure"))
    m.set("id", "OBS_VALUE")
    _concept(m, "OBS_VALUE")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _concept(parent: etree._Element, concept_id: str) -> None:
    _ref(etree.SubElement(parent, _q("str", "ConceptIdentity")), concept_id, "Concept",
         "conceptscheme", maintainableParentID=SCHEME, maintainableParentVersion=VERSION)
    # a Concept's Ref carries its scheme as the maintainable parent, not its own version
    ref = parent[-1][0]
    del ref.attrib["version"]


def parse_key(key: str | None, cursor: Any) -> tuple[list[Indicator], list[str]]:
    """``INDICATOR.REF_AREA`` (``+`` for several, empty or ``all`` for every one)."""
    known_areas = [c for c, _ in areas(cursor)]
    if key in (None, "", "all"):
        return list(INDICATORS), known_areas
    parts = key.split(".")
    if len(parts) != 2:
        raise InvalidParameterError(
            f"Khóa '{key}' không hợp lệ: dạng CHỈ_TIÊU.MÃ_ĐƠN_VỊ, ví dụ poor_household_rate.12.",
            message_en=f"Key '{key}' is invalid: use INDICATOR.REF_AREA, e.g. poor_household_rate.12.",
            parameter="key")
    inds = [get_indicator(i) for i in parts[0].split("+")] if parts[0] else list(INDICATORS)
    if any(i is None for i in inds):
        raise NotFoundError(f"Không có chỉ tiêu trong khóa '{key}'.",
                            message_en=f"No such indicator in key '{key}'.", parameter="key")
    chosen = parts[1].split("+") if parts[1] else known_areas
    unknown = [a for a in chosen if a not in known_areas]
    if unknown:
        raise NotFoundError(f"Không có đơn vị {', '.join(unknown)}.",
                            message_en=f"No such area: {', '.join(unknown)}.", parameter="key")
    return inds, chosen  # type: ignore[return-value]


def periods(start: str | None, end: str | None, default: str) -> list[str]:
    """The periods from ``start`` to ``end`` (of one kind), oldest first; at most 12."""
    end = check_period(end or start or default, "endPeriod")
    start = check_period(start or end, "startPeriod")
    if len(start) != len(end) or ("Q" in start) != ("Q" in end) or start > end:
        raise InvalidParameterError(
            "startPeriod và endPeriod phải cùng loại kỳ và startPeriod không sau endPeriod.",
            message_en="startPeriod and endPeriod must be periods of one kind, start not after end.",
            parameter="startPeriod")
    out = [end]
    while out[-1] != start:
        out.append(previous(out[-1]))
        if len(out) > MAX_PERIODS:
            raise InvalidParameterError(f"Tối đa {MAX_PERIODS} kỳ trong một yêu cầu.",
                                        message_en=f"At most {MAX_PERIODS} periods per request.",
                                        parameter="startPeriod")
    return out[::-1]


def observations(cursor: Any, inds: list[Indicator], chosen: list[str], wanted: list[str]
                 ) -> list[dict[str, Any]]:
    """One row per indicator, area and period: value, unit, target, basis and statuses."""
    area = resolve(cursor, ProvinceSelection(type="province"))
    rows = []
    token = CURRENT.set(ANONYMOUS)  # what leaves the platform withholds small cells
    try:
        for period in wanted:
            as_of = data_moment(period)
            results = []
            if PROVINCE_CODE in chosen:
                r = evaluate(cursor, Request(tuple(inds), area, period, "none", drilldown_limit=0,
                                             as_of=as_of))
                results += [(PROVINCE_CODE, g) for g in r["groups"]]
            if any(c != PROVINCE_CODE for c in chosen):
                r = evaluate(cursor, Request(tuple(inds), area, period, "commune", drilldown_limit=0,
                                             as_of=as_of))
                results += [(g["key"], g) for g in r["groups"] if g["key"] in chosen]
            for code, group in results:
                for res in group["indicators"]:
                    status = "C" if res["status"] == "suppressed" else \
                        "M" if res["value"] is None else "A"
                    rows.append({"INDICATOR": res["id"], "REF_AREA": code, "TIME_PERIOD": period,
                                 "OBS_VALUE": res["value"], "UNIT_MEASURE": res["unit"],
                                 "TARGET": res["target"], "LEGAL_BASIS": res["legal_basis"],
                                 "OBS_STATUS": status, "TARGET_STATUS": res["status"]})
    finally:
        CURRENT.reset(token)
    return rows


def _value(v: Any) -> str:
    return "NaN" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:g}" \
        if isinstance(v, float) else str(v)


def generic_data(rows: list[dict[str, Any]]) -> bytes:
    """SDMX-ML 2.1 generic data message, one series per indicator and area."""
    root = etree.Element(_q("mes", "GenericData"), nsmap={k: NS[k] for k in ("mes", "gen", "com")})
    header = _header(root, "IOC_DATA")
    st = etree.SubElement(header, _q("mes", "Structure"))
    st.set("structureID", DSD)
    st.set("dimensionAtObservation", "TIME_PERIOD")
    _ref(etree.SubElement(st, _q("com", "Structure")), DSD, "DataStructure", "datastructure")
    ds = etree.SubElement(root, _q("mes", "DataSet"))
    ds.set("structureRef", DSD)
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        series.setdefault((r["INDICATOR"], r["REF_AREA"]), []).append(r)
    for (ind, code), obs in series.items():
        s = etree.SubElement(ds, _q("gen", "Series"))
        key = etree.SubElement(s, _q("gen", "SeriesKey"))
        for dim, value in (("INDICATOR", ind), ("REF_AREA", code)):
            v = etree.SubElement(key, _q("gen", "Value"))
            v.set("id", dim)
            v.set("value", value)
        for r in obs:
            o = etree.SubElement(s, _q("gen", "Obs"))
            etree.SubElement(o, _q("gen", "ObsDimension")).set("value", r["TIME_PERIOD"])
            etree.SubElement(o, _q("gen", "ObsValue")).set("value", _value(r["OBS_VALUE"]))
            attrs = etree.SubElement(o, _q("gen", "Attributes"))
            for attr in ATTRIBUTES:
                if r[attr] is not None:
                    v = etree.SubElement(attrs, _q("gen", "Value"))
                    v.set("id", attr)
                    v.set("value", _value(r[attr]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sdmx_csv(rows: list[dict[str, Any]]) -> bytes:
    """SDMX-CSV 2.0: one line per observation."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ("INDICATOR", "REF_AREA", "TIME_PERIOD", "OBS_VALUE", *ATTRIBUTES)
    writer.writerow(("STRUCTURE", "STRUCTURE_ID", "ACTION", *columns))
    for r in rows:
        writer.writerow(("dataflow", f"{AGENCY}:{FLOW}({VERSION})", "I",
                         *("" if r[c] is None else _value(r[c]) for c in columns)))
    return out.getvalue().encode("utf-8")



def sdmx_json(rows: list[dict[str, Any]]) -> bytes:
    """SDMX-JSON 1.0 data message: series by indicator and area, observations by period, each
    observation ``[value, index of each attribute's value]``."""
    import json

    def values(name: str) -> list[str]:
        return list(dict.fromkeys(r[name] for r in rows))

    dims = {d: values(d) for d in ("INDICATOR", "REF_AREA", "TIME_PERIOD")}
    attr_values = {a: [v for v in values(a) if v is not None] for a in ATTRIBUTES}
    series: dict[str, Any] = {}
    for r in rows:
        key = f"{dims['INDICATOR'].index(r['INDICATOR'])}:{dims['REF_AREA'].index(r['REF_AREA'])}"
        obs = [r["OBS_VALUE"], *(None if r[a] is None else attr_values[a].index(r[a])
                                 for a in ATTRIBUTES)]
        series.setdefault(key, {"attributes": [], "observations": {}})["observations"][
            str(dims["TIME_PERIOD"].index(r["TIME_PERIOD"]))] = obs
    names = {i.id: i.name for i in INDICATORS}

    def dim(dim_id: str, position: int) -> dict[str, Any]:
        vi, en = CONCEPTS[dim_id]
        return {"id": dim_id, "name": en, "names": {"vi": vi, "en": en}, "keyPosition": position,
                "values": [{"id": v, "name": names.get(v, {}).get("en", v)} for v in dims[dim_id]],
                **({"role": "time"} if dim_id == "TIME_PERIOD" else {})}

    message = {
        "header": {"id": "IOC_DATA", "test": False, "prepared": datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"), "sender": {"id": AGENCY}},
        "dataSets": [{"action": "Information", "series": series}],
        "structure": {
            "name": "Lai Châu socio-economic indicators",
            "dimensions": {"dataSet": [], "series": [dim("INDICATOR", 0), dim("REF_AREA", 1)],
                           "observation": [dim("TIME_PERIOD", 2)]},
            "attributes": {"dataSet": [], "series": [], "observation": [
                {"id": a, "name": CONCEPTS[a][1], "values": [{"id": _value(v), "name": _value(v)}
                                                             for v in attr_values[a]]}
                for a in ATTRIBUTES]},
        },
    }
    return json.dumps(message, ensure_ascii=False).encode("utf-8")
