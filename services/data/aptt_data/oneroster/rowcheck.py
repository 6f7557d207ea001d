"""The row check of the OneRoster CSV files (`spec`): a CSV row, checked alone against its
file's columns, becomes a normalised record or the problems it has, reported where the
package wrote them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aptt_data.oneroster import fields as f
from aptt_data.oneroster.csvfile import CsvRow, CsvTable, Rejection
from aptt_data.oneroster.spec import Column, FileSpec, Mode, Record


@dataclass
class ParsedFile:
    file: str
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)
    # sourcedIds of refused rows: whatever was accepted for them before stays as it was.
    rejected_ids: dict[str, int] = field(default_factory=dict)  # sourcedId -> line


# A problem with a role made from a 1.1 user is reported where the package wrote it.
_ROLE_COLUMNS_1_1 = {"userSourcedId": "sourcedId", "orgSourcedId": "orgSourcedIds"}


def refusal(
    file: str, source_file: str | None, line: int, column: str | None, reason: str
) -> Rejection:
    """A problem with a record, reported where the package wrote it."""
    if source_file is None or source_file == file:
        return Rejection(file, line, column, reason)
    return Rejection(source_file, line, _ROLE_COLUMNS_1_1.get(column or "", "role"), reason)


@dataclass(frozen=True)
class RowCheck:
    """One row checked alone: its sourcedId (if it has one), the record or the problems."""

    sourced_id: str
    record: Record | None
    problems: list[Rejection]
    warnings: list[Rejection] = field(default_factory=list)


def row_columns(spec: FileSpec, header: Sequence[str]) -> list[Column]:
    """The columns of `spec` (and its extensions) that a file's header names."""
    return [c for c in (*spec.columns, *spec.extensions) if c.name in header]


def check_row(spec: FileSpec, columns: Sequence[Column], row: CsvRow, *, mode: Mode) -> RowCheck:
    """Required fields, vocabularies and formats of one row."""
    problems: list[Rejection] = []
    warnings: list[Rejection] = []
    values: dict[str, Any] = {}
    for column in columns:
        raw = row.values.get(column.name, "")
        if not raw:
            if column.required:
                problems.append(
                    Rejection(spec.file, row.line, column.name, f"{column.name} is required")
                )
            continue
        try:
            value = column.parse(raw)
        except f.BadValue as exc:
            problems.append(Rejection(spec.file, row.line, column.name, str(exc)))
            continue
        if isinstance(value, f.Lenient):
            warnings.append(Rejection(spec.file, row.line, column.name, value.warning))
            if value.value is f.DROPPED:
                continue
            value = value.value
        values[column.name] = value
    problems.extend(_status_problems(spec.file, row.line, values, mode))
    sourced_id = values.get("sourcedId") or row.values.get("sourcedId", "")
    if problems:
        return RowCheck(sourced_id, None, problems)
    record = Record(
        file=spec.file,
        sourced_id=sourced_id,
        line=row.line,
        deleted=values.get("status") == "tobedeleted",
        fields={k: v for k, v in values.items() if k in spec.keep},
    )
    return RowCheck(sourced_id, record, [], warnings)


def check_rows(spec: FileSpec, table: CsvTable, *, mode: Mode) -> ParsedFile:
    """Every row checked on its own: required fields, vocabularies, formats, duplicates."""
    parsed = ParsedFile(
        file=spec.file, rejections=list(table.rejections), warnings=list(table.warnings)
    )
    columns = row_columns(spec, table.header)
    by_id: dict[str, list[tuple[Record, dict[str, str]]]] = {}
    for row in table.rows:
        checked = check_row(spec, columns, row, mode=mode)
        parsed.warnings.extend(checked.warnings)
        if checked.record is None:
            parsed.rejections.extend(checked.problems)
            if checked.sourced_id:
                parsed.rejected_ids.setdefault(checked.sourced_id, row.line)
            continue
        by_id.setdefault(checked.sourced_id, []).append((checked.record, row.values))
    for sourced_id, copies in by_id.items():
        first, first_values = copies[0]
        if len(copies) == 1:
            parsed.records.append(first)
            continue
        if all(values == first_values for _, values in copies[1:]):
            parsed.records.append(first)
            parsed.rejections.extend(
                Rejection(spec.file, r.line, "sourcedId", f"duplicate of line {first.line}")
                for r, _ in copies[1:]
            )
            continue
        lines = ", ".join(str(r.line) for r, _ in copies)
        parsed.rejected_ids.setdefault(sourced_id, first.line)
        parsed.rejections.extend(
            Rejection(
                spec.file,
                r.line,
                "sourcedId",
                f"sourcedId {sourced_id} appears on lines {lines} with different values",
            )
            for r, _ in copies
        )
    parsed.records.sort(key=lambda r: r.line)
    return parsed


def _status_problems(
    file: str, line: int, values: dict[str, Any], mode: Mode
) -> Sequence[Rejection]:
    if mode == "delta":
        return [
            Rejection(file, line, name, f"{name} is required in a delta file")
            for name in ("status", "dateLastModified")
            if name not in values
        ]
    if values.get("status") == "tobedeleted":
        return [
            Rejection(
                file,
                line,
                "status",
                "a bulk file holds active records only: leave the row out to delete it",
            )
        ]
    return []
