"""Reconciling a layer with an authoritative extract (a cadastral or population register file, as
those offices hand it out, VN-2000 included): match by key and by place, and report what matches,
what is missing on either side, and attributes or positions that disagree beyond a tolerance.

Nothing in the layer changes: each disagreement is kept as a finding (a quality failure of the
feature, read by the "correct" score) with, where the register says what the value should be, a
proposed correction that a person may accept as an edit for approval.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from psycopg2 import sql
from sqlalchemy.engine import Connection

from gis_core.crs import to_wgs84
from gis_core.errors import InvalidParameterError
from layers.fields import clean_text, fold
from layers.imports import readers
from layers.imports.load import parse_source_crs, sha256_of
from layers.registry import get_layer, require_layer
from layers.spec import LayerSpec

MAX_RECORDS = 500_000
METRIC = 9205  # VN-2000 / TM-3 103°: distances in metres across the province


@dataclass(frozen=True)
class Spec:
    """How a register extract is compared with a layer."""

    layer: str
    key: dict[str, str]  # layer field → extract column, e.g. map_sheet: SO_TO
    compare: dict[str, str] = field(default_factory=dict)  # layer field → extract column
    tolerance_m: float = 5.0
    crs: str | None = None
    commune: str | None = None  # the scope: one commune's features (an extract is per commune)
    source_layer: str | None = None


def _bad(vi: str, en: str, parameter: str = "spec") -> InvalidParameterError:
    return InvalidParameterError(vi, message_en=en, parameter=parameter)


def parse_spec(text: str | bytes) -> Spec:
    """A comparison spec from YAML or JSON; ``InvalidParameterError`` naming what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise _bad(f"Mô tả đối chiếu không phải YAML/JSON: {err}",
                   f"The reconciliation spec is not YAML/JSON: {err}") from None
    if not isinstance(data, dict) or not data.get("layer") or not data.get("key"):
        raise _bad("Mô tả đối chiếu cần 'layer' và 'key' ({trường: cột})",
                   "The spec needs 'layer' and 'key' ({field: column}).")
    unknown = sorted(set(data) - set(Spec.__dataclass_fields__))
    if unknown:
        raise _bad(f"Mục không biết: {', '.join(unknown)}.", f"Unknown entries: {', '.join(unknown)}.")
    layer = get_layer(str(data["layer"]))
    if layer is None:
        raise _bad(f"Không có lớp '{data['layer']}'.", f"No layer '{data['layer']}'.", "layer")
    names = {f.name for f in layer.fields}
    for part in ("key", "compare"):
        table = data.get(part) or {}
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise _bad(f"'{part}' là bảng {{trường: cột}}.", f"'{part}' is a {{field: column}} table.",
                       part)
        wrong = sorted(set(table) - names)
        if wrong:
            raise _bad(f"Lớp '{layer.id}' không có trường {', '.join(wrong)}.",
                       f"Layer '{layer.id}' has no field {', '.join(wrong)}.", part)
    tolerance = data.get("tolerance_m", 5.0)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or \
            not 0 <= tolerance <= 10_000:
        raise _bad("'tolerance_m' là số mét từ 0 đến 10000.",
                   "'tolerance_m' is a number of metres from 0 to 10000.", "tolerance_m")
    return Spec(layer=layer.id, key={str(k): v for k, v in data["key"].items()},
                compare={str(k): v for k, v in (data.get("compare") or {}).items()},
                tolerance_m=float(tolerance), crs=data.get("crs"),
                commune=str(data["commune"]) if data.get("commune") else None,
                source_layer=data.get("source_layer"))


def _norm(value: Any) -> str | None:
    """A value as compared: text in NFC without stray spaces; whole numbers without '.0'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(round(number, 6))
    return clean_text(value) or None


def _typed(layer: LayerSpec, name: str, text: str | None) -> Any:
    """A compared value back in the field's type, for a proposed correction."""
    kind = layer.field(name).type
    if text is None or kind not in ("integer", "number"):
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if kind == "integer" and number.is_integer() else number


