"""A harvest declaration: one source (where, what kind, into which layer, merged by which key),
written by the operator in YAML or JSON, checked before it is kept. Secrets are never in it: it
names them, and the value comes from the environment (``IOC_HARVEST_SECRET_<NAME>``)."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from gis_core.errors import InvalidParameterError
from layers.registry import get_layer

KINDS = ("ogcapi", "wfs", "csv", "xlsx", "geojson", "json")
SECRET_PREFIX = "IOC_HARVEST_SECRET_"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,62}$")
# Words that mark a value as a credential: such keys are refused anywhere in a declaration.
SECRET_WORDS = ("password", "passwd", "token", "apikey", "api_key", "secret_value", "authorization",
                "cookie", "mat_khau")


@dataclass(frozen=True)
class Auth:
    """A credential by name: sent as ``header`` (``X-API-Key``, or ``Authorization`` with a
    ``scheme`` such as ``Bearer``), its value read from ``IOC_HARVEST_SECRET_<secret>``."""

    secret: str
    header: str = "X-API-Key"
    scheme: str | None = None

    def headers(self) -> dict[str, str]:
        """The request header, with the secret read now from the environment."""
        value = os.environ.get(SECRET_PREFIX + self.secret)
        if not value:
            raise InvalidParameterError(
                f"Chưa đặt biến môi trường {SECRET_PREFIX}{self.secret} cho khóa truy cập nguồn.",
                message_en=f"The source's credential {SECRET_PREFIX}{self.secret} is not set.",
                parameter="auth")
        return {self.header: f"{self.scheme} {value}" if self.scheme else value}


@dataclass(frozen=True)
class Declaration:
    """One harvested source."""

    name: str
    layer: str
    kind: str
    url: str
    key: str
    mapping: dict[str, str] = field(default_factory=dict)
    crs: str | None = None
    type_name: str | None = None  # wfs: the feature type
    items: str | None = None  # json: dotted path of the list of records ("data.results")
    x: str | None = None  # json: the longitude / easting field
    y: str | None = None
    geometry: str | None = None  # json: a GeoJSON or WKT field
    sheet: str | None = None  # xlsx
    every_minutes: int = 1440
    page_size: int = 1000
    max_features: int = 200_000
    timeout_seconds: float = 30.0
    enabled: bool = True
    auth: Auth | None = None
    title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The declaration as kept and shown (no empty entries)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, "")}

    @property
    def dataset(self) -> str:
        """The dataset its rows carry in the layer (the merge is by key within it)."""
        return f"harvest:{self.name}"


def _bad(vi: str, en: str, parameter: str = "declaration") -> InvalidParameterError:
    return InvalidParameterError(vi, message_en=en, parameter=parameter)


def _secret_keys(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            where = f"{path}.{k}" if path else str(k)
            if any(word in str(k).lower().replace("-", "_") for word in SECRET_WORDS):
                found.append(where)
            found += _secret_keys(v, where)
    elif isinstance(node, list):
        for n, v in enumerate(node):
            found += _secret_keys(v, f"{path}[{n}]")
    return found


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(f"Địa chỉ nguồn '{url}' phải là http:// hoặc https://.",
                   f"The source URL '{url}' must be http:// or https://.", "url")
    keyish = [k for k, _ in parse_qsl(parts.query)
              if any(w in k.lower() for w in (*SECRET_WORDS, "key", "pass"))]
    if parts.username or parts.password or keyish:
        raise _bad("Không ghi mật khẩu hay khóa trong địa chỉ nguồn; đặt khóa vào biến môi trường "
                   f"{SECRET_PREFIX}<TÊN> và ghi 'auth: {{secret: TÊN}}'.",
                   "No password or key in the source URL: put it in the environment variable "
                   f"{SECRET_PREFIX}<NAME> and write 'auth: {{secret: NAME}}'.", "url")


def parse(text: str | bytes, name: str | None = None) -> Declaration:
    """A declaration from YAML or JSON text; ``InvalidParameterError`` naming what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise _bad(f"Khai báo không phải YAML/JSON hợp lệ: {err}",
                   f"The declaration is not valid YAML/JSON: {err}") from None
    if not isinstance(data, dict):
        raise _bad("Khai báo phải là một bảng khóa: giá trị.",
                   "The declaration must be a mapping of key: value.")
    if name is not None:
        data.setdefault("name", name)
        if data["name"] != name:
            raise _bad(f"Tên trong khai báo ('{data['name']}') khác tên trong địa chỉ ('{name}').",
                       f"The declaration's name ('{data['name']}') differs from the URL's "
                       f"('{name}').", "name")
    return from_dict(data)


