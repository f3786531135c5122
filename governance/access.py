"""The one access policy: who reads which layers and fields, who writes where, who approves.

Every output (OGC API items and pages, tiles, exports, scenario drill-downs) asks
``visible_fields``; every write asks ``write_mode`` (imports ``import_mode``) and
``spatial_limit``; every review asks ``may_approve``. The rules:

- everyone, anonymous included, reads every layer's **public** fields;
- signed-in staff (every role but API clients) also read **internal** fields;
- **personal** fields only for the leader (province-wide), the editors and leaders of the
  department that owns the layer, and API clients holding the scope ``personal:<layer>``;
  the operator administers the platform and does not read citizens' data;
- the operator writes directly; a department editor writes (as pending edits) the layers of
  its department; a commune editor writes layers that carry a commune code, only inside its
  commune; field staff submit houses; API clients with ``write:<layer>``;
- file imports follow the same rule (``import_mode``): the operator's apply at once, those of
  the owning department's editors and of clients with ``write:<layer>`` wait for approval;
  an import's report is read by the importer, the owning department's editors and leaders
  and the operator;
- an edit is approved by the operator, or by a leader or editor of the owning department who
  did not submit it;
- a station's observations are posted by the operator and by API clients holding
  ``observe:<station id>`` (``foreign_stations``);
- callers who may not see a people layer's features get no figure about fewer than
  ``MIN_CELL`` of its records (small-cell suppression, as statistical offices publish tables).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Literal

from pygeofilter import ast

from gis_core.errors import AuthenticationError, PermissionDeniedError
from layers.spec import FieldSpec, LayerSpec, has_commune

Role = Literal["anonymous", "operator", "leader", "department_editor", "commune_editor",
               "field_staff", "viewer", "api_client"]
WriteMode = Literal["direct", "pending"]


@dataclass(frozen=True)
class Principal:
    """Who is asking, and from where; ``username`` is None for anonymous callers."""

    username: str | None = None
    role: Role = "anonymous"
    department: str | None = None
    commune_code: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    session_id: str | None = None
    client_ip: str | None = None
    reason: str | None = None

    @property
    def is_anonymous(self) -> bool:
        """True for a caller without credentials."""
        return self.username is None

    @property
    def label(self) -> str:
        """Name for messages and the audit log."""
        return self.username or "anonymous"


ANONYMOUS = Principal()
# The caller of the request being served, for code reached through third-party frameworks
# (pygeoapi's provider) that cannot be handed the principal as an argument.
CURRENT: contextvars.ContextVar[Principal] = contextvars.ContextVar("ioc_principal",
                                                                    default=ANONYMOUS)


def may_read_personal(principal: Principal, layer: LayerSpec) -> bool:
    """Whether the caller may read the layer's personal fields."""
    role = principal.role
    if role == "leader":
        return True
    if role == "department_editor":
        return principal.department == layer.owner
    if role == "api_client":
        return f"personal:{layer.id}" in principal.scopes
    return False


def visible_fields(principal: Principal, layer: LayerSpec) -> set[str]:
    """Names of the layer's fields the caller may read."""
    return {f.name for f in visible_specs(principal, layer)}


def visible_specs(principal: Principal, layer: LayerSpec) -> tuple[FieldSpec, ...]:
    """The layer's fields the caller may read, in declaration order."""
    personal = may_read_personal(principal, layer)
    staff = not principal.is_anonymous and principal.role != "api_client"
    return tuple(
        f for f in layer.fields
        if f.sensitivity == "public"
        or (f.sensitivity == "internal" and (staff or personal))
        or (f.sensitivity == "personal" and personal)
    )


def is_personal_layer(layer: LayerSpec) -> bool:
    """A layer whose features are about identifiable people (households, permit applicants)."""
    return any(f.sensitivity == "personal" for f in layer.fields)


def may_see_features(principal: Principal, layer: LayerSpec) -> bool:
    """Whether the caller may see single features; anonymous callers see personal layers only
    as counts per commune, never points."""
    return not (principal.is_anonymous and is_personal_layer(layer))


# Figures about fewer records (households) than this are withheld from callers who may not see
# the features themselves: a count over a 1 m radius would describe one house.
MIN_CELL = 5


def withholds_small_cells(principal: Principal, layer: LayerSpec) -> bool:
    """Whether figures about fewer than ``MIN_CELL`` of the layer's records are withheld."""
    return is_personal_layer(layer) and not may_see_features(principal, layer)