def _same(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    if a is None or b is None:
        return False
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)
    except ValueError:
        return a.casefold() == b.casefold()


@dataclass
class Register:
    """The extract read: one key, attribute values and geometry (in metres) per record."""

    keys: list[tuple[str | None, ...]]
    values: list[dict[str, str | None]]
    shapes: np.ndarray
    file_name: str
    file_sha256: str
    note: str


def read_register(path: Path, spec: Spec, file_name: str | None = None) -> Register:
    """Read the extract with the import readers (encodings, CRS recognition, zip, shapefile)."""
    wanted = [*spec.key.values(), *spec.compare.values()]
    with readers.opened(path, source_layer=spec.source_layer, max_features=MAX_RECORDS,
                        geometry_type="MultiPolygon") as source:
        header = {fold(c): n for n, c in enumerate(source.columns)}
        missing = [c for c in wanted if c not in source.columns and fold(c) not in header]
        if missing:
            raise _bad(f"Tệp trích lục không có cột {', '.join(missing)}.",
                       f"The extract has no column {', '.join(missing)}.", "file")
        at = {c: source.columns.index(c) if c in source.columns else header[fold(c)]
              for c in wanted}
        srid = parse_source_crs(spec.crs) if spec.crs else source.srid
        if srid is None and source.geometry is not None:
            raise _bad("Không rõ hệ tọa độ của tệp trích lục; ghi 'crs: EPSG:9205' trong mô tả.",
                       "The extract's CRS is unknown; write 'crs: EPSG:9205' in the spec.", "crs")
        geoms = np.array(source.geometry if source.geometry is not None
                         else [None] * len(source.rows), dtype=object)
        rows = source.rows
        note = f"EPSG:{srid}" if srid else "không có hình học / no geometry"
    present = np.array([g is not None for g in geoms], dtype=bool)
    shapes = np.empty(len(geoms), dtype=object)
    if present.any():
        shapes[present] = _metres(_wgs84(geoms[present], srid or 4326))
    keys = [tuple(_norm(row[at[c]]) for c in spec.key.values()) for row in rows]
    values = [{f: _norm(row[at[c]]) for f, c in spec.compare.items()} for row in rows]
    return Register(keys, values, shapes, file_name or path.name, sha256_of(path), note)


def _wgs84(geoms: np.ndarray, srid: int) -> np.ndarray:
    geoms = shapely.force_2d(geoms)
    if srid == 4326:
        return geoms
    move = to_wgs84(srid)
    return shapely.transform(geoms, lambda xy: np.column_stack(move.transform(xy[:, 0], xy[:, 1])))


def _metres(geoms: np.ndarray) -> np.ndarray:
    """WGS 84 geometries in VN-2000 TM-3 103° metres (one transformation for both sides)."""
    back = to_wgs84(METRIC)
    return shapely.transform(geoms, lambda xy: np.column_stack(
        back.transform(xy[:, 0], xy[:, 1], direction="INVERSE")))