def from_dict(data: dict[str, Any]) -> Declaration:
    """A checked declaration from its fields."""
    secrets = _secret_keys(data)
    if secrets:
        raise _bad(f"Khai báo không được chứa khóa bí mật ({', '.join(secrets)}); ghi 'auth: "
                   f"{{secret: TÊN}}' và đặt giá trị vào biến môi trường {SECRET_PREFIX}TÊN.",
                   f"A declaration must hold no credential ({', '.join(secrets)}); write 'auth: "
                   f"{{secret: NAME}}' and set {SECRET_PREFIX}NAME in the environment.", "auth")
    known = set(Declaration.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise _bad(f"Khai báo có mục không biết: {', '.join(unknown)}.",
                   f"Unknown entries in the declaration: {', '.join(unknown)}.", unknown[0])
    missing = [k for k in ("name", "layer", "kind", "url", "key") if not data.get(k)]
    if missing:
        raise _bad(f"Khai báo thiếu: {', '.join(missing)}.",
                   f"The declaration lacks: {', '.join(missing)}.", missing[0])
    values = dict(data)
    if not NAME.match(str(values["name"])):
        raise _bad("Tên nguồn chỉ gồm chữ thường không dấu, số, '-' và '_'.",
                   "A source name holds lowercase ASCII letters, digits, '-' and '_' only.", "name")
    if get_layer(str(values["layer"])) is None:
        raise _bad(f"Không có lớp '{values['layer']}'.", f"No layer '{values['layer']}'.", "layer")
    if values["kind"] not in KINDS:
        raise _bad(f"Loại nguồn '{values['kind']}' không hỗ trợ; dùng: {', '.join(KINDS)}.",
                   f"Unsupported source kind '{values['kind']}'; use one of {', '.join(KINDS)}.",
                   "kind")
    _check_url(str(values["url"]))
    if values["kind"] == "wfs" and not values.get("type_name"):
        raise _bad("Nguồn WFS cần 'type_name'.", "A WFS source needs 'type_name'.", "type_name")
    if values["kind"] == "json" and not (values.get("geometry") or (values.get("x") and values.get("y"))):
        raise _bad("Nguồn JSON cần 'geometry' hoặc 'x' và 'y'.",
                   "A JSON source needs 'geometry', or 'x' and 'y'.", "geometry")
    mapping = values.get("mapping") or {}
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise _bad("'mapping' là bảng {trường: cột nguồn}.",
                   "'mapping' is a table of {field: source column}.", "mapping")
    values["mapping"] = {str(k): v for k, v in mapping.items()}
    auth = values.get("auth")
    if auth is not None:
        if not isinstance(auth, dict) or not SECRET_NAME.match(str(auth.get("secret", ""))) or \
                set(auth) - {"secret", "header", "scheme"}:
            raise _bad("'auth' là {secret: TÊN_KHÓA, header: X-API-Key, scheme: Bearer}.",
                       "'auth' is {secret: KEY_NAME, header: X-API-Key, scheme: Bearer}.", "auth")
        values["auth"] = Auth(**auth)
    for number, low, high in (("every_minutes", 1, 525_600), ("page_size", 1, 10_000),
                              ("max_features", 1, 2_000_000), ("timeout_seconds", 1, 600)):
        if number in values:
            value = values[number]
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not low <= value <= high:
                raise _bad(f"'{number}' phải là số từ {low} đến {high}.",
                           f"'{number}' must be a number from {low} to {high}.", number)
    for whole in ("every_minutes", "page_size", "max_features"):
        if whole in values:
            values[whole] = int(values[whole])
    text_fields = ("name", "layer", "kind", "url", "key", "crs", "type_name", "items", "x", "y",
                   "geometry", "sheet", "title")
    for name in text_fields:
        if values.get(name) is not None and not isinstance(values[name], str):
            values[name] = str(values[name])
    return Declaration(**values)


def from_stored(data: dict[str, Any]) -> Declaration:
    """A declaration read back from the database."""
    return from_dict(data)
