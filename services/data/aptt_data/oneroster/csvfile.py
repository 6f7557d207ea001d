"""Reading one CSV file of an upload: UTF-8 text, a header, rows with their line numbers.

A file that cannot be read as a whole (not UTF-8, broken quoting, a bad header) is refused
with one rejection naming the file; a row with the wrong number of fields is refused alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Rejection:
    """One refused row (or file, when line is None): where, and what to change."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, str | int | None]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


class FileRejected(Exception):
    """The whole file is unusable; nothing in it is applied."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.reason)
        self.rejection = rejection


@dataclass(frozen=True)
class CsvRow:
    line: int  # the physical line the record starts on (the header is line 1)
    values: dict[str, str]


@dataclass
class CsvTable:
    file: str
    header: list[str]
    rows: list[CsvRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def decode_text(file: str, data: bytes) -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused, naming the file."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            Rejection(
                file,
                line,
                None,
                f"{file} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                "save it as UTF-8 (with or without BOM) and upload it again",
            )
        ) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileRejected(
            Rejection(file, line, None, f"{file} contains a NUL byte on line {line}: not a CSV")
        )
    return text


def read_table(
    file: str,
    data: bytes,
    *,
    required_columns: Iterable[str],
    known_columns: Iterable[str] | None = None,
    extension_prefix: str | None = "metadata.",
) -> CsvTable:
    """Parse `data` as a CSV with a header naming `required_columns` (any order).

    With `known_columns`, another column is refused unless it starts with the extension
    prefix (OneRoster's `metadata.` columns).
    """
    text = decode_text(file, data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _malformed(file, reader.line_num, exc) from exc
    if header is None or not any(h.strip() for h in header):
        raise FileRejected(Rejection(file, 1, None, f"{file} is empty: it needs a header row"))
    header = [h.strip() for h in header]
    _check_header(file, header, list(required_columns), known_columns, extension_prefix)
    table = CsvTable(file=file, header=header)
    previous_end = reader.line_num
    try:
        for values in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) != len(header):
                table.rejections.append(
                    Rejection(
                        file,
                        start,
                        None,
                        f"the row has {len(values)} fields but the header has {len(header)}",
                    )
                )
                continue
            table.rows.append(
                CsvRow(start, {h: v.strip() for h, v in zip(header, values, strict=True)})
            )
    except csv.Error as exc:
        raise _malformed(file, reader.line_num, exc) from exc
    return table


def _malformed(file: str, line: int, exc: csv.Error) -> FileRejected:
    return FileRejected(
        Rejection(
            file, line or None, None, f"{file} is not a well-formed CSV near line {line}: {exc}"
        )
    )


def _check_header(
    file: str,
    header: list[str],
    required: list[str],
    known: Iterable[str] | None,
    extension_prefix: str | None,
) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            raise FileRejected(Rejection(file, 1, None, "the header has an empty column name"))
        if name in seen:
            raise FileRejected(Rejection(file, 1, name, f"the header names column {name} twice"))
        seen.add(name)
    missing = [c for c in required if c not in seen]
    if missing:
        raise FileRejected(
            Rejection(
                file,
                1,
                missing[0],
                f"the header lacks the column(s) {', '.join(missing)}",
            )
        )
    if known is not None:
        allowed = set(known)
        unknown = [
            c
            for c in header
            if c not in allowed and not (extension_prefix and c.startswith(extension_prefix))
        ]
        if unknown:
            raise FileRejected(
                Rejection(
                    file,
                    1,
                    unknown[0],
                    f"unknown column(s) {', '.join(unknown)}; extension columns must start "
                    f"with {extension_prefix!r}",
                )
            )