def _features(conn: Connection, layer: LayerSpec, spec: Spec) -> list[dict[str, Any]]:
    fields = list(dict.fromkeys([*spec.key, *spec.compare]))
    where = sql.SQL("")
    params: dict[str, Any] = {}
    if spec.commune:
        where = sql.SQL(" WHERE commune_code = %(c)s")
        params["c"] = spec.commune
    query = sql.SQL("SELECT id, ST_AsBinary(geom) AS wkb, {} FROM {}{} ORDER BY id").format(
        sql.SQL(", ").join(map(sql.Identifier, fields)), sql.Identifier(layer.id), where)
    cur = conn.connection.cursor()
    cur.execute(query.as_string(cur), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def compare(conn: Connection, spec: Spec, register: Register) -> dict[str, Any]:
    """Match every feature to the register by key, then by place; the counts and findings."""
    layer = require_layer(spec.layer)
    rows = _features(conn, layer, spec)
    by_key: dict[tuple[str | None, ...], list[int]] = {}
    for n, key in enumerate(register.keys):
        if any(part is not None for part in key):
            by_key.setdefault(key, []).append(n)
    findings: list[dict[str, Any]] = []
    for key, found in by_key.items():
        if len(found) > 1:
            findings.append({"kind": "register_duplicate", "register_key": "/".join(map(str, key)),
                             "register_value": str(len(found))})
    present = [n for n, s in enumerate(register.shapes) if s is not None]
    tree = shapely.STRtree(np.array([register.shapes[n] for n in present], dtype=object)) \
        if present else None
    points = _metres(shapely.from_wkb([bytes(r["wkb"]) for r in rows])) if rows else []
    used: set[int] = set()
    matched = 0
    for row, point in zip(rows, points, strict=True):
        key = tuple(_norm(row[f]) for f in spec.key)
        hits = by_key.get(key, [])
        placed = [present[i] for i in tree.query(point, predicate="intersects")] \
            if tree is not None and point is not None else []
        base = {"feature_id": row["id"], "register_key": "/".join(map(str, key))}
        if not hits:
            used.update(placed)
            if placed:
                other = register.keys[placed[0]]
                proposal = {f: v for f, v, mine in zip(spec.key, other, key, strict=True)
                            if v != mine}
                findings += [{**base, "kind": "key", "field": f, "layer_value": key[i],
                              "register_value": other[i],
                              "proposal": {f: _typed(layer, f, other[i])}}
                             for i, f in enumerate(spec.key) if f in proposal]
            else:
                findings.append({**base, "kind": "missing_in_register"})
            continue
        n = hits[0]
        used.update(hits)
        ok = True
        shape = register.shapes[n]
        if shape is not None and point is not None:
            distance = float(shapely.distance(point, shape))
            if distance > spec.tolerance_m:
                ok = False
                findings.append({**base, "kind": "position", "distance_m": round(distance, 2)})
        for f, value in register.values[n].items():
            mine = _norm(row[f])
            if not _same(mine, value):
                ok = False
                findings.append({**base, "kind": "attribute", "field": f, "layer_value": mine,
                                 "register_value": value, "proposal": {f: _typed(layer, f, value)}})
        matched += ok
    for n, key in enumerate(register.keys):
        if n not in used and any(part is not None for part in key):
            findings.append({"kind": "missing_in_layer", "register_key": "/".join(map(str, key))})
    counts = {"features": len(rows), "register": len(register.keys), "matched": matched}
    for kind in ("attribute", "position", "key", "missing_in_register", "missing_in_layer",
                 "register_duplicate"):
        counts[kind] = sum(f["kind"] == kind for f in findings)
    return {"counts": counts, "findings": findings}


def record(conn: Connection, spec: Spec, register: Register, result: dict[str, Any], actor: str
           ) -> int:
    """Keep the reconciliation and its findings; the open findings of the previous one of the
    same layer and scope are superseded. Returns its id."""
    cur = conn.connection.cursor()
    scope = spec.commune or ""
    cur.execute("UPDATE reconciliation_findings f SET status = 'superseded' FROM reconciliations r "
                "WHERE f.reconciliation = r.id AND r.layer = %s AND r.scope = %s "
                "AND f.status = 'open'", (spec.layer, scope))
    cur.execute("INSERT INTO reconciliations (layer, scope, file_name, file_sha256, spec, counts, "
                "actor) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (spec.layer, scope, register.file_name, register.file_sha256,
                 json.dumps(asdict(spec), ensure_ascii=False), json.dumps(result["counts"]), actor))
    rec = cur.fetchone()[0]
    for f in result["findings"]:
        cur.execute(
            "INSERT INTO reconciliation_findings (reconciliation, layer, feature_id, register_key, "
            "kind, field, layer_value, register_value, distance_m, proposal) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (rec, spec.layer, f.get("feature_id"), f.get("register_key"), f["kind"], f.get("field"),
             f.get("layer_value"), f.get("register_value"), f.get("distance_m"),
             json.dumps(f["proposal"], ensure_ascii=False) if f.get("proposal") else None))
    return rec


