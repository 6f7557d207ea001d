"""The OneRoster CSV rostering files this service reads, in both bindings it knows (1.1 and
1.2): columns, required fields and vocabularies; `rowcheck` turns a CSV row into a normalised
record by them.

Records are kept in the 1.2 model whichever binding a package follows: a 1.1 user's `role`
and `orgSourcedIds` become roles.csv records (`split_user`), which 1.1 does not have.

Only the columns the platform uses are kept (`keep`): passwords, usernames and other
identifiers in a package are validated and then dropped (data minimisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from aptt_data.oneroster import fields as f

Mode = Literal["bulk", "delta"]
Version = Literal["1.1", "1.2"]
VERSIONS: tuple[Version, ...] = ("1.1", "1.2")

ORG_TYPES = frozenset({"department", "district", "local", "national", "school", "state"})
ROLES = frozenset(
    {
        "aide",
        "counselor",
        "districtAdministrator",
        "guardian",
        "parent",
        "principal",
        "proctor",
        "relative",
        "siteAdministrator",
        "student",
        "systemAdministrator",
        "teacher",
    }
)
# OneRoster 1.1's user roles, and the 1.2 role each is kept as (1.2 split administrator).
ROLES_1_1 = {
    "administrator": "siteAdministrator",
    "aide": "aide",
    "guardian": "guardian",
    "parent": "parent",
    "proctor": "proctor",
    "relative": "relative",
    "student": "student",
    "teacher": "teacher",
}
GUARDIAN_ROLES = frozenset({"parent", "guardian", "relative"})
ROLE_TYPES = frozenset({"primary", "secondary"})
ENROLLMENT_ROLES = frozenset(
    {"administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"}
)
SESSION_TYPES = frozenset({"gradingPeriod", "semester", "schoolYear", "term"})
CLASS_TYPES = frozenset({"homeroom", "scheduled"})
STATUSES = frozenset({"active", "tobedeleted"})
PREFERRED_LANGUAGE = "metadata.preferredLanguage"
BIRTH_DATE = "metadata.birthDate"  # a student's, for matching incoming kindergarten families


@dataclass(frozen=True)
class Column:
    name: str
    parse: f.Parser = f.text
    required: bool = False


@dataclass(frozen=True)
class FileSpec:
    file: str  # e.g. users.csv
    columns: tuple[Column, ...]
    keep: tuple[str, ...]
    extensions: tuple[Column, ...] = ()

    @property
    def name(self) -> str:
        return self.file.removesuffix(".csv")

    @property
    def manifest_key(self) -> str:
        return f"file.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Record:
    """A valid row: its sourcedId, where it came from, and its kept, normalised fields."""

    file: str
    sourced_id: str
    line: int
    deleted: bool
    fields: dict[str, Any]
    # Where the package wrote it, when that is another file (a 1.1 user's roles).
    source_file: str | None = None


def _common(*columns: Column) -> tuple[Column, ...]:
    return (
        Column("sourcedId", f.sourced_id, required=True),
        Column("status", f.enum(STATUSES)),
        Column("dateLastModified", f.iso_datetime),
        *columns,
    )


@cache
def roster_specs(version: Version, phone_region: str) -> dict[str, FileSpec]:
    """The rostering files of a binding, by file name, in the order they are applied."""
    phone = f.contact_phone(phone_region)
    specs = (
        FileSpec(
            "academicSessions.csv",
            _common(
                Column("title", required=True),
                Column("type", f.enum(SESSION_TYPES, extensible=True), required=True),
                Column("startDate", f.iso_date, required=True),
                Column("endDate", f.iso_date, required=True),
                Column("parentSourcedId", f.sourced_id),
                Column("schoolYear", f.year, required=True),
            ),
            keep=("title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"),
        ),
        FileSpec(
            "orgs.csv",
            _common(
                Column("name", required=True),
                Column("type", f.enum(ORG_TYPES, extensible=True), required=True),
                Column("identifier"),
                Column("parentSourcedId", f.sourced_id),
            ),
            keep=("name", "type", "parentSourcedId"),
        ),
        FileSpec(
            "courses.csv",
            _common(
                Column("schoolYearSourcedId", f.sourced_id),
                Column("title", required=True),
                Column("courseCode"),
                Column("grades", f.grades),
                Column("orgSourcedId", f.sourced_id, required=True),
                Column("subjects"),
                Column("subjectCodes"),
            ),
            keep=("schoolYearSourcedId", "title", "grades", "orgSourcedId"),
        ),
        FileSpec(
            "classes.csv",
            _common(
                Column("title", required=True),
                Column("grades", f.grades),
                Column("courseSourcedId", f.sourced_id, required=True),
                Column("classCode"),
                Column("classType", f.enum(CLASS_TYPES, extensible=True), required=True),
                Column("location"),
                Column("schoolSourcedId", f.sourced_id, required=True),
                Column("termSourcedIds", f.sourced_ids, required=True),
                Column("subjects"),
                Column("subjectCodes"),
                Column("periods"),
            ),
            keep=(
                "title",
                "grades",
                "courseSourcedId",
                "classType",
                "schoolSourcedId",
                "termSourcedIds",
            ),
        ),
        FileSpec(
            "users.csv",
            _common(
                Column("enabledUser", f.boolean, required=True),
                Column("username"),
                Column("userIds"),
                Column("givenName", required=True),
                Column("familyName", required=True),
                Column("middleName"),
                Column("identifier"),
                Column("email", f.contact_email),
                Column("sms", phone),
                Column("phone", phone),
                Column("agentSourcedIds", f.sourced_ids),
                Column("grades", f.grades),
                Column("password"),
                Column("userMasterIdentifier"),
                Column("resourceSourcedIds", f.sourced_ids),
                Column("preferredGivenName"),
                Column("preferredMiddleName"),
                Column("preferredFamilyName"),
                Column("primaryOrgSourcedId", f.sourced_id),
                Column("pronouns"),
            ),
            keep=(
                "givenName",
                "familyName",
                "preferredGivenName",
                "preferredFamilyName",
                "email",
                "sms",
                "phone",
                "agentSourcedIds",
                "grades",
                "primaryOrgSourcedId",
                PREFERRED_LANGUAGE,
                BIRTH_DATE,
            ),
            extensions=(Column(PREFERRED_LANGUAGE, f.language), Column(BIRTH_DATE, f.iso_date)),
        ),
        FileSpec(
            "roles.csv",
            _common(
                Column("userSourcedId", f.sourced_id, required=True),
                Column("roleType", f.enum(ROLE_TYPES), required=True),
                Column("role", f.enum(ROLES), required=True),
                Column("beginDate", f.iso_date),
                Column("endDate", f.iso_date),
                Column("orgSourcedId", f.sourced_id, required=True),
                Column("userProfileSourcedId", f.sourced_id),
            ),
            keep=("userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId"),
        ),
        FileSpec(
            "enrollments.csv",
            _common(
                Column("classSourcedId", f.sourced_id, required=True),
                Column("schoolSourcedId", f.sourced_id, required=True),
                Column("userSourcedId", f.sourced_id, required=True),
                Column("role", f.enum(ENROLLMENT_ROLES, extensible=True), required=True),
                Column("primary", f.boolean),
                Column("beginDate", f.iso_date),
                Column("endDate", f.iso_date),
            ),
            keep=(
                "classSourcedId",
                "schoolSourcedId",
                "userSourcedId",
                "role",
                "primary",
                "beginDate",
                "endDate",
            ),
        ),
    )
    by_file = {spec.file: spec for spec in specs}
    if version == "1.1":
        del by_file["roles.csv"]
        by_file["users.csv"] = _users_1_1(phone)
    return by_file


def _users_1_1(phone: f.Parser) -> FileSpec:
    return FileSpec(
        "users.csv",
        _common(
            Column("enabledUser", f.boolean, required=True),
            Column("orgSourcedIds", f.sourced_ids, required=True),
            Column("role", f.enum(frozenset(ROLES_1_1)), required=True),
            Column("username"),
            Column("userIds"),
            Column("givenName", required=True),
            Column("familyName", required=True),
            Column("middleName"),
            Column("identifier"),
            Column("email", f.contact_email),
            Column("sms", phone),
            Column("phone", phone),
            Column("agentSourcedIds", f.sourced_ids),
            Column("grades", f.grades),
            Column("password"),
        ),
        keep=(
            "givenName",
            "familyName",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "role",
            "orgSourcedIds",
            PREFERRED_LANGUAGE,
            BIRTH_DATE,
        ),
        extensions=(Column(PREFERRED_LANGUAGE, f.language), Column(BIRTH_DATE, f.iso_date)),
    )


def split_user(record: Record) -> tuple[Record, list[Record]]:
    """A 1.1 user as the 1.2 model keeps it: the user, and one role per org it names (the
    first org primary, as 1.1 lists a user's orgs with the main one first)."""
    fields = dict(record.fields)
    role = fields.pop("role", None)
    orgs: list[str] = fields.pop("orgSourcedIds", None) or []
    user = Record(record.file, record.sourced_id, record.line, record.deleted, fields)
    if record.deleted or role is None:
        return user, []
    roles = [
        Record(
            file="roles.csv",
            sourced_id=f"{record.sourced_id}~{org}",
            line=record.line,
            deleted=False,
            fields={
                "userSourcedId": record.sourced_id,
                "roleType": "primary" if index == 0 else "secondary",
                "role": ROLES_1_1[role],
                "orgSourcedId": org,
            },
            source_file=record.file,
        )
        for index, org in enumerate(dict.fromkeys(orgs))
    ]
    return user, roles
