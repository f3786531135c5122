"""Data quality — correct, complete, clean, live ("đúng, đủ, sạch, sống") — per layer, commune, department.

Each per-record rule is a SQL predicate derived from the layer declaration (a field's checks are
the ones ``layers.fields`` writes, the tables' CHECK constraints too); one query per layer
counts every rule's failures per commune, and the same predicate lists the failing records. The
results are plain dataclasses (``as_dict`` for JSON), ready for an indicator engine.

Scores, each 0–1:
- correct: share of records that pass every correctness rule;
- complete: mean of the share of records with every required field filled and, per coverage rule,
  the share of communes covered;
- clean: share of records that are neither duplicates nor minority spellings, with normalised text;
- live: 1 while the newest update is younger than the layer's ``update_every``, then
  ``update_every / age``; ``stale`` once older.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from psycopg2 import sql

from layers.departments import DEPARTMENTS
from layers.fields import CHECK_KINDS, checks, missing
from layers.quality_rules import (
    DUPLICATE_METRES,
    NOT_SPELLINGS,
    SIMILAR_NAMES,
    CoverageRule,
    coverage_for,
)
from layers.registry import LAYERS
from layers.spec import FieldSpec, LayerSpec, has_commune

Measure = Literal["correct", "complete", "clean"]
MEASURES: tuple[str, ...] = ("correct", "complete", "clean", "live")
_T = sql.Identifier("t")


def _fold_map() -> tuple[str, str]:
    """Vietnamese letters (both cases) → ASCII lower case, for SQL ``translate``."""
    letters = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
    source = letters + letters.upper() + "đĐ"
    target = "".join(unicodedata.normalize("NFD", ch)[0].lower() for ch in letters + letters.upper())
    return source, target + "dd"


_FOLD_FROM, _FOLD_TO = _fold_map()


def folded(expr: sql.Composable) -> sql.Composable:
    """SQL: text in NFC, without diacritics, lower case, words separated by one space."""
    return sql.SQL(
        "btrim(regexp_replace(lower(translate(normalize({}, NFC), {}, {})), '[^a-z0-9]+', ' ', 'g'))"
    ).format(expr, sql.Literal(_FOLD_FROM), sql.Literal(_FOLD_TO))


@dataclass(frozen=True)
class Rule:
    """A per-record rule; ``fails`` is a SQL predicate on the row ``t`` (true when it fails)."""

    id: str
    measure: Measure
    title: dict[str, str]
    fails: sql.Composable


def _col(name: str) -> sql.Composable:
    return sql.SQL("t.{}").format(sql.Identifier(name))


def _column_sql(name: str) -> str:
    """``t."name"`` as text, for the checks ``layers.fields`` writes (names are declared ids)."""
    return f't."{name}"'


def _group(layer: LayerSpec) -> sql.Composable:
    if layer.id == "communes":
        return _col("code")
    return _col("commune_code") if has_commune(layer) else sql.SQL("NULL::text")


def spelling_fields(layer: LayerSpec) -> tuple[FieldSpec, ...]:
    """Free-text public fields whose values name places or things (not codes, links, keys)."""
    return tuple(
        f for f in layer.public_fields
        if f.type == "text" and not f.domain and not f.references and f.name != layer.key_field
        and not f.name.endswith(NOT_SPELLINGS)
    )


def name_field(layer: LayerSpec) -> FieldSpec | None:
    """The name compared when looking for near duplicates: a point layer's title, unless a code."""
    if layer.geometry != "Point" or layer.title_field is None:
        return None
    spec = layer.field(layer.title_field)
    return spec if spec.type == "text" and not spec.name.endswith(NOT_SPELLINGS) else None


