"""The data service's collections and their indexes (every index starts with district_id).

Queries live in the modules of this package: roster, assessments, reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from aptt_platform.readmodel import ReadModel
from pymongo import ASCENDING, DESCENDING, IndexModel

DISTRICTS = "districts"  # district settings, and the import lock
ROSTER_RECORDS = "roster_records"  # accepted OneRoster records (kept columns only)
SCHOOLS = "schools"
CLASSROOMS = "classrooms"
STUDENTS = "students"
GUARDIANS = "guardians"
TEACHERS = "teachers"
ROSTER_IMPORTS = "roster_imports"
SKILLS = "skills"
RESULTS = "results"
ASSESSMENT_IMPORTS = "assessment_imports"
CLASS_REPORTS = "class_reports"
DISCLOSURES = "disclosures"
# Scheduling's team meetings, as far as class reports need them (a read model, with tombstones).
MEETINGS = ReadModel("meetings", "meeting_id")


def _unique(name: str, *keys: str) -> IndexModel:
    return IndexModel(
        [("district_id", ASCENDING), *((k, ASCENDING) for k in keys)], name=name, unique=True
    )


INDEXES: dict[str, Sequence[IndexModel]] = {
    DISTRICTS: [
        _unique(
            "district",
        )
    ],
    ROSTER_RECORDS: [_unique("record", "file", "sourced_id")],
    SCHOOLS: [_unique("school", "school_id")],
    CLASSROOMS: [
        _unique("classroom", "classroom_id"),
        IndexModel([("district_id", ASCENDING), ("teacher_ids", ASCENDING)], name="by_teacher"),
        IndexModel([("district_id", ASCENDING), ("student_ids", ASCENDING)], name="by_student"),
    ],
    STUDENTS: [
        _unique("student", "student_id"),
        IndexModel([("district_id", ASCENDING), ("guardian_ids", ASCENDING)], name="by_guardian"),
    ],
    GUARDIANS: [_unique("guardian", "guardian_id")],
    TEACHERS: [_unique("teacher", "teacher_id")],
    ROSTER_IMPORTS: [_unique("import", "import_id")],
    SKILLS: [_unique("skill", "code")],
    RESULTS: [
        _unique("result", "student_id", "skill_code", "assessed_on"),
    ],
    ASSESSMENT_IMPORTS: [_unique("import", "import_id")],
    CLASS_REPORTS: [
        _unique("meeting", "meeting_id"),
        _unique("report", "report_id"),
        IndexModel(
            [
                ("district_id", ASCENDING),
                ("classroom_id", ASCENDING),
                ("skill_code", ASCENDING),
                ("starts_at", DESCENDING),
            ],
            name="by_classroom_skill",
        ),
    ],
    MEETINGS.collection: [MEETINGS.index()],
    DISCLOSURES: [
        IndexModel(
            [("district_id", ASCENDING), ("student_id", ASCENDING), ("at", DESCENDING)],
            name="by_student",
        )
    ],
}
