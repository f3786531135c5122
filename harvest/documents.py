"""Documents of plans and permits: drawings, approval decisions, explanatory reports and images
attached to a feature, stored outside the database under their checksum and versioned (an
amended plan keeps every version of its drawings, each with its decision).

Files live under ``<var>/documents/ab/<sha256>.<ext>``, written once and read-only; the row
(``feature_documents``) holds the name, kind, version, checksum and who added it. A file is
checked to be what its extension says before it is kept, and again against its checksum when
served.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from gis_core.errors import (
    InvalidParameterError,
    IocError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from layers.spec import LayerSpec

KINDS = ("drawing", "decision", "report", "image", "other")
# extension → (content type, a check of the first bytes)
TYPES: dict[str, tuple[str, Any]] = {
    "pdf": ("application/pdf", lambda b: b.startswith(b"%PDF-")),
    "png": ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "tif": ("image/tiff", lambda b: b[:4] in (b"II*\x00", b"MM\x00*")),
    "tiff": ("image/tiff", lambda b: b[:4] in (b"II*\x00", b"MM\x00*")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", None),
    "dwg": ("image/vnd.dwg", lambda b: b.startswith(b"AC10")),
}
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def check(file_name: str, data: bytes, max_bytes: int) -> tuple[str, str, str]:
    """(clean file name, extension, content type) of an upload that is what its name says; 413
    when too large, 415 when the content is not of its extension's type."""
    name = unicodedata.normalize("NFC", Path(file_name or "").name).strip()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"Tài liệu quá lớn (tối đa {max_bytes // 2**20} MB).",
                                   message_en=f"Document too large (at most {max_bytes // 2**20} MB).")
    if extension not in TYPES:
        raise UnsupportedMediaTypeError(
            f"Không nhận loại tệp '.{extension}'; nhận: {', '.join('.' + e for e in TYPES)}.",
            message_en=f"File type '.{extension}' not accepted; accepted: "
            f"{', '.join('.' + e for e in TYPES)}.", parameter="file")
    content_type, sniff = TYPES[extension]
    ok = _docx(data) if extension == "docx" else sniff(data[:16])
    if not ok or not data:
        raise UnsupportedMediaTypeError(
            f"Nội dung tệp '{name}' không phải .{extension} như tên tệp nói.",
            message_en=f"The content of '{name}' is not the .{extension} its name says.",
            parameter="file")
    return name, extension, content_type


def _stored(root: Path, sha256: str, extension: str) -> Path:
    return root / sha256[:2] / f"{sha256}.{extension}"


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o440)
    os.replace(tmp, path)


def add(conn: Connection, root: Path, layer: LayerSpec, feature_id: int, *, title: str, kind: str,
        file_name: str, data: bytes, decision: str | None, actor: str, max_bytes: int
        ) -> dict[str, Any]:
    """Attach a document (the next version of ``title`` on the feature), in the caller's
    transaction; the file is written first, named by its checksum."""
    if kind not in KINDS:
        raise InvalidParameterError(f"Loại tài liệu '{kind}' không có; dùng: {', '.join(KINDS)}.",
                                    message_en=f"Unknown document kind '{kind}'; use one of "
                                    f"{', '.join(KINDS)}.", parameter="kind")
    title = " ".join(unicodedata.normalize("NFC", title or "").split())
    if not title or len(title) > 300:
        raise InvalidParameterError("Cần tên tài liệu (tối đa 300 ký tự).",
                                    message_en="Give the document a title (at most 300 characters).",
                                    parameter="title")
    name, extension, content_type = check(file_name, data, max_bytes)
    exists = conn.exec_driver_sql(
        f'SELECT 1 FROM "{layer.id}" WHERE id = %(i)s FOR KEY SHARE', {"i": feature_id}).first()  # noqa: S608 - a declared layer id
    if exists is None:
        raise NotFoundError(f"Không có đối tượng {feature_id} trong lớp '{layer.id}'.",
                            message_en=f"No feature {feature_id} in layer '{layer.id}'.")
    sha256 = hashlib.sha256(data).hexdigest()
    _write_once(_stored(root, sha256, extension), data)
    # The versions of one title are numbered under a lock on that title (two uploads at once
    # get 1 and 2, never 1 twice: the unique key would refuse the second).
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(%(k)s))",
                         {"k": f"doc:{layer.id}:{feature_id}:{title}"})
    row = conn.exec_driver_sql(
        "INSERT INTO feature_documents (layer, feature_id, title, kind, version, file_name, "
        "extension, content_type, sha256, size, decision, uploaded_by) SELECT %(l)s, %(f)s, %(t)s, "
        "%(k)s, coalesce(max(version), 0) + 1, %(n)s, %(e)s, %(c)s, %(s)s, %(z)s, %(d)s, %(a)s "
        "FROM feature_documents WHERE layer = %(l)s AND feature_id = %(f)s AND title = %(t)s "
        "RETURNING id, version, uploaded_at",
        {"l": layer.id, "f": feature_id, "t": title, "k": kind, "n": name, "e": extension,
         "c": content_type, "s": sha256, "z": len(data), "d": decision, "a": actor}).one()
    return {"id": row[0], "title": title, "kind": kind, "version": row[1], "file_name": name,
            "content_type": content_type, "sha256": sha256, "size": len(data),
            "decision": decision, "uploaded_by": actor, "uploaded_at": row[2]}


_COLUMNS = ("id, layer, feature_id, title, kind, version, file_name, extension, content_type, "
            "sha256, size, decision, uploaded_by, uploaded_at")


def listing(conn: Connection, layer: LayerSpec, feature_id: int) -> list[dict[str, Any]]:
    """Every document of the feature, every version, newest version first within a title."""
    rows = conn.exec_driver_sql(
        f"SELECT {_COLUMNS} FROM feature_documents WHERE layer = %(l)s AND feature_id = %(f)s "  # noqa: S608 - constant columns
        "ORDER BY title, version DESC", {"l": layer.id, "f": feature_id}).mappings().all()
    return [dict(r) for r in rows]


def get(conn: Connection, document_id: int) -> dict[str, Any]:
    """One document's row; 404 when unknown."""
    row = conn.exec_driver_sql(f"SELECT {_COLUMNS} FROM feature_documents WHERE id = %(i)s",  # noqa: S608 - constant columns
                               {"i": document_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"Không có tài liệu {document_id}.",
                            message_en=f"No document {document_id}.")
    return dict(row)


def content(root: Path, doc: dict[str, Any]) -> bytes:
    """The stored bytes, checked against the recorded checksum."""
    if not _SHA.match(doc["sha256"]):
        raise NotFoundError("Không có tệp.", message_en="No such file.")
    path = _stored(root, doc["sha256"], doc["extension"])
    if not path.exists():
        raise IocError(f"Thiếu tệp của tài liệu {doc['id']} trong kho.",
                       message_en=f"The file of document {doc['id']} is missing from the store.")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != doc["sha256"]:
        raise IocError(f"Tệp của tài liệu {doc['id']} không khớp mã kiểm (đã bị sửa?).",
                       message_en=f"The file of document {doc['id']} fails its checksum "
                       "(altered?).")
    return data
