"""What the scheduling service consumes: event type -> handler.

The roster (`aptt.data.roster.v1`) feeds the read model that says who teaches which
classroom and which guardians belong to which student; class reports tell a teacher that a
meeting's chart is ready; district skills widen the focus skills a meeting may have; goals
events give a conference booking the child's current goals.
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
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet
from aptt_contracts.notify import VisitAnswerReceived
from aptt_platform.consumer import HandlerTable, batched

from aptt_scheduling.service import conferences_goals, roster, visit_answers, visit_coverage

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
    # The child's goals, shown on a conference booking (student-led conferences).
    GoalSet: conferences_goals.on_goal_set,
    GoalProgressed: conferences_goals.on_goal_progressed,
    GoalMet: conferences_goals.on_goal_met,
    GoalClosed: conferences_goals.on_goal_closed,
    # Home-visit invitations answered by text (docs/decisions/0541).
    VisitAnswerReceived: visit_answers.on_sms_answer,
}
