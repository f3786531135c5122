"""Generating a report (figures → file → stored snapshot) and verifying a file against it later."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import re
import time
import zipfile
from datetime import UTC, datetime
from typing import Any

from gis_core.errors import NotFoundError, ValidationError
from reports.definitions import Definition, require
from reports.figures import ICT, compute, data_moment, figures_hash
from reports.layout import Header

# The renderers and the maps (python-docx, reportlab, openpyxl, matplotlib: ≈100 MB) are imported
# when a report is drawn, in the job worker, not by every web worker at start-up.
RENDERERS = {"docx": "reports.docx_out", "pdf": "reports.pdf_out", "xlsx": "reports.xlsx_out"}
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MARKER = re.compile(rb"IOC-REPORT:(\d+)")


def check_format(fmt: str) -> str:
    """``fmt`` when it is docx, pdf or xlsx; a 400 otherwise."""
    from gis_core.errors import InvalidParameterError

    if fmt not in RENDERERS:
        raise InvalidParameterError(f"Định dạng '{fmt}' không hỗ trợ: dùng docx, pdf hoặc xlsx.",
                                    message_en=f"Format '{fmt}' is not offered: use docx, pdf or xlsx.",
                                    parameter="format")
    return fmt


def generate(cursor: Any, definition: Definition, period: str, fmt: str, actor: str,
             params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compute, render and store one report in one transaction; its run (without the file)."""
    check_format(fmt)
    started = time.perf_counter()
    content = compute(cursor, definition, period, params)
    from reports.maps import chart, choropleth

    images = {n: choropleth(cursor, s, s.get("incident")) if s["kind"] == "map" else chart(s)
              for n, s in enumerate(content["sections"]) if s["kind"] in ("map", "chart") and fmt != "xlsx"}
    cursor.execute("SELECT nextval(pg_get_serial_sequence('report_runs', 'id'))")
    run_id = int(cursor.fetchone()[0])
    issued = datetime.now(UTC)
    number = f"{run_id}/{definition.symbol}"
    header = Header(definition.parent, definition.issuer, number, definition.title["vi"],
                    _subtitle(content), tuple(definition.recipients), definition.signer,
                    issued.astimezone(ICT), run_id)
    data = importlib.import_module(RENDERERS[fmt]).render(header, content, images)
    digest = hashlib.sha256(data).hexdigest()
    name = f"{definition.id}_{content['period']}_{run_id}.{fmt}"
    seconds = time.perf_counter() - started
    snapshot = {k: content[k] for k in ("figures", "queries")}
    cursor.execute(
        "INSERT INTO report_runs (id, definition, period, params, format, number, generated_at, "
        "generated_by, as_of, figures, figures_sha256, layer_versions, file_name, file_sha256, "
        "file_size, content, seconds) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s)",
        (run_id, definition.id, content["period"], json.dumps(content["params"]), fmt, number, issued,
         actor, content["as_of"], json.dumps(snapshot, ensure_ascii=False),
         figures_hash(content["figures"]), json.dumps(content["layer_versions"]), name, digest,
         len(data), data, seconds))
    cursor.connection.commit()
    return {"id": run_id, "definition": definition.id, "period": content["period"], "format": fmt,
            "number": number, "file_name": name, "file_sha256": digest, "size": len(data),
            "figures_sha256": figures_hash(content["figures"]), "as_of": content["as_of"],
            "generated_at": issued.isoformat(), "seconds": round(seconds, 3),
            "figures": len(content["figures"])}


def _subtitle(content: dict[str, Any]) -> str:
    p = content["period"]
    if len(p) == 4:
        return f"Năm {p}"
    if "Q" in p:
        return f"Quý {['I', 'II', 'III', 'IV'][int(p[-1]) - 1]} năm {p[:4]}"
    return f"Tháng {int(p[5:])} năm {p[:4]}"


_COLUMNS = ("id, definition, period, params, format, number, generated_at, generated_by, as_of, "
            "figures_sha256, file_name, file_sha256, file_size, seconds")


def _run(row: tuple) -> dict[str, Any]:
    names = [c.strip() for c in _COLUMNS.split(",")]
    out = dict(zip(names, row, strict=True))
    for k in ("generated_at", "as_of"):
        out[k] = out[k].isoformat()
    return out


def runs(cursor: Any, definitions: list[str], limit: int = 100) -> list[dict[str, Any]]:
    """The latest generated reports of the given definitions."""
    cursor.execute(f"SELECT {_COLUMNS} FROM report_runs WHERE definition = ANY(%s) "  # noqa: S608
                   "ORDER BY id DESC LIMIT %s", (definitions, limit))
    return [_run(r) for r in cursor.fetchall()]


