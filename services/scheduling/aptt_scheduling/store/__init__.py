"""The scheduling service's collections and their indexes (every index starts with district_id).

Read models of the roster (schools, classrooms, students) and of district skills; the
service's own records (calendar templates, engagement calendars, meeting windows, team
meetings, RSVPs, attendance); `locks`, documents a use case writes only so that two
transactions reading the same facts cannot both commit (see decision 0302).
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, IndexModel

SCHOOLS = "schools"
CLASSROOMS = "classrooms"
STUDENTS = "students"
SKILLS = "skills"
TEMPLATES = "calendar_templates"
CALENDARS = "engagement_calendars"
WINDOWS = "meeting_windows"
MEETINGS = "team_meetings"
RSVPS = "rsvps"
ATTENDANCE = "attendance"
CLASS_REPORTS = "class_reports"
LOCKS = "locks"


def _unique(name: str, *fields: str) -> IndexModel:
    return IndexModel([(f, ASCENDING) for f in ("district_id", *fields)], name=name, unique=True)


def _index(name: str, *fields: str) -> IndexModel:
    return IndexModel([(f, ASCENDING) for f in ("district_id", *fields)], name=name)


# The read models' unique indexes (district, id) keep the names databases already have, not
# ReadModel.index()'s: MongoDB refuses the same keys again under another name.
INDEXES: dict[str, Sequence[IndexModel]] = {
    SCHOOLS: [_unique("one_per_school", "school_id")],
    CLASSROOMS: [
        _unique("one_per_classroom", "classroom_id"),
        _index("by_school", "school_id"),
        _index("by_student", "student_ids"),
    ],
    STUDENTS: [
        _unique("one_per_student", "student_id"),
        _index("by_guardian", "guardian_ids"),
    ],
    SKILLS: [_unique("one_per_skill", "skill_code")],
    TEMPLATES: [_unique("one_per_template", "template_id"), _unique("unique_name", "name")],
    CALENDARS: [
        _unique("one_per_calendar", "calendar_id"),
        _unique("one_per_school_year", "school_id", "school_year"),
    ],
    WINDOWS: [
        _unique("one_per_window", "window_id"),
        _unique("once_per_classroom", "classroom_id", "calendar_id", "sequence"),
        _index("by_classroom_year", "classroom_id", "school_year", "starts_on"),
        _index("by_calendar_window", "calendar_id", "sequence"),
    ],
    MEETINGS: [
        _unique("one_per_meeting", "meeting_id"),
        _index("by_classroom_start", "classroom_id", "starts_at", "meeting_id"),
        _index("by_window", "window_id"),
    ],
    RSVPS: [_unique("one_per_guardian_and_student", "meeting_id", "student_id", "guardian_id")],
    ATTENDANCE: [
        _unique("one_per_guardian_and_student", "meeting_id", "student_id", "guardian_id")
    ],
    CLASS_REPORTS: [_unique("one_per_meeting", "meeting_id")],
}

# Home visits (PTHV): their collections and indexes are declared with their stores.
from aptt_scheduling.store.visit_results import RESULT_INDEXES  # noqa: E402
from aptt_scheduling.store.visits import VISIT_INDEXES  # noqa: E402

INDEXES = {**INDEXES, **VISIT_INDEXES, **RESULT_INDEXES}
# One-to-one conferences keep their collections and indexes in their own module.
from aptt_scheduling.store.conferences import CONFERENCE_INDEXES  # noqa: E402

INDEXES = {**INDEXES, **CONFERENCE_INDEXES}

# Family events and the consolidation view (decision 0330).
from aptt_scheduling.store.family_events import (  # noqa: E402
    FAMILY_EVENT_INDEXES,
    MEETING_INDEXES,
)

INDEXES = {**INDEXES, **FAMILY_EVENT_INDEXES, MEETINGS: [*INDEXES[MEETINGS], *MEETING_INDEXES]}
