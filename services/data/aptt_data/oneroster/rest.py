"""OneRoster 1.2 REST records as the rows of the CSV binding, so that a REST sync goes through
the same checks, integrity rules and apply code as a CSV import (decision 0207).

The REST binding nests what the CSV binding writes in columns: references are objects with a
`sourcedId`, lists are arrays, a user carries its roles (there is no roles collection), and the
extension columns are `metadata` fields. A role gets a sourcedId made from its user, org and
role, the same on every sync, so an unchanged role stays unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aptt_data.oneroster.spec import roster_specs

# The collections a sync reads, in the order of the CSV files they fill.
COLLECTIONS: dict[str, str] = {
    "academicSessions": "academicSessions.csv",
    "orgs": "orgs.csv",
    "courses": "courses.csv",
    "classes": "classes.csv",
    "users": "users.csv",
    "enrollments": "enrollments.csv",
}
FILES = (*COLLECTIONS.values(), "roles.csv")
# CSV column -> the REST field holding a reference (or a list of them).
REFERENCES = {
    "parentSourcedId": "parent",
    "schoolYearSourcedId": "schoolYear",
    "orgSourcedId": "org",
    "courseSourcedId": "course",
    "schoolSourcedId": "school",
    "classSourcedId": "class",
    "userSourcedId": "user",
    "primaryOrgSourcedId": "primaryOrg",
    "userProfileSourcedId": "userProfile",
}
REFERENCE_LISTS = {
    "termSourcedIds": "terms",
    "agentSourcedIds": "agents",
    "resourceSourcedIds": "resources",
}
RENAMED = {"preferredGivenName": "preferredFirstName", "preferredFamilyName": "preferredLastName"}
METADATA_PREFIX = "metadata."

Row = dict[str, str]


def header(file: str) -> list[str]:
    """The columns a sync writes for a file: the 1.2 binding's, and the extension columns."""
    spec = roster_specs("1.2", "US")[file]
    return [*spec.column_names, *(c.name for c in spec.extensions)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _text(value.get("sourcedId"))
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return str(value)


def _user_ids(value: Any) -> str:
    if not isinstance(value, list):
        return _text(value)
    return ",".join(
        f"{{{_text(item.get('type'))}:{_text(item.get('identifier'))}}}"
        for item in value
        if isinstance(item, dict)
    )


def to_row(file: str, record: dict[str, Any]) -> Row:
    """A REST record as a CSV row of `file` (columns it does not give are empty)."""
    metadata = record.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    row: Row = {}
    for column in header(file):
        if column in REFERENCES:
            value = record.get(REFERENCES[column])
        elif column in REFERENCE_LISTS:
            value = record.get(REFERENCE_LISTS[column])
        elif column.startswith(METADATA_PREFIX):
            value = metadata.get(column.removeprefix(METADATA_PREFIX))
        elif column == "userIds":
            row[column] = _user_ids(record.get(column))
            continue
        else:
            value = record.get(RENAMED.get(column, column))
        row[column] = _text(value)
    return row


def rows_of(collection: str, record: dict[str, Any], *, bulk: bool) -> Iterator[tuple[str, Row]]:
    """The CSV rows (file, row) a REST record gives: a user gives its roles too. A bulk
    sync leaves out what the provider marks tobedeleted (a bulk file is the whole set)."""
    file = COLLECTIONS[collection]
    deleted = record.get("status") == "tobedeleted"
    if bulk and deleted:
        return
    yield file, to_row(file, record)
    if collection != "users" or deleted:
        return
    user_id = _text(record.get("sourcedId"))
    roles = record.get("roles")
    for role in roles if isinstance(roles, list) else []:
        if not isinstance(role, dict):
            continue
        row = to_row("roles.csv", role)
        row["sourcedId"] = f"{user_id}~{row['orgSourcedId']}~{row['role']}"
        row["userSourcedId"] = user_id
        row["status"] = "active"
        row["dateLastModified"] = _text(record.get("dateLastModified"))
        yield "roles.csv", row


def manifest(mode: str) -> bytes:
    """The manifest of a package made from a sync: OneRoster 1.2, every roster file `mode`."""
    lines = ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.2"]
    lines += [f"file.{file.removesuffix('.csv')},{mode}" for file in FILES]
    lines.append("source.systemName,oneroster-rest-sync")
    return ("\r\n".join(lines) + "\r\n").encode()