def rules(layer: LayerSpec, *, trigram: bool = False) -> tuple[Rule, ...]:
    """Every per-record rule of ``layer``, derived from its declaration."""
    geom = _col("geom")
    valid = sql.SQL("ST_IsValid(t.geom)")
    out = [
        Rule("geometry_valid", "correct", {"vi": "Hình học hợp lệ", "en": "Valid geometry"},
             sql.SQL("NOT {}").format(valid)),
        Rule("coordinates_lonlat", "correct",
             {"vi": "Tọa độ là kinh độ, vĩ độ WGS 84 (không phải mét VN-2000)",
              "en": "Coordinates are WGS 84 longitude/latitude (not VN-2000 metres)"},
             sql.SQL("NOT (ST_XMin({g}) >= -180 AND ST_XMax({g}) <= 180 AND ST_YMin({g}) >= -90 "
                     "AND ST_YMax({g}) <= 90)").format(g=geom)),
    ]
    if layer.id != "province":
        out.append(Rule("inside_province", "correct",
                        {"vi": "Nằm trong tỉnh Lai Châu", "en": "Inside Lai Châu province"},
                        sql.SQL("{} AND EXISTS (SELECT 1 FROM province) AND NOT EXISTS "
                                "(SELECT 1 FROM province p WHERE ST_Intersects(p.geom, t.geom))"
                                ).format(valid)))
    if has_commune(layer):
        out += [
            Rule("commune_known", "correct",
                 {"vi": "Mã xã có trong danh mục", "en": "The commune code exists"},
                 sql.SQL("t.commune_code IS NOT NULL AND c.code IS NULL")),
            Rule("inside_commune", "correct",
                 {"vi": "Nằm trong (chạm) xã đã khai", "en": "Inside (touching) its declared commune"},
                 sql.SQL("c.code IS NOT NULL AND {} AND NOT ST_Intersects(c.geom, t.geom)").format(valid)),
        ]
    # An open finding of the last reconciliation with the register (harvest.reconcile, migration
    # 0018): the register disagrees with this feature's key, attributes or position.
    out.append(Rule("register_agrees", "correct",
                    {"vi": "Khớp với cơ sở dữ liệu gốc (đối chiếu)",
                     "en": "Agrees with the authoritative register (reconciliation)"},
                    sql.SQL("EXISTS (SELECT 1 FROM reconciliation_findings f WHERE f.layer = {} "
                            "AND f.feature_id = t.id AND f.status = 'open')").format(
                        sql.Literal(layer.id))))
    for f in layer.fields:
        for check in checks(f, _column_sql(f.name)):
            out.append(Rule(f"{check.kind}:{f.name}", "correct", check.title,
                            sql.SQL("{} IS NOT NULL AND NOT ({})").format(
                                _col(f.name), sql.SQL(check.condition))))
    for f in layer.fields:
        if f.required:
            out.append(Rule(f"required:{f.name}", "complete",
                            {"vi": f"Có giá trị '{f.name}'", "en": f"'{f.name}' is filled"},
                            sql.SQL(missing(f, _column_sql(f.name)))))
    if layer.key_field:
        out.append(Rule("duplicate_key", "clean",
                        {"vi": f"Không trùng khóa '{layer.key_field}'",
                         "en": f"No duplicate key '{layer.key_field}'"},
                        sql.SQL("dk.k IS NOT NULL")))
    name = name_field(layer)
    if name is not None:
        a, b = folded(sql.SQL("o.{}").format(sql.Identifier(name.name))), folded(_col(name.name))
        similar = (sql.SQL("similarity({}, {}) >= {}").format(a, b, sql.Literal(SIMILAR_NAMES))
                   if trigram else sql.SQL("{} = {}").format(a, b))
        # Degrees first, so the GiST index on geom finds the candidates; then metres exactly.
        # 1° of longitude is over 100 km at Lai Châu's latitude: metres / 90 000 bounds it.
        out.append(Rule(
            "near_duplicate", "clean",
            {"vi": f"Không có đối tượng cùng loại trong {DUPLICATE_METRES:g} m với tên tương tự",
             "en": f"No feature of the same kind within {DUPLICATE_METRES:g} m with a similar name"},
            sql.SQL("EXISTS (SELECT 1 FROM {tbl} o WHERE o.id <> t.id AND ST_DWithin(o.geom, t.geom, {d}) "
                    "AND ST_DWithin(o.geom::geography, t.geom::geography, {m}) AND {sim})").format(
                tbl=sql.Identifier(layer.id), d=sql.Literal(DUPLICATE_METRES / 90_000),
                m=sql.Literal(DUPLICATE_METRES), sim=similar)))
    for i, f in enumerate(spelling_fields(layer)):
        out.append(Rule(f"spelling:{f.name}", "clean",
                        {"vi": f"'{f.name}' viết thống nhất trong xã",
                         "en": f"'{f.name}' spelt one way within the commune"},
                        sql.SQL("{c} IS NOT NULL AND {c} <> {s}.canon").format(
                            c=_col(f.name), s=sql.Identifier(f"sp{i}"))))
    for f in layer.fields:
        if f.type == "text":
            column = _col(f.name)
            out.append(Rule(f"normalised:{f.name}", "clean",
                            {"vi": f"'{f.name}' chuẩn Unicode NFC, không thừa khoảng trắng",
                             "en": f"'{f.name}' in Unicode NFC without stray spaces"},
                            sql.SQL("{c} IS NOT NULL AND ({c} IS NOT NFC NORMALIZED "
                                    "OR {c} ~ '^\\s|\\s$|\\s\\s')").format(c=column)))
    return tuple(out)


