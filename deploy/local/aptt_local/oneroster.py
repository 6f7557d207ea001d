"""Builds valid OneRoster 1.2 or 1.1 CSV packages from a plain description of a district.

Used by the data service's tests, the end-to-end test and the demo seeding:

    roster = Roster(district_id="d-1", district_name="Oakland", schools=[...], ...)
    zip_bytes = build_package(roster)              # bulk; mode="delta" for a delta package
    zip_bytes = build_package(roster, version="1.1", style=ExportStyle(quote_all=True))
    csv_bytes = results_csv([("s-1", "orf", 87, date(2026, 10, 1))])

An `ExportStyle` writes the package with the habits of a real SIS or rostering hub export
(column order, quoting, line ends, byte-order mark, booleans in capitals, phone numbers
without +country, status and dates on bulk rows, extra files, a folder in the zip).

Guardians are users with a parent, guardian or relative role, linked to their students
through `agentSourcedIds` both ways; their preferred language is the extension column
`metadata.preferredLanguage`. A description that points at something it does not define
raises ValueError, so a package built here is always valid.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

Mode = Literal["bulk", "delta"]
Version = Literal["1.1", "1.2"]

# The column order of the OneRoster 1.2 CSV binding, plus our one extension column.
_COLUMNS = """
orgs.csv sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
academicSessions.csv sourcedId,status,dateLastModified,title,type,startDate,endDate,\
parentSourcedId,schoolYear
courses.csv sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,\
orgSourcedId,subjects,subjectCodes
classes.csv sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,\
location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
users.csv sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,\
middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,\
resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,\
primaryOrgSourcedId,pronouns,metadata.birthDate,metadata.preferredLanguage
roles.csv sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,\
orgSourcedId,userProfileSourcedId
enrollments.csv sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,\
role,primary,beginDate,endDate
"""
HEADERS: dict[str, list[str]] = {
    name: columns.split(",")
    for name, columns in (line.split(" ") for line in _COLUMNS.strip().splitlines())
}
# OneRoster 1.1 writes a user's one role and its orgs in users.csv and has no roles.csv.
USERS_1_1 = [
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "metadata.birthDate",
    "metadata.preferredLanguage",
]
MANIFEST_FILES_1_1 = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItems",
    "orgs",
    "resources",
    "results",
    "users",
)
ALL_MANIFEST_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "orgs",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
    "users",
)
RESULTS_HEADER = ("student_sourced_id", "skill_code", "score", "assessed_on")


@dataclass(frozen=True)
class ExportStyle:
    """How a SIS or rostering hub writes its export. The defaults write the binding as
    published: its column order, true/false, E.164 phones, CRLF, no BOM."""

    system_name: str = "aptt_local.oneroster"
    columns: dict[str, list[str]] = field(default_factory=dict)  # file -> the columns written
    quote_all: bool = False
    line_end: str = "\r\n"
    bom: bool = False
    booleans: tuple[str, str] = ("true", "false")
    phone: Callable[[str], str] | None = None  # how a phone number is written
    stamp_bulk: bool = False  # status and dateLastModified on bulk rows too
    extra_files: dict[str, bytes] = field(default_factory=dict)  # listed bulk in the manifest
    folder: str | None = None  # every file under one folder of the zip

    def header(self, file: str, binding: list[str]) -> list[str]:
        chosen = self.columns.get(file, binding)
        unknown = [c for c in chosen if c not in binding]
        if unknown:
            raise ValueError(f"{file} has no column(s) {', '.join(unknown)} in this binding")
        return chosen


@dataclass(frozen=True)
class School:
    sourced_id: str
    name: str


@dataclass(frozen=True)
class Teacher:
    sourced_id: str
    given_name: str
    family_name: str
    email: str
    school_id: str


@dataclass(frozen=True)
class Classroom:
    sourced_id: str
    school_id: str
    title: str
    grade: int  # 0 is kindergarten
    teacher_id: str


@dataclass(frozen=True)
class Student:
    sourced_id: str
    given_name: str
    family_name: str
    grade: int
    school_id: str
    classroom_ids: list[str] = field(default_factory=list)
    birth_date: str | None = None  # YYYY-MM-DD, the users.csv extension column


@dataclass(frozen=True)
class Guardian:
    sourced_id: str
    given_name: str
    family_name: str
    email: str | None
    phone: str | None
    language: str
    role: Literal["parent", "guardian", "relative"]
    student_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Roster:
    district_id: str
    district_name: str
    schools: list[School]
    teachers: list[Teacher]
    classrooms: list[Classroom]
    students: list[Student]
    guardians: list[Guardian]
    school_year_start: date


def grade_code(grade: int) -> str:
    if not 0 <= grade <= 12:
        raise ValueError(f"grade {grade} is not 0 (kindergarten) to 12")
    return "KG" if grade == 0 else f"{grade:02d}"


def school_year_id(roster: Roster) -> str:
    return f"{roster.district_id}-sy-{roster.school_year_start.year}"


def _check(roster: Roster) -> None:
    schools = {s.sourced_id for s in roster.schools}
    teachers = {t.sourced_id for t in roster.teachers}
    classrooms = {c.sourced_id for c in roster.classrooms}
    students = {s.sourced_id for s in roster.students}
    users = [*teachers, *students, *(g.sourced_id for g in roster.guardians)]
    if len(users) != len(set(users)):
        raise ValueError("teachers, students and guardians need distinct sourcedIds")
    problems = [
        f"teacher {t.sourced_id}: no school {t.school_id}"
        for t in roster.teachers
        if t.school_id not in schools
    ]
    for c in roster.classrooms:
        if c.school_id not in schools:
            problems.append(f"classroom {c.sourced_id}: no school {c.school_id}")
        if c.teacher_id not in teachers:
            problems.append(f"classroom {c.sourced_id}: no teacher {c.teacher_id}")
        grade_code(c.grade)
    for s in roster.students:
        if s.school_id not in schools:
            problems.append(f"student {s.sourced_id}: no school {s.school_id}")
        problems += [
            f"student {s.sourced_id}: no classroom {c}"
            for c in s.classroom_ids
            if c not in classrooms
        ]
        grade_code(s.grade)
    for g in roster.guardians:
        problems += [
            f"guardian {g.sourced_id}: no student {s}" for s in g.student_ids if s not in students
        ]
    if problems:
        raise ValueError("; ".join(problems))


def _csv(
    header: Sequence[str], rows: Iterable[dict[str, str]], style: ExportStyle | None = None
) -> bytes:
    style = style or ExportStyle()
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=list(header),
        lineterminator=style.line_end,
        quoting=csv.QUOTE_ALL if style.quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return (b"\xef\xbb\xbf" if style.bom else b"") + out.getvalue().encode()


def package_files(
    roster: Roster,
    *,
    mode: Mode = "bulk",
    version: Version = "1.2",
    style: ExportStyle | None = None,
) -> dict[str, bytes]:
    """The package's CSV files by name (manifest.csv included), before zipping."""
    _check(roster)
    style = style or ExportStyle()
    stamp = datetime(
        roster.school_year_start.year, roster.school_year_start.month, 1, tzinfo=UTC
    ).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stamped = mode == "delta" or style.stamp_bulk
    common = {"status": "active", "dateLastModified": stamp} if stamped else {}
    true, false = style.booleans
    written_phone = style.phone or (lambda number: number)
    year_id = school_year_id(roster)
    ends = roster.school_year_start.replace(year=roster.school_year_start.year + 1)
    sessions = [
        {
            "sourcedId": year_id,
            "title": f"{roster.school_year_start.year}-{ends.year}",
            "type": "schoolYear",
            "startDate": roster.school_year_start.isoformat(),
            "endDate": (ends - timedelta(days=1)).isoformat(),
            "schoolYear": str(ends.year),
        }
    ]
    orgs = [{"sourcedId": roster.district_id, "name": roster.district_name, "type": "district"}]
    orgs += [
        {
            "sourcedId": s.sourced_id,
            "name": s.name,
            "type": "school",
            "parentSourcedId": roster.district_id,
        }
        for s in roster.schools
    ]
    courses, classes, enrollments = [], [], []
    for c in roster.classrooms:
        course_id = f"{c.sourced_id}-course"
        courses.append(
            {
                "sourcedId": course_id,
                "schoolYearSourcedId": year_id,
                "title": c.title,
                "grades": grade_code(c.grade),
                "orgSourcedId": c.school_id,
            }
        )
        classes.append(
            {
                "sourcedId": c.sourced_id,
                "title": c.title,
                "grades": grade_code(c.grade),
                "courseSourcedId": course_id,
                "classType": "homeroom",
                "schoolSourcedId": c.school_id,
                "termSourcedIds": year_id,
            }
        )
        enrollments.append(
            {
                "sourcedId": f"{c.sourced_id}-{c.teacher_id}",
                "classSourcedId": c.sourced_id,
                "schoolSourcedId": c.school_id,
                "userSourcedId": c.teacher_id,
                "role": "teacher",
                "primary": true,
            }
        )
    school_of_class = {c.sourced_id: c.school_id for c in roster.classrooms}
    users, roles = [], []
    for t in roster.teachers:
        users.append(_user(t.sourced_id, t.given_name, t.family_name, email=t.email))
        roles.append(_role(t.sourced_id, "teacher", t.school_id))
    guardians_of: dict[str, list[str]] = {}
    for g in roster.guardians:
        for s in g.student_ids:
            guardians_of.setdefault(s, []).append(g.sourced_id)
    school_of_student = {}
    for student in roster.students:
        school_of_student[student.sourced_id] = student.school_id
        user = _user(student.sourced_id, student.given_name, student.family_name)
        user.update(
            grades=grade_code(student.grade),
            agentSourcedIds=",".join(guardians_of.get(student.sourced_id, [])),
            primaryOrgSourcedId=student.school_id,
            **{"metadata.birthDate": student.birth_date or ""},
        )
        users.append(user)
        roles.append(_role(student.sourced_id, "student", student.school_id))
        for class_id in student.classroom_ids:
            enrollments.append(
                {
                    "sourcedId": f"{class_id}-{student.sourced_id}",
                    "classSourcedId": class_id,
                    "schoolSourcedId": school_of_class[class_id],
                    "userSourcedId": student.sourced_id,
                    "role": "student",
                    "primary": false,
                }
            )
    for g in roster.guardians:
        user = _user(g.sourced_id, g.given_name, g.family_name, email=g.email)
        user.update(
            sms=written_phone(g.phone) if g.phone else "",
            phone=written_phone(g.phone) if g.phone else "",
            agentSourcedIds=",".join(g.student_ids),
            **{"metadata.preferredLanguage": g.language},
        )
        users.append(user)
        org = school_of_student[g.student_ids[0]] if g.student_ids else roster.district_id
        roles.append(_role(g.sourced_id, g.role, org))
    for user in users:
        user["enabledUser"] = true
    files = {
        "academicSessions.csv": sessions,
        "orgs.csv": orgs,
        "courses.csv": courses,
        "classes.csv": classes,
        "users.csv": users,
        "roles.csv": roles,
        "enrollments.csv": enrollments,
    }
    headers = dict(HEADERS)
    listed: tuple[str, ...] = ALL_MANIFEST_FILES
    if version == "1.1":
        role_of = {r["userSourcedId"]: r for r in files.pop("roles.csv")}
        for user in users:
            role = role_of[user["sourcedId"]]
            user.update(role=role["role"], orgSourcedIds=role["orgSourcedId"])
        headers["users.csv"] = USERS_1_1
        listed = MANIFEST_FILES_1_1
    out = {
        name: _csv(style.header(name, headers[name]), ({**common, **row} for row in rows), style)
        for name, rows in files.items()
    }
    out.update(style.extra_files)
    manifest = [("manifest.version", "1.0"), ("oneroster.version", version)]
    present = {name.removesuffix(".csv") for name in out}
    manifest += [(f"file.{n}", mode if n in present else "absent") for n in listed]
    manifest += [("source.systemName", style.system_name), ("source.systemCode", "aptt")]
    out["manifest.csv"] = _csv(
        ["propertyName", "value"], ({"propertyName": k, "value": v} for k, v in manifest), style
    )
    return out


