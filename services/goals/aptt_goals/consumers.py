"""What the goals service consumes: event model -> handler in `service`."""

from __future__ import annotations

from aptt_contracts.data import (
    AssessmentResultRecorded,
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.scheduling import AttendanceRecorded
from aptt_platform.consumer import HandlerTable

from aptt_goals.service import handlers

HANDLERS: HandlerTable = {
    StudentUpserted: handlers.record_student,
    StudentRemoved: handlers.remove_student,
    ClassroomUpserted: handlers.record_classroom,
    ClassroomRemoved: handlers.remove_classroom,
    SchoolUpserted: handlers.record_school,
    SkillDefined: handlers.record_skill,
    AssessmentResultRecorded: handlers.record_result,
    AttendanceRecorded: handlers.record_attendance,
}