def get_run(cursor: Any, run_id: int, *, with_file: bool = False) -> dict[str, Any]:
    """One generated report (and its file's bytes); 404 when there is none."""
    cursor.execute(f"SELECT {_COLUMNS}, content FROM report_runs WHERE id = %s", (run_id,))  # noqa: S608
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"Không có báo cáo số {run_id}.",
                            message_en=f"There is no generated report {run_id}.", parameter="run")
    out = _run(row[:-1])
    if with_file:
        out["content"] = bytes(row[-1])
    return out


def marker_of(data: bytes) -> int | None:
    """The run id a report file carries (in its properties), or None."""
    found = _MARKER.search(data)
    if found:
        return int(found.group(1))
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for name in z.namelist():
                    hit = _MARKER.search(z.read(name))
                    if hit:
                        return int(hit.group(1))
        except zipfile.BadZipFile:
            return None
    return None


def verify(cursor: Any, data: bytes) -> dict[str, Any]:
    """Whether ``data`` is a report as generated here, and whether its figures still hold.

    The file's SHA-256 must equal the stored one (else it was altered); the stored figures must
    equal their stored hash; the figures computed again now are compared one by one, and every
    change names the edits of the layers it reads since the report was made.
    """
    digest = hashlib.sha256(data).hexdigest()
    cursor.execute("SELECT id FROM report_runs WHERE file_sha256 = %s ORDER BY id LIMIT 1", (digest,))
    row = cursor.fetchone()
    run_id = row[0] if row else marker_of(data)
    if run_id is None:
        raise ValidationError("Tệp không phải báo cáo do hệ thống lập (không có mã báo cáo).",
                              message_en="The file is not a report made here (it carries no report "
                              "id).", parameter="file")
    cursor.execute("SELECT definition, period, params, file_sha256, figures, figures_sha256, "
                   "generated_at, as_of, number FROM report_runs WHERE id = %s", (run_id,))
    found = cursor.fetchone()
    if found is None:
        raise NotFoundError(f"Không có báo cáo số {run_id}.",
                            message_en=f"There is no generated report {run_id}.", parameter="file")
    definition, period, params, stored_sha, snapshot, stored_fig_sha, generated_at, as_of, number = found
    file_intact = stored_sha == digest
    snapshot_intact = figures_hash(snapshot["figures"]) == stored_fig_sha
    current = compute(cursor, require(definition), period, params, as_of=data_moment(period))
    changed = []
    for key, was in snapshot["figures"].items():
        now = current["figures"].get(key)
        if now != was:
            changed.append({"figure": key, "was": was, "now": now,
                            "query": snapshot["queries"].get(key),
                            "edits_since": _edits(cursor, key, generated_at)})
    ok = file_intact and snapshot_intact and not changed
    reasons = []
    if not file_intact:
        reasons.append({"vi": "Tệp đã bị sửa sau khi lập: mã băm SHA-256 không khớp bản đã lưu.",
                        "en": "The file was altered after it was made: its SHA-256 does not match."})
    if not snapshot_intact:
        reasons.append({"vi": "Bản lưu số liệu của báo cáo không khớp mã băm.",
                        "en": "The stored figures do not match their hash."})
    if changed:
        reasons.append({"vi": f"{len(changed)} số liệu đã thay đổi so với dữ liệu hiện nay.",
                        "en": f"{len(changed)} figures differ from the data now."})
    return {"report": run_id, "number": number, "definition": definition, "period": period,
            "generated_at": generated_at.isoformat(), "as_of": as_of.isoformat(),
            "file_sha256": digest, "stored_sha256": stored_sha, "file_intact": file_intact,
            "snapshot_intact": snapshot_intact, "changed": changed, "ok": ok, "reasons": reasons}


def _edits(cursor: Any, key: str, since: datetime) -> list[dict[str, Any]]:
    """The recorded edits and imports since ``since`` of the layers a figure reads (at most 20)."""
    from scenarios.indicators import MEASURE_LAYER, get_indicator

    ind = get_indicator(key.split("@")[0])
    layers = sorted({MEASURE_LAYER[m] for m in ind.measures}) if ind else []
    if ind and ind.kind == "reported":
        cursor.execute("SELECT entered_at, entered_by, period, unit_code FROM reported_values WHERE "
                       "indicator = %s AND entered_at > %s ORDER BY entered_at LIMIT 20", (ind.id, since))
        return [{"table": "reported_values", "at": r[0].isoformat(), "actor": r[1], "period": r[2],
                 "unit": r[3]} for r in cursor.fetchall()]
    if not layers:
        return []
    cursor.execute("SELECT layer, feature_id, op, changed_at, actor, source FROM feature_history "
                   "WHERE layer = ANY(%s) AND changed_at > %s ORDER BY changed_at LIMIT 20",
                   (layers, since))
    return [{"layer": r[0], "feature": r[1], "op": r[2], "at": r[3].isoformat(), "actor": r[4],
             "source": r[5]} for r in cursor.fetchall()]
