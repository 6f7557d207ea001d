"""What the scheduling service consumes: event type -> handler.

The roster (`aptt.data.roster.v1`) feeds the read model that says who teaches which
classroom and which guardians belong to which student; class reports tell a teacher that a
meeting's chart is ready; district skills widen the focus skills a meeting may have.
"""

from __future__ import annotations

from aptt_contracts.data import (
    AssessmentResultRecorded,
    ClassReportPublished,
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_platform.consumer import HandlerTable, batched

from aptt_scheduling.service import roster, visit_coverage

HANDLERS: HandlerTable = {
    SchoolUpserted: roster.record_school,
    ClassroomUpserted: roster.record_classroom,
    ClassroomRemoved: roster.remove_classroom,
    StudentUpserted: batched(roster.record_students),
    StudentRemoved: roster.remove_student,
    SkillDefined: roster.record_skill,
    ClassReportPublished: roster.record_class_report,
    # Home-visit coverage reads the latest results.
    AssessmentResultRecorded: visit_coverage.record_result,
}
