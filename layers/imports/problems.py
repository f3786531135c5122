"""What an import reports: per-row issues, file-level refusals, and the report itself."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from gis_core.errors import ValidationError
from layers.spec import LayerSpec

MASK = "***"
GEOMETRY = "geometry"
CONTENT_KEY = "(nội dung / content)"


@dataclass(frozen=True)
class RowIssue:
    """One problem with one row: the row number as the user counts it, the field and why."""

    row: int
    field: str
    value: str
    reason: str
    reason_en: str


def masked(issue: RowIssue, layer: LayerSpec, mapping: dict[str, str]) -> RowIssue:
    """The issue as a report may show it: values of personal and internal fields masked.

    ``field`` names a layer field, the geometry, the row digest, or the source column(s) of the
    key; a key is shown only when every one of its columns feeds a public field.
    """
    if issue.value in ("", MASK) or issue.field in (GEOMETRY, CONTENT_KEY):
        return issue
    public = {f.name for f in layer.fields if f.sensitivity == "public"}
    if issue.field in {f.name for f in layer.fields}:
        shown = issue.field in public
    else:
        fed = {column: name for name, column in mapping.items()}
        shown = all(fed.get(column.strip()) in public for column in issue.field.split(","))
    return issue if shown else replace(issue, value=MASK)


class FileRejected(ValidationError):
    """The file as a whole cannot be imported (unreadable, unknown CRS, wrong encoding, …)."""

    code = "import-file-rejected"

    def __init__(self, message: str, message_en: str):
        super().__init__(message, message_en=message_en, parameter="file")


@dataclass
class ImportReport:
    """The outcome of one import: counts, what was recognised, repairs, warnings and errors."""

    layer: str
    dataset: str
    file_name: str
    file_sha256: str
    file_size: int
    actor: str = "cli"
    status: str = "running"
    job: int | None = None
    source_crs: str | None = None
    crs_note: str | None = None
    encoding: str | None = None
    features: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    repaired: list[RowIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[RowIssue] = field(default_factory=list)
    # A pending import's review: who approved or declined it, and why.
    reviewer: str | None = None
    review_reason: str | None = None
    # A dry run's map: the features that would change (GeoJSON, ``change`` in their properties).
    preview: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        """A report read back from ``as_dict`` (as stored with its job)."""
        report = cls(**{k: v for k, v in data.items()
                        if k in cls.__dataclass_fields__ and k not in ("errors", "repaired")})
        report.errors = [RowIssue(**e) for e in data.get("errors", [])]
        report.repaired = [RowIssue(**e) for e in data.get("repaired", [])]
        return report

    def masked(self, layer: LayerSpec) -> ImportReport:
        """The report with every personal and internal value masked (see ``masked``)."""
        return replace(self, errors=[masked(i, layer, self.mapping) for i in self.errors],
                       repaired=[masked(i, layer, self.mapping) for i in self.repaired])

    def errors_csv(self) -> str:
        """The rejected rows as CSV (UTF-8 with BOM so spreadsheet programs read the diacritics)."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(["dong/row", "truong/field", "gia_tri/value", "ly_do", "reason"])
        for issue in self.errors:
            writer.writerow([issue.row, issue.field, issue.value, issue.reason, issue.reason_en])
        return out.getvalue()


class ImportRejected(ValidationError):
    """The file has invalid rows; nothing was written. Carries the full report."""

    code = "import-rejected"

    def __init__(self, report: ImportReport, hint: tuple[str, str] | None = None):
        rows = len({e.row for e in report.errors})
        first = report.errors[0]
        lead, lead_en = (hint[0] + " ", hint[1] + " ") if hint else ("", "")
        super().__init__(
            f"{lead}Từ chối tệp '{report.file_name}': {len(report.errors)} lỗi ở {rows} dòng, không ghi "
            f"gì vào lớp '{report.layer}'. Lỗi đầu tiên: dòng {first.row}, trường '{first.field}': "
            f"{first.reason}.",
            message_en=f"{lead_en}File '{report.file_name}' rejected: {len(report.errors)} errors in {rows} "
            f"rows; nothing was written to layer '{report.layer}'. First: row {first.row}, field "
            f"'{first.field}': {first.reason_en}.",
            parameter="file")
        self.report = report