def require_features(principal: Principal, layer: LayerSpec) -> None:
    """401 for an anonymous caller asking for the features of a personal layer."""
    if not may_see_features(principal, layer):
        raise AuthenticationError(
            f"Đối tượng của lớp '{layer.id}' gắn với người dân: cần đăng nhập để xem. Số liệu "
            f"tổng hợp theo xã công khai tại /api/v1/layers/{layer.id}/summary.",
            message_en=f"Features of '{layer.id}' concern identifiable people: sign in to see "
            f"them. Public counts per commune: /api/v1/layers/{layer.id}/summary.")


def personal_names(layer: LayerSpec) -> set[str]:
    """Names of the layer's personal fields."""
    return {f.name for f in layer.fields if f.sensitivity == "personal"}


def write_mode(principal: Principal, layer: LayerSpec) -> WriteMode | None:
    """How the caller's writes to the layer take effect: directly, as pending edits, or not at all."""
    role = principal.role
    if layer.derived:
        return None
    if role == "operator":
        return "direct"
    if role == "department_editor" and principal.department == layer.owner:
        return "pending"
    if role == "commune_editor" and principal.commune_code and has_commune(layer):
        return "pending"
    if role == "field_staff" and layer.id == "housing":
        return "pending"
    if role == "api_client" and f"write:{layer.id}" in principal.scopes:
        return "pending"
    return None


# Who may enter reported indicator values and targets, report incidents, store thematic scenarios.
INDICATOR_EDITORS = frozenset({"operator", "leader", "department_editor"})
# Who may enter reported values: the indicator editors for any unit, a commune's editors for theirs.
VALUE_EDITORS = INDICATOR_EDITORS | {"commune_editor"}
INCIDENT_REPORTERS = frozenset({"operator", "leader", "department_editor", "commune_editor"})
THEMATIC_AUTHORS = frozenset({"operator", "leader"})


def foreign_stations(principal: Principal, stations: set[int]) -> set[int]:
    """The stations among ``stations`` whose observations the caller may not post: all but the
    ``observe:<id>`` scopes of an API client, none for the operator, all for anyone else."""
    if principal.role == "operator":
        return set()
    if principal.role == "api_client":
        return {s for s in stations if f"observe:{s}" not in principal.scopes}
    return set(stations)


def foreign_units(principal: Principal, units: set[str]) -> set[str]:
    """The units among ``units`` the caller may not enter values for (a commune editor: all
    but its own commune; the indicator editors: none)."""
    if principal.role == "commune_editor":
        return units - {principal.commune_code}
    return set()


def import_mode(principal: Principal, layer: LayerSpec) -> WriteMode | None:
    """How the caller's file imports into the layer take effect, by the same rule as its edits:
    the operator's at once; the owning department's editors' and those of clients holding
    ``write:<layer>`` as pending imports for an approver; nobody else imports files."""
    if principal.role not in ("operator", "department_editor", "api_client"):
        return None
    return write_mode(principal, layer)


def may_read_import(principal: Principal, layer: LayerSpec, importer: str | None) -> bool:
    """Whether the caller may read an import's job and report: the importer, the owning
    department's editors and leaders, or the operator."""
    if principal.is_anonymous:
        return False
    if principal.role == "operator" or principal.username == importer:
        return True
    return principal.role in ("leader", "department_editor") and principal.department == layer.owner


def spatial_limit(principal: Principal) -> str | None:
    """The commune code the caller's writes must stay inside, or None when not bounded."""
    if principal.role in ("commune_editor", "field_staff"):
        return principal.commune_code
    return None


def may_approve(principal: Principal, layer: LayerSpec, submitted_by: str | None = None) -> bool:
    """Whether the caller may approve or reject an edit of the layer (never one's own)."""
    if principal.is_anonymous or principal.username == submitted_by:
        return False
    if principal.role == "operator":
        return True
    return principal.role in ("leader", "department_editor") and principal.department == layer.owner


def require_write(principal: Principal, layer: LayerSpec) -> WriteMode:
    """The caller's write mode on the layer; 403 when it may not write it."""
    mode = write_mode(principal, layer)
    if mode is None:
        raise PermissionDeniedError(
            f"Tài khoản '{principal.label}' không có quyền sửa lớp '{layer.id}'.",
            message_en=f"Account '{principal.label}' may not edit layer '{layer.id}'.")
    return mode


def filter_attributes(node: object) -> set[str]:
    """Every attribute a parsed CQL2 filter names."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Attribute):
            found.add(current.name)
        elif isinstance(current, list | tuple):
            stack.extend(current)
        elif isinstance(current, ast.Node):
            stack.extend(vars(current).values())
    return found