def _user(sourced_id: str, given: str, family: str, *, email: str | None = None) -> dict[str, str]:
    return {
        "sourcedId": sourced_id,
        "enabledUser": "true",
        "username": sourced_id,
        "givenName": given,
        "familyName": family,
        "email": email or "",
    }


def _role(user_id: str, role: str, org_id: str) -> dict[str, str]:
    return {
        "sourcedId": f"{user_id}-{role}-{org_id}",
        "userSourcedId": user_id,
        "roleType": "primary",
        "role": role,
        "orgSourcedId": org_id,
    }


def zip_files(files: dict[str, bytes], *, folder: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{folder}/{name}" if folder else name, content)
    return buffer.getvalue()


def build_package(
    roster: Roster,
    *,
    mode: Mode = "bulk",
    version: Version = "1.2",
    style: ExportStyle | None = None,
) -> bytes:
    """A OneRoster CSV package (zip bytes) describing `roster`, written in `style`."""
    files = package_files(roster, mode=mode, version=version, style=style)
    return zip_files(files, folder=style.folder if style else None)


def results_csv(rows: list[tuple[str, str, float, date]]) -> bytes:
    """A results upload: student_sourced_id,skill_code,score,assessed_on."""
    return _csv(
        RESULTS_HEADER,
        (
            {
                "student_sourced_id": student,
                "skill_code": skill,
                "score": f"{score:g}",
                "assessed_on": day.isoformat(),
            }
            for student, skill, score, day in rows
        ),
    )


_PER_CLASS = 25
_CLASSES_PER_SCHOOL = 20


def generated_roster(district: str, students: int) -> Roster:
    """A district of `students` students in classes of 25, each with a guardian (every
    tenth guardian also has a second child), 20 classrooms per school: the large imports of
    the tests and of `make bench`."""
    rooms = max(1, students // _PER_CLASS)
    schools = [School(f"sch{i}", f"School {i}") for i in range(rooms // _CLASSES_PER_SCHOOL + 1)]
    teachers, classrooms, kids, guardians = [], [], [], []
    for r in range(rooms):
        school = f"sch{r // _CLASSES_PER_SCHOOL}"
        teachers.append(Teacher(f"t{r}", "Teach", f"Er{r}", f"t{r}@example.org", school))
        classrooms.append(Classroom(f"c{r}", school, f"Room {r}", 1 + r % 5, f"t{r}"))
    for s in range(students):
        room = classrooms[s % rooms]
        kids.append(Student(f"s{s}", "Kid", f"K{s}", room.grade, room.school_id, [room.sourced_id]))
    for s in range(students):
        children = [f"s{s}"] + ([f"s{s + 1}"] if s % 10 == 0 and s + 1 < students else [])
        guardians.append(
            Guardian(
                f"g{s}", "Parent", f"P{s}", f"g{s}@example.org", None, "es", "parent", children
            )
        )
    return Roster(
        district_id=district,
        district_name="Generated Unified",
        schools=schools,
        teachers=teachers,
        classrooms=classrooms,
        students=kids,
        guardians=guardians,
        school_year_start=date(2026, 8, 1),
    )
