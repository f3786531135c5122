"""Documents of plans and permits: drawings, approval decisions, explanatory reports and images
attached to a feature, stored outside the database under their checksum and versioned (an
amended plan keeps every version of its drawings, each with its decision).

Files live under ``<var>/documents/ab/<sha256>.<ext>``, written once and read-only; the row
(``feature_documents``) holds the name, kind, version, checksum and who added it. A file is
checked to be what its extension says before it is kept, and again against its checksum when
served. A PDF's first page and an image get a PNG thumbnail (``thumbs/ab/<sha256>.png``), made
on first request: PDFium (pypdfium2, a wheel with no system library) renders the page in-process.
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
    ConflictError,
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


GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")


def _opens(extension: str, data: bytes) -> bool:
    """Whether a PDF or an image really opens (a ``%PDF-`` header on a damaged file does not)."""
    try:
        if extension == "pdf":
            import pypdfium2

            pdf = pypdfium2.PdfDocument(data)
            try:
                return len(pdf) > 0
            finally:
                pdf.close()
        if extension in ("png", "jpg", "jpeg", "tif", "tiff"):
            from PIL import Image

            Image.open(BytesIO(data)).verify()
    except Exception:  # noqa: BLE001 - any failure to open is the answer
        return False
    return True


def check(file_name: str, data: bytes, max_bytes: int, declared_type: str | None = None
          ) -> tuple[str, str, str]:
    """(clean file name, extension, content type) of an upload that is what its name and its
    declared content type say; 413 when too large, 415 when the content is not of its
    extension's type or the declared type is another."""
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
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_TYPES and declared != content_type \
            and not (extension == "jpg" and declared == "image/jpg"):
        raise UnsupportedMediaTypeError(
            f"Tệp '{name}' được gửi là {declared} nhưng tên tệp là .{extension} ({content_type}).",
            message_en=f"'{name}' was sent as {declared} but its name says .{extension} "
            f"({content_type}).", parameter="file")
    ok = (_docx(data) if extension == "docx" else sniff(data[:16])) and _opens(extension, data)
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


def _next_version(conn: Connection, layer: str, feature_id: int, title: str) -> int:
    """The next version number of ``title`` on the feature, under a lock on that title held to
    the end of the transaction (two uploads at once get 1 and 2, never 1 twice)."""
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(%(k)s))",
                         {"k": f"doc:{layer}:{feature_id}:{title}"})
    return conn.exec_driver_sql(
        "SELECT coalesce(max(version), 0) + 1 FROM feature_documents WHERE layer = %(l)s AND "
        "feature_id = %(f)s AND title = %(t)s", {"l": layer, "f": feature_id, "t": title}).scalar()


def add(conn: Connection, root: Path, layer: LayerSpec, feature_id: int, *, title: str, kind: str,
        file_name: str, data: bytes, decision: str | None, actor: str, max_bytes: int,
        declared_type: str | None = None, pending: bool = False) -> dict[str, Any]:
    """Attach a document (the next version of ``title`` on the feature), in the caller's
    transaction; the file is written first, named by its checksum. A ``pending`` document (a
    department editor's) has no version until it is approved (``review``)."""
    if kind not in KINDS:
        raise InvalidParameterError(f"Loại tài liệu '{kind}' không có; dùng: {', '.join(KINDS)}.",
                                    message_en=f"Unknown document kind '{kind}'; use one of "
                                    f"{', '.join(KINDS)}.", parameter="kind")
    title = " ".join(unicodedata.normalize("NFC", title or "").split())
    if not title or len(title) > 300:
        raise InvalidParameterError("Cần tên tài liệu (tối đa 300 ký tự).",
                                    message_en="Give the document a title (at most 300 characters).",
                                    parameter="title")
    name, extension, content_type = check(file_name, data, max_bytes, declared_type)
    exists = conn.exec_driver_sql(
        f'SELECT 1 FROM "{layer.id}" WHERE id = %(i)s FOR KEY SHARE', {"i": feature_id}).first()  # noqa: S608 - a declared layer id
    if exists is None:
        raise NotFoundError(f"Không có đối tượng {feature_id} trong lớp '{layer.id}'.",
                            message_en=f"No feature {feature_id} in layer '{layer.id}'.")
    sha256 = hashlib.sha256(data).hexdigest()
    _write_once(_stored(root, sha256, extension), data)
    version = None if pending else _next_version(conn, layer.id, feature_id, title)
    row = conn.exec_driver_sql(
        "INSERT INTO feature_documents (layer, feature_id, title, kind, version, file_name, "
        "extension, content_type, sha256, size, decision, uploaded_by, status) VALUES (%(l)s, "
        "%(f)s, %(t)s, %(k)s, %(v)s, %(n)s, %(e)s, %(c)s, %(s)s, %(z)s, %(d)s, %(a)s, %(st)s) "
        "RETURNING id",
        {"l": layer.id, "f": feature_id, "t": title, "k": kind, "v": version, "n": name,
         "e": extension, "c": content_type, "s": sha256, "z": len(data), "d": decision,
         "a": actor, "st": "pending" if pending else "approved"}).one()
    return get(conn, row[0])