def _source(layer: LayerSpec) -> sql.Composable:
    """``FROM`` the layer as ``t`` with the helpers the rules read (commune, duplicates, spellings)."""
    table = sql.Identifier(layer.id)
    parts = [sql.SQL("{} t").format(table)]
    if has_commune(layer):
        parts.append(sql.SQL("LEFT JOIN communes c ON c.code = t.commune_code"))
    if layer.key_field:
        parts.append(sql.SQL(
            "LEFT JOIN (SELECT {k} AS k FROM {tbl} WHERE {k} IS NOT NULL GROUP BY {k} "
            "HAVING count(*) > 1) dk ON dk.k = t.{k}").format(k=sql.Identifier(layer.key_field),
                                                            tbl=table))
    group = sql.SQL("coalesce({}, '')").format(_group(layer))
    for i, f in enumerate(spelling_fields(layer)):
        # Fold only the distinct spellings (hundreds), then join back on the exact value: the
        # most frequent spelling of a folded name within a commune is the reference one.
        parts.append(sql.SQL(
            "LEFT JOIN (SELECT g, v, first_value(v) OVER (PARTITION BY g, {k} ORDER BY n DESC, v) AS canon "
            "FROM (SELECT {g} AS g, t.{v} AS v, count(*) AS n FROM {tbl} t WHERE t.{v} IS NOT NULL "
            "GROUP BY 1, 2) a) {s} ON {s}.g = {g} AND {s}.v = t.{v}"
        ).format(g=group, k=folded(sql.SQL("v")), v=sql.Identifier(f.name), tbl=table,
                 s=sql.Identifier(f"sp{i}")))
    return sql.SQL(" ").join(parts)


def has_trigram(cursor: Any) -> bool:
    """Whether pg_trgm's ``similarity`` is installed in this database."""
    cursor.execute("SELECT to_regprocedure('similarity(text,text)') IS NOT NULL")
    return bool(cursor.fetchone()[0])


# --- results ---------------------------------------------------------------------------------

@dataclass
class RuleResult:
    """How many records fail one rule, out of how many checked."""

    rule: str
    measure: str
    title: dict[str, str]
    failed: int
    checked: int


@dataclass
class CoverageResult:
    """A coverage rule: communes covered, and the codes of those lacking."""

    rule: str
    title: dict[str, str]
    covered: int
    communes: int
    missing: list[str]


@dataclass
class Scores:
    """The four measures, each 0–1 (None when there is nothing to measure)."""

    correct: float | None
    complete: float | None
    clean: float | None
    live: float | None


@dataclass
class GroupQuality:
    """The quality of one layer within one commune (``commune`` None: no or unknown commune)."""

    commune: str | None
    name: str | None
    records: int
    scores: Scores
    newest: datetime | None
    stale: bool
    failed: dict[str, int] = field(default_factory=dict)


@dataclass
class LayerQuality:
    """The quality of one layer, with its evidence."""

    layer: str
    title: dict[str, str]
    department: str
    records: int
    scores: Scores
    newest: datetime | None
    age_days: float | None
    update_every: str
    stale: bool
    rules: list[RuleResult]
    coverage: list[CoverageResult]
    communes: list[GroupQuality]
    stale_communes: list[str]

    def as_dict(self, *, detail: bool = False) -> dict[str, Any]:
        """Plain JSON-ready dict; ``detail`` adds the per-commune breakdown."""
        out = _plain(asdict(self))
        if not detail:
            out.pop("communes")
        return out