def reconcile(conn: Connection, spec: Spec, path: Path, actor: str, file_name: str | None = None
              ) -> dict[str, Any]:
    """Read, compare and record in the caller's transaction; the reconciliation as ``report``."""
    register = read_register(path, spec, file_name)
    result = compare(conn, spec, register)
    rec = record(conn, spec, register, result, actor)
    return report(conn, rec)


def report(conn: Connection, rec: int) -> dict[str, Any]:
    """A reconciliation with its counts and every finding."""
    cur = conn.connection.cursor()
    cur.execute("SELECT id, layer, scope, file_name, file_sha256, spec, counts, actor, run_at "
                "FROM reconciliations WHERE id = %s", (rec,))
    row = cur.fetchone()
    if row is None:
        from gis_core.errors import NotFoundError

        raise NotFoundError(f"Không có lần đối chiếu {rec}.", message_en=f"No reconciliation {rec}.")
    names = [d[0] for d in cur.description]
    out = dict(zip(names, row, strict=True))
    cur.execute("SELECT id, feature_id, register_key, kind, field, layer_value, register_value, "
                "distance_m, proposal, status, edit_id FROM reconciliation_findings WHERE "
                "reconciliation = %s ORDER BY id", (rec,))
    names = [d[0] for d in cur.description]
    out["findings"] = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return out


def masked(out: dict[str, Any], personal: set[str]) -> dict[str, Any]:
    """The report with the values of personal fields hidden (for callers who may not read them);
    a register key made of a personal field (a citizen ID) is hidden too."""
    hide_key = bool(set(out["spec"].get("key", {})) & personal)
    findings = []
    for f in out["findings"]:
        if f.get("field") in personal:
            f = {**f, "layer_value": "***", "register_value": "***", "proposal": None}
        if hide_key and f.get("register_key"):
            f = {**f, "register_key": "***"}
        findings.append(f)
    return {**out, "findings": findings}


def accept(conn: Connection, principal: Any, finding_id: int) -> dict[str, Any]:
    """Turn a finding's proposed correction into an edit of the feature, held for approval under
    the rule of edits (even an operator's); the finding becomes ``proposed``."""
    from gis_core.errors import ConflictError, NotFoundError, PermissionDeniedError
    from governance.access import may_read_personal, personal_names
    from governance.editing import submit_edit, validate_feature

    row = conn.exec_driver_sql(
        "SELECT layer, feature_id, proposal, status FROM reconciliation_findings WHERE id = %(i)s "
        "FOR UPDATE", {"i": finding_id}).first()
    if row is None:
        raise NotFoundError(f"Không có kết quả đối chiếu {finding_id}.",
                            message_en=f"No reconciliation finding {finding_id}.")
    layer_id, feature_id, proposal, status = row
    if status != "open" or not proposal or feature_id is None:
        raise ConflictError(
            f"Kết quả {finding_id} không có đề xuất sửa đang mở (trạng thái: {status}).",
            message_en=f"Finding {finding_id} has no open proposed correction (status: {status}).")
    layer = require_layer(layer_id)
    if set(proposal) & personal_names(layer) and not may_read_personal(principal, layer):
        raise PermissionDeniedError(
            f"Đề xuất {finding_id} sửa dữ liệu cá nhân mà tài khoản '{principal.label}' không được "
            "xem; người có quyền xem mới chấp nhận được.",
            message_en=f"Finding {finding_id} corrects personal data that '{principal.label}' may "
            "not read; only someone who may read it can accept it.")
    _, props = validate_feature(layer, {"properties": proposal}, op="update", feature_id=feature_id)
    edit = submit_edit(conn, principal, layer, "update", feature_id=feature_id, geometry=None,
                       properties=props, always_pending=True)
    conn.exec_driver_sql("UPDATE reconciliation_findings SET status = 'proposed', edit_id = %(e)s "
                         "WHERE id = %(i)s", {"e": edit["edit_id"], "i": finding_id})
    return {"finding": finding_id, **edit}