_COLUMNS = ("id, layer, feature_id, title, kind, version, file_name, extension, content_type, "
            "sha256, size, decision, uploaded_by, uploaded_at, status, reviewer, reviewed_at, "
            "reason")


def listing(conn: Connection, layer: LayerSpec, feature_id: int, *,
            pending_of: str | None = None, all_pending: bool = False) -> list[dict[str, Any]]:
    """The approved documents of the feature, every version, newest version first within a
    title; then the pending ones of ``pending_of`` (or every pending one: ``all_pending``)."""
    rows = conn.exec_driver_sql(
        f"SELECT {_COLUMNS} FROM feature_documents WHERE layer = %(l)s AND feature_id = %(f)s "  # noqa: S608 - constant columns
        "AND (status = 'approved' OR status = 'pending' AND (%(all)s OR uploaded_by = %(u)s)) "
        "ORDER BY status = 'pending', title, version DESC, id",
        {"l": layer.id, "f": feature_id, "u": pending_of, "all": all_pending}).mappings().all()
    return [dict(r) for r in rows]


def layer_documents(conn: Connection, layer: LayerSpec) -> list[dict[str, Any]]:
    """Every approved document of the layer (for its export package)."""
    rows = conn.exec_driver_sql(
        f"SELECT {_COLUMNS} FROM feature_documents WHERE layer = %(l)s AND status = 'approved' "  # noqa: S608 - constant columns
        "ORDER BY feature_id, title, version", {"l": layer.id}).mappings().all()
    return [dict(r) for r in rows]


def pending(conn: Connection, layers: list[str]) -> list[dict[str, Any]]:
    """The documents waiting for approval on ``layers``, oldest first."""
    rows = conn.exec_driver_sql(
        f"SELECT {_COLUMNS} FROM feature_documents WHERE status = 'pending' "  # noqa: S608 - constant columns
        "AND layer = ANY(%(l)s) ORDER BY uploaded_at, id", {"l": layers}).mappings().all()
    return [dict(r) for r in rows]


def review(conn: Connection, doc: dict[str, Any], reviewer: str, *, approve: bool,
           reason: str | None) -> dict[str, Any]:
    """Approve (it becomes the next version of its title) or reject (with a reason) a pending
    document, in the caller's transaction; whether the reviewer may is the caller's check."""
    locked = conn.exec_driver_sql("SELECT status FROM feature_documents WHERE id = %(i)s FOR UPDATE",
                                  {"i": doc["id"]}).scalar()
    if locked != "pending":
        raise ConflictError(f"Tài liệu {doc['id']} đã được xử lý ({locked}).",
                            message_en=f"Document {doc['id']} was already reviewed ({locked}).")
    reason = " ".join(unicodedata.normalize("NFC", reason or "").split()) or None
    if not approve and not reason:
        raise InvalidParameterError("Cần nêu lý do từ chối.", message_en="A rejection needs a reason.",
                                    parameter="reason")
    version = (_next_version(conn, doc["layer"], doc["feature_id"], doc["title"]) if approve
               else None)
    conn.exec_driver_sql(
        "UPDATE feature_documents SET status = %(s)s, version = %(v)s, reviewer = %(r)s, "
        "reviewed_at = now(), reason = %(why)s WHERE id = %(i)s",
        {"s": "approved" if approve else "rejected", "v": version, "r": reviewer, "why": reason,
         "i": doc["id"]})
    return get(conn, doc["id"])


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


THUMB_PX = 320
THUMBNAILED = ("pdf", "png", "jpg", "jpeg", "tif", "tiff")


def thumbnail(root: Path, doc: dict[str, Any]) -> bytes:
    """A PNG at most ``THUMB_PX`` on its longer side: a PDF's first page or the image itself,
    made once and kept beside the documents; 404 for a type without one."""
    if doc["extension"] not in THUMBNAILED:
        raise NotFoundError(f"Tài liệu .{doc['extension']} không có ảnh thu nhỏ.",
                            message_en=f"A .{doc['extension']} document has no thumbnail.")
    path = root / "thumbs" / doc["sha256"][:2] / f"{doc['sha256']}.png"
    if path.exists():
        return path.read_bytes()
    data = content(root, doc)
    try:
        image = _first_page(data) if doc["extension"] == "pdf" else _image(data)
    except Exception as err:  # noqa: BLE001 - a damaged file is told, not a 500
        raise UnsupportedMediaTypeError(
            f"Không dựng được ảnh thu nhỏ của tài liệu {doc['id']} (tệp hỏng?).",
            message_en=f"Cannot render a thumbnail of document {doc['id']} (damaged file?): "
            f"{type(err).__name__}.") from None
    image.thumbnail((THUMB_PX, THUMB_PX))
    out = BytesIO()
    image.convert("RGB").save(out, "PNG", optimize=True)
    _write_once(path, out.getvalue())
    return out.getvalue()


def _first_page(data: bytes) -> Any:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        page = pdf[0]
        width, height = page.get_size()
        scale = THUMB_PX / max(width, height, 1)
        return page.render(scale=max(scale, 0.05)).to_pil()
    finally:
        pdf.close()


def _image(data: bytes) -> Any:
    from PIL import Image

    image = Image.open(BytesIO(data))
    image.draft("RGB", (THUMB_PX, THUMB_PX))
    return image