@dataclass
class DepartmentQuality:
    """A department's layers taken together (record-weighted)."""

    department: str
    title: dict[str, str]
    layers: list[str]
    records: int
    scores: Scores
    stale_layers: list[str]


@dataclass
class CommuneQuality:
    """A commune across every layer that carries a commune code."""

    commune: str
    name: str | None
    records: int
    scores: Scores
    stale_layers: list[str]


@dataclass
class ProvinceQuality:
    """Every layer, department and commune."""

    generated_at: datetime
    seconds: float
    layers: list[LayerQuality]
    departments: list[DepartmentQuality]
    communes: list[CommuneQuality]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (layers without their per-commune breakdown)."""
        return {
            "generated_at": _plain(self.generated_at), "seconds": round(self.seconds, 3),
            "layers": [layer.as_dict() for layer in self.layers],
            "departments": [_plain(asdict(d)) for d in self.departments],
            "communes": [_plain(asdict(c)) for c in self.communes],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return round(value, 4)
    return value


# --- measuring -------------------------------------------------------------------------------

def _share(failed: int, total: int) -> float | None:
    return None if total == 0 else (total - failed) / total


def live_score(newest: datetime | None, interval: timedelta, now: datetime) -> tuple[float | None, bool]:
    """``(score, stale)`` for the newest update against the declared interval."""
    if newest is None:
        return None, True
    age = now - newest
    if age <= interval:
        return 1.0, False
    return interval / age, True


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _coverage(cursor: Any, rule: CoverageRule) -> CoverageResult:
    conditions = [sql.SQL("t.commune_code = c.code")] + [
        sql.SQL("t.{} = {}").format(sql.Identifier(name), sql.Literal(value))
        for name, value in rule.where]
    cursor.execute(sql.SQL(
        "SELECT c.code, EXISTS (SELECT 1 FROM {} t WHERE {}) FROM communes c ORDER BY c.code"
    ).format(sql.Identifier(rule.layer), sql.SQL(" AND ").join(conditions)))
    rows = cursor.fetchall()
    missing = [code for code, ok in rows if not ok]
    return CoverageResult(rule.id, rule.title, len(rows) - len(missing), len(rows), missing)


def layer_quality(cursor: Any, layer: LayerSpec, *, now: datetime | None = None,
                  trigram: bool | None = None, names: dict[str, str] | None = None) -> LayerQuality:
    """Measure one layer: one query for every record rule by commune, one per coverage rule."""
    now = now or datetime.now(UTC)
    # JIT compiles for seconds over these many expressions: far more than the query runs.
    cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
    trigram = has_trigram(cursor) if trigram is None else trigram
    names = _commune_names(cursor) if names is None else names
    layer_rules = rules(layer, trigram=trigram)
    flags = [sql.SQL("coalesce(({}), false) AS {}").format(r.fails, sql.Identifier(r.id))
             for r in layer_rules]
    counts = [sql.SQL("count(*) FILTER (WHERE {})").format(sql.Identifier(r.id)) for r in layer_rules]
    for measure in ("correct", "complete", "clean"):
        ids = [sql.Identifier(r.id) for r in layer_rules if r.measure == measure]
        counts.append(sql.SQL("count(*) FILTER (WHERE {})").format(
            sql.SQL(" OR ").join(ids)) if ids else sql.SQL("0"))
    cursor.execute(sql.SQL(
        "SELECT g, count(*), max(updated_at), {} FROM (SELECT {} AS g, t.updated_at, {} FROM {}) f "
        "GROUP BY g ORDER BY g"
    ).format(sql.SQL(", ").join(counts), _group(layer), sql.SQL(", ").join(flags), _source(layer)))
    rows = cursor.fetchall()
    coverage = [_coverage(cursor, rule) for rule in coverage_for(layer.id)]
    interval = layer.update_interval
    n_rules = len(layer_rules)
    groups: list[GroupQuality] = []
    for row in rows:
        code, total, newest = row[0], row[1], row[2]
        per_rule = row[3:3 + n_rules]
        correct_f, complete_f, clean_f = row[3 + n_rules:]
        live, stale = live_score(newest, interval, now)
        covered = [0.0 if code in c.missing else 1.0 for c in coverage] if code else []
        groups.append(GroupQuality(
            code, names.get(code) if code else None, total,
            Scores(_share(correct_f, total), _mean([_share(complete_f, total), *covered]),
                   _share(clean_f, total), live),
            newest, stale, {r.id: n for r, n in zip(layer_rules, per_rule, strict=True) if n}))
    total = sum(g.records for g in groups)
    sums = [sum(row[3 + i] for row in rows) for i in range(n_rules + 3)]
    newest = max((g.newest for g in groups if g.newest), default=None)
    live, stale = live_score(newest, interval, now)
    return LayerQuality(
        layer=layer.id, title=layer.title, department=layer.owner, records=total,
        scores=Scores(
            _share(sums[n_rules], total),
            _mean([_share(sums[n_rules + 1], total), *(c.covered / c.communes for c in coverage
                                                      if c.communes)]),
            _share(sums[n_rules + 2], total), live),
        newest=newest, age_days=(now - newest) / timedelta(days=1) if newest else None,
        update_every=layer.update_every, stale=stale,
        rules=[RuleResult(r.id, r.measure, r.title, sums[i], total) for i, r in enumerate(layer_rules)],
        coverage=coverage, communes=groups,
        stale_communes=sorted(g.commune for g in groups if g.commune and g.stale),
    )


def _commune_names(cursor: Any) -> dict[str, str]:
    cursor.execute("SELECT code, full_name FROM communes")
    return dict(cursor.fetchall())


def _weighted(items: list[tuple[int, Scores]]) -> Scores:
    values = {}
    for measure in MEASURES:
        pairs = [(n, getattr(s, measure)) for n, s in items if getattr(s, measure) is not None]
        weight = sum(n for n, _ in pairs)
        values[measure] = (sum(n * v for n, v in pairs) / weight if weight
                           else _mean([v for _, v in pairs]))
    return Scores(**values)


def province_quality(cursor: Any, layers: tuple[LayerSpec, ...] = LAYERS,
                     *, now: datetime | None = None) -> ProvinceQuality:
    """Every layer, then every department and commune from the layers' results."""
    started = datetime.now(UTC)
    now = now or started
    trigram = has_trigram(cursor)
    names = _commune_names(cursor)
    results = [layer_quality(cursor, layer, now=now, trigram=trigram, names=names) for layer in layers]
    departments = []
    for code, title in DEPARTMENTS.items():
        own = [r for r in results if r.department == code]
        if own:
            departments.append(DepartmentQuality(
                code, title, [r.layer for r in own], sum(r.records for r in own),
                _weighted([(r.records, r.scores) for r in own]), [r.layer for r in own if r.stale]))
    communes = []
    for code, name in sorted(names.items()):
        parts = [(r.layer, g) for r in results if r.layer != "communes"
                 for g in r.communes if g.commune == code]
        communes.append(CommuneQuality(
            code, name, sum(g.records for _, g in parts),
            _weighted([(g.records, g.scores) for _, g in parts]),
            [layer for layer, g in parts if g.stale]))
    return ProvinceQuality(started, (datetime.now(UTC) - started).total_seconds(), results,
                           departments, communes)


