"""The data service's collections and their indexes (every index starts with district_id).

Queries live in the modules of this package: roster, assessments, reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aptt_platform.readmodel import ReadModel
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

DISTRICTS = "districts"  # district settings, and the import lock
ROSTER_RECORDS = "roster_records"  # accepted OneRoster records (kept columns only)
SCHOOLS = "schools"
CLASSROOMS = "classrooms"
STUDENTS = "students"
GUARDIANS = "guardians"
TEACHERS = "teachers"
# Import jobs (roster and results): state, lease, checkpoint, progress, and the report.
IMPORTS = "imports"
IMPORT_ROWS = "import_rows"  # an import's staged rows, until it is done
IMPORT_REJECTIONS = "import_rejections"  # an import's refused rows, until it is done
IMPORT_WARNINGS = "import_warnings"  # values an import read leniently or left out, until done
UPLOADS = "uploads"  # GridFS bucket of uploaded files, until their import is done
# OneRoster REST sync (decision 0207): a district's provider, and the pages a sync fetched
# until they are packaged for its import.
ROSTER_PROVIDERS = "roster_providers"
SYNC_PAGES = "roster_sync_pages"
SKILLS = "skills"
RESULTS = "results"
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
    ROSTER_RECORDS: [
        _unique("record", "file", "sourced_id"),
        # What points at a record: a user's roles, a class's enrollments, a guardian's
        # children; one multikey index serves every such lookup of an import.
        IndexModel(
            [("district_id", ASCENDING), ("refs", ASCENDING), ("file", ASCENDING)], name="by_ref"
        ),
    ],
    SCHOOLS: [_unique("school", "school_id")],
    CLASSROOMS: [
        _unique("classroom", "classroom_id"),
        IndexModel([("district_id", ASCENDING), ("teacher_ids", ASCENDING)], name="by_teacher"),
        IndexModel([("district_id", ASCENDING), ("student_ids", ASCENDING)], name="by_student"),
        IndexModel([("district_id", ASCENDING), ("school_id", ASCENDING)], name="by_school"),
    ],
    STUDENTS: [
        _unique("student", "student_id"),
        IndexModel([("district_id", ASCENDING), ("guardian_ids", ASCENDING)], name="by_guardian"),
    ],
    GUARDIANS: [_unique("guardian", "guardian_id")],
    TEACHERS: [_unique("teacher", "teacher_id")],
    IMPORTS: [
        _unique("import", "import_id"),
        IndexModel([("district_id", ASCENDING), ("created_at", ASCENDING)], name="by_district"),
        # Workers look for work across districts, as the relay does in the outbox.
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="queue"),
    ],
    IMPORT_ROWS: [
        _unique("row", "import_id", "file", "sourced_id"),
        IndexModel(
            [("district_id", ASCENDING), ("import_id", ASCENDING), ("refs", ASCENDING)],
            name="by_ref",
        ),
        # Rows sent twice in one import: few, reported once the file is staged.
        IndexModel(
            [
                ("district_id", ASCENDING),
                ("import_id", ASCENDING),
                ("conflict", ASCENDING),
                ("file", ASCENDING),
            ],
            name="conflicts",
            partialFilterExpression={"conflict": True},
        ),
    ],
    **{
        collection: [
            IndexModel(
                [
                    ("district_id", ASCENDING),
                    ("import_id", ASCENDING),
                    ("file", ASCENDING),
                    ("line", ASCENDING),
                    ("column", ASCENDING),
                ],
                name="in_report_order",
            )
        ]
        for collection in (IMPORT_REJECTIONS, IMPORT_WARNINGS)
    },
    ROSTER_PROVIDERS: [IndexModel([("district_id", ASCENDING)], name="district", unique=True)],
    SYNC_PAGES: [_unique("page", "import_id", "collection", "offset")],
    SKILLS: [_unique("skill", "code")],
    RESULTS: [
        _unique("result", "student_id", "skill_code", "assessed_on"),
    ],
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
        # Upcoming reports of a school (or a district): a school's data changed.
        IndexModel(
            [("district_id", ASCENDING), ("school_id", ASCENDING), ("starts_at", ASCENDING)],
            name="by_school_start",
        ),
        IndexModel([("district_id", ASCENDING), ("starts_at", ASCENDING)], name="by_start"),
    ],
    MEETINGS.collection: [MEETINGS.index()],
    DISCLOSURES: [
        IndexModel(
            [("district_id", ASCENDING), ("student_id", ASCENDING), ("at", DESCENDING)],
            name="by_student",
        )
    ],
}


IN_BATCH = 50  # the local database answers many short $in lists faster than one long one


async def find_in(
    collection: AsyncCollection[dict[str, Any]],
    query: Mapping[str, Any],
    field: str,
    values: Iterable[Any],
    *,
    projection: Mapping[str, Any] | None = None,
    session: AsyncClientSession | None = None,
) -> list[dict[str, Any]]:
    """Documents whose `field` is one of `values` (and that match `query`)."""
    wanted = list(dict.fromkeys(values))
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), IN_BATCH):
        part = {**query, field: {"$in": wanted[start : start + IN_BATCH]}}
        found += await collection.find(part, projection, session=session).to_list()
    return found


# Outcome analytics (decisions 0230-0232).
from aptt_data.store.outcomes import CLASSROOM_INDEXES, OUTCOME_INDEXES  # noqa: E402

INDEXES = {
    **INDEXES,
    **OUTCOME_INDEXES,
    CLASSROOMS: [*INDEXES[CLASSROOMS], *CLASSROOM_INDEXES],
}
