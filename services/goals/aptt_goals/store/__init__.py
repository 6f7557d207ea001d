"""The goals service's collections and their indexes (every index starts with district_id)."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING, IndexModel

from aptt_goals.store.common import (
    ACTIVITIES,
    CLASSROOMS,
    DISCLOSURES,
    GOALS,
    OPENINGS,
    PRACTICE,
    RESULTS,
    SCHOOLS,
    SKILLS,
    STUDENTS,
)
from aptt_goals.store.common import index as _index
from aptt_goals.store.goals import (
    active_goal,
    districts_with_active_goals,
    due_goal_ids,
    get_goal,
    goal_doc,
    goal_from_doc,
    insert_goal,
    insert_practice,
    list_goals,
    list_practice,
    minutes_on,
    save_goal,
)
from aptt_goals.store.library import (
    activities_by_code,
    insert_activity,
    list_activities,
    record_disclosure,
)
from aptt_goals.store.roster import (
    CLASSROOM_MODEL,
    SCHOOL_MODEL,
    SKILL_MODEL,
    STUDENT_MODEL,
    attended_focus_skill,
    classrooms_of_student,
    district_skills,
    get_classroom,
    get_student,
    goal_setting_open,
    latest_result,
    record_opening,
    remove_classroom,
    remove_student,
    school_timezone,
    upsert_classroom,
    upsert_result,
    upsert_school,
    upsert_skill,
    upsert_student,
)

INDEXES: dict[str, Sequence[IndexModel]] = {
    STUDENTS: [STUDENT_MODEL.index()],
    # A student's classrooms: a teacher's access and the grade when the student has none.
    CLASSROOMS: [CLASSROOM_MODEL.index(), _index("student_ids")],
    SCHOOLS: [SCHOOL_MODEL.index()],
    SKILLS: [SKILL_MODEL.index()],
    RESULTS: [_index("result_id", unique=True), _index("student_id", "skill_code", "assessed_on")],
    OPENINGS: [_index("student_id", "guardian_id", "meeting_id", unique=True)],
    GOALS: [
        _index("goal_id", unique=True),
        # One active goal per student and skill: the rule is the index, not a read-then-write.
        _index(
            "student_id",
            "skill_code",
            unique=True,
            name="one_active_goal",
            partialFilterExpression={"status": "active"},
        ),
        IndexModel([("district_id", ASCENDING), ("student_id", ASCENDING), ("_id", DESCENDING)]),
        _index("status", "closes_at"),
    ],
    PRACTICE: [_index("practice_id", unique=True), _index("goal_id", "practiced_on")],
    ACTIVITIES: [_index("code", unique=True), _index("skill_code", "code")],
    DISCLOSURES: [_index("student_id", "at")],
}


__all__ = [
    "INDEXES",
    "active_goal",
    "activities_by_code",
    "attended_focus_skill",
    "classrooms_of_student",
    "district_skills",
    "districts_with_active_goals",
    "due_goal_ids",
    "get_classroom",
    "get_goal",
    "get_student",
    "goal_doc",
    "goal_from_doc",
    "goal_setting_open",
    "insert_activity",
    "insert_goal",
    "insert_practice",
    "latest_result",
    "list_activities",
    "list_goals",
    "list_practice",
    "minutes_on",
    "record_disclosure",
    "record_opening",
    "remove_classroom",
    "remove_student",
    "save_goal",
    "school_timezone",
    "upsert_classroom",
    "upsert_result",
    "upsert_school",
    "upsert_skill",
    "upsert_student",
]