def failing_records(cursor: Any, layer: LayerSpec, rule_id: str, *, commune: str | None = None,
                    limit: int = 100, offset: int = 0,
                    visible: tuple[FieldSpec, ...] | None = None) -> dict[str, Any] | None:
    """The records failing ``rule_id`` (ids and visible fields only); None for an unknown rule.

    For a coverage rule (``coverage:<id>``) the failing records are the communes lacking.
    """
    visible = layer.public_fields if visible is None else visible
    if rule_id.startswith("coverage:"):
        rule = next((r for r in coverage_for(layer.id) if f"coverage:{r.id}" == rule_id), None)
        if rule is None:
            return None
        result = _coverage(cursor, rule)
        cursor.execute("SELECT id, code, full_name FROM communes WHERE code = ANY(%s) ORDER BY code",
                       (result.missing,))
        found = [{"id": i, "code": c, "full_name": n} for i, c, n in cursor.fetchall()]
        return {"rule": rule_id, "title": rule.title, "matched": len(found),
                "records": found[offset:offset + limit]}
    rule = next((r for r in rules(layer, trigram=has_trigram(cursor)) if r.id == rule_id), None)
    if rule is None:
        return None
    where = [rule.fails]
    if commune is not None:
        where.append(sql.SQL("{} = {}").format(_group(layer), sql.Literal(commune)))
    columns = sql.SQL(", ").join([sql.SQL("t.id"), *(_col(f.name) for f in visible)])
    condition = sql.SQL(" AND ").join(sql.SQL("coalesce(({}), false)").format(w) for w in where)
    # Failing ids first, over the whole layer (hash joins); only the page's rows are then read.
    cursor.execute(sql.SQL(
        "WITH f AS MATERIALIZED (SELECT t.id FROM {} WHERE {}) "
        "SELECT (SELECT count(*) FROM f), {} FROM f JOIN {} t USING (id) ORDER BY t.id LIMIT {} OFFSET {}"
    ).format(_source(layer), condition, columns, sql.Identifier(layer.id), sql.Literal(limit),
             sql.Literal(offset)))
    rows = cursor.fetchall()
    names = ["id", *(f.name for f in visible)]
    return {"rule": rule_id, "title": rule.title, "matched": rows[0][0] if rows else 0,
            "records": [_plain(dict(zip(names, row[1:], strict=True))) for row in rows]}


