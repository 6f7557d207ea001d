"""Reading one CSV file of an upload: UTF-8 text, a header, rows with their line numbers.

A file that cannot be read as a whole (not UTF-8, broken quoting, a bad header) is refused
with one rejection naming the file; a row with the wrong number of fields is refused alone.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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
    warnings: list[Rejection] = field(default_factory=list)


def decode_text(file: str, data: bytes) -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused, naming the file."""
    return "".join(iter_lines(file, [data]))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


def iter_lines(file: str, chunks: Iterable[bytes]) -> Iterator[str]:
    """The text of a file arriving in pieces, line by line (ends kept, as the csv module
    wants them). UTF-8 with or without BOM; a bad byte or a NUL refuses the whole file,
    naming the line it is on."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines = 0  # in the bytes already decoded
    pending = ""
    first = True
    for chunk in chunks:
        if first and chunk:
            chunk = chunk.removeprefix(BOM)
            first = False
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise _not_utf8(file, newlines, exc) from exc
        _check_nul(file, newlines, text)
        newlines += chunk.count(b"\n")
        pending += text
        end = 0
        for match in _LINE.finditer(pending):
            line = match.group()
            if line.endswith("\r") and match.end() == len(pending):
                break  # a CR at the end of a piece may be the start of CRLF
            end = match.end()
            yield line
        pending = pending[end:]
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _not_utf8(file, newlines, exc) from exc
    if pending:
        yield from (m.group() for m in re.finditer(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", pending))


def _not_utf8(file: str, newlines_before: int, exc: UnicodeDecodeError) -> FileRejected:
    data = exc.object
    line = newlines_before + data.count(b"\n", 0, exc.start) + 1
    return FileRejected(
        Rejection(
            file,
            line,
            None,
            f"{file} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8 (with or without BOM) and upload it again",
        )
    )


def _check_nul(file: str, newlines_before: int, text: str) -> None:
    if "\x00" in text:
        line = newlines_before + text.count("\n", 0, text.index("\x00")) + 1
        raise FileRejected(
            Rejection(file, line, None, f"{file} contains a NUL byte on line {line}: not a CSV")
        )


@dataclass
class CsvStream:
    """A CSV file read row by row: its checked header, then rows or refused rows."""

    file: str
    header: list[str]
    rows: Iterator[CsvRow | Rejection]
    warnings: list[Rejection] = field(default_factory=list)  # columns named in another case


def stream_table(
    file: str,
    lines: Iterable[str],
    *,
    required_columns: Iterable[str],
    known_columns: Iterable[str] | None = None,
    extension_prefix: str | None = "metadata.",
) -> CsvStream:
    """Like `read_table`, one row at a time: memory stays the size of a row. A file found
    unreadable half-way raises `FileRejected` from the row iterator."""
    reader = csv.reader(iter(lines), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _malformed(file, reader.line_num, exc) from exc
    if header is None or not any(h.strip() for h in header):
        raise FileRejected(Rejection(file, 1, None, f"{file} is empty: it needs a header row"))
    header = [h.strip() for h in header]
    warnings: list[Rejection] = []
    if known_columns is not None:
        header, warnings = _known_case(file, header, known_columns)
    _check_header(file, header, list(required_columns), known_columns, extension_prefix)
    return CsvStream(file, header, _rows(file, header, reader), warnings)


def _known_case(
    file: str, header: list[str], known: Iterable[str]
) -> tuple[list[str], list[Rejection]]:
    """Columns named in another case (orgSourcedIDs) are read as the known column; some
    exports write them so, and no two columns of a binding differ only in case."""
    by_folded = {name.casefold(): name for name in known}
    named: list[str] = []
    warnings: list[Rejection] = []
    for name in header:
        known_name = by_folded.get(name.casefold(), name)
        if known_name != name and known_name not in header:
            warnings.append(Rejection(file, 1, known_name, f"column {name!r} read as {known_name}"))
            name = known_name
        named.append(name)
    return named, warnings


def _rows(file: str, header: list[str], reader: Any) -> Iterator[CsvRow | Rejection]:
    previous_end = reader.line_num
    try:
        for values in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) != len(header):
                yield Rejection(
                    file,
                    start,
                    None,
                    f"the row has {len(values)} fields but the header has {len(header)}",
                )
                continue
            yield CsvRow(start, {h: v.strip() for h, v in zip(header, values, strict=True)})
    except csv.Error as exc:
        raise _malformed(file, reader.line_num, exc) from exc


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
    stream = stream_table(
        file,
        iter_lines(file, [data]),
        required_columns=required_columns,
        known_columns=known_columns,
        extension_prefix=extension_prefix,
    )
    table = CsvTable(file=file, header=stream.header, warnings=stream.warnings)
    for item in stream.rows:
        if isinstance(item, Rejection):
            table.rejections.append(item)
        else:
            table.rows.append(item)
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
