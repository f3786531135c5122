"""A layer exported as a package: a zip holding the layer file (GeoPackage), the documents of
the exported features (every approved version) and ``manifest.json`` with the checksum and
version of each file, so a receiver can check what arrived."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyogrio
from sqlalchemy.engine import Engine

from governance import audit
from governance.access import Principal, is_personal_layer
from harvest import documents
from layers.export import ExportResult
from layers.spec import LayerSpec

TRUE = ("1", "true", "yes")


def wanted(params: dict[str, str]) -> bool:
    """Whether the request asks for a package (``package=true``)."""
    return params.get("package", "").strip().lower() in TRUE


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _exported_ids(result: ExportResult) -> set[int]:
    if not result.count:
        return set()
    _, _, _, values = pyogrio.raw.read(result.path, columns=["id"], read_geometry=False)
    return {int(v) for v in values[0]} if values else set()


def build(engine: Engine, principal: Principal, layer: LayerSpec, result: ExportResult,
          root: Path) -> ExportResult:
    """The package of ``result`` (an export of ``layer`` written as GeoPackage) beside it."""
    ids = _exported_ids(result)
    with engine.connect() as conn:
        docs = [d for d in documents.layer_documents(conn, layer) if d["feature_id"] in ids]
    files: list[dict[str, Any]] = []
    path = result.path.with_name(f"{result.path.stem}-package.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(result.path, result.filename)
        layer_file = {"path": result.filename, "sha256": _sha256(result.path),
                      "size": result.path.stat().st_size, "features": result.count}
        for doc in docs:
            data = documents.content(root, doc)
            name = (f"documents/{doc['feature_id']}/v{doc['version']}-{doc['id']}-"
                    f"{doc['file_name']}")
            archive.writestr(name, data)
            files.append({"path": name, "document": doc["id"], "feature_id": doc["feature_id"],
                          "title": doc["title"], "kind": doc["kind"], "version": doc["version"],
                          "decision": doc["decision"], "content_type": doc["content_type"],
                          "sha256": doc["sha256"], "size": doc["size"],
                          "uploaded_by": doc["uploaded_by"],
                          "uploaded_at": doc["uploaded_at"].isoformat()})
        manifest = {"layer": layer.id, "exported_at": datetime.now(UTC).isoformat(),
                    "crs": f"EPSG:{result.srid}", "layer_file": layer_file, "documents": files}
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    if docs and is_personal_layer(layer):
        audit.record_now(engine, "document.read", actor=principal, target=f"{layer.id}/export",
                         details={"documents": [d["id"] for d in docs], "via": "export:package"})
    return ExportResult(path=path, filename=path.name, media_type="application/zip",
                        count=result.count, fields=result.fields, srid=result.srid)