def rule_field(layer: LayerSpec, rule_id: str) -> str | None:
    """The field whose values a rule judges (``required:citizen_id`` judges ``citizen_id``), or
    None for rules on the geometry, the commune or coverage."""
    kind, _, name = rule_id.partition(":")
    if kind in (*CHECK_KINDS, "required", "spelling", "normalised"):
        return name
    if kind == "duplicate_key":
        return layer.key_field
    if kind == "near_duplicate":
        found = name_field(layer)
        return found.name if found else None
    return None


def available_rules(layer: LayerSpec) -> list[str]:
    """Every rule id that ``failing_records`` answers for ``layer``."""
    return [r.id for r in rules(layer)] + [f"coverage:{r.id}" for r in coverage_for(layer.id)]


# --- presenting ------------------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    return "   –" if value is None else f"{value:4.2f}"


def render_table(report: LayerQuality | ProvinceQuality, by: str | None = None) -> str:
    """A plain-text table: layers (default), departments or communes; a layer by commune."""
    head = f"{'':40} {'records':>8}  đúng  đủ   sạch sống  stale"
    lines = []
    if isinstance(report, LayerQuality):
        lines.append(f"{report.layer} — {report.title['vi']} ({report.department})")
        lines.append(head)
        rows: list[tuple[str, int, Scores, bool]] = [
            (f"{g.commune or '—'} {g.name or ''}"[:40], g.records, g.scores, g.stale)
            for g in report.communes]
        rows.append(("TỔNG / TOTAL", report.records, report.scores, report.stale))
        failing = [f"  {r.rule}: {r.failed}/{r.checked}" for r in report.rules if r.failed]
        failing += [f"  coverage:{c.rule}: thiếu {len(c.missing)}/{c.communes} xã"
                    for c in report.coverage if c.missing]
        tail = ["Lỗi theo quy tắc / failures by rule:", *failing] if failing else []
    else:
        lines.append(head)
        if by == "department":
            rows = [(d.title["vi"][:40], d.records, d.scores, bool(d.stale_layers))
                    for d in report.departments]
        elif by == "commune":
            rows = [(f"{c.commune} {c.name or ''}"[:40], c.records, c.scores, bool(c.stale_layers))
                    for c in report.communes]
        else:
            rows = [(r.layer, r.records, r.scores, r.stale) for r in report.layers]
        tail = []
    for label, records, s, stale in rows:
        lines.append(f"{label:40} {records:>8}  {_fmt(s.correct)} {_fmt(s.complete)} {_fmt(s.clean)} "
                     f"{_fmt(s.live)}  {'STALE' if stale else ''}")
    return "\n".join(lines + tail)
