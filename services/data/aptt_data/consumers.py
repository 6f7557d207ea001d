"""What the data service consumes: event model -> handler (in `service`).

Team meetings drive class reports: scheduled prepares the report and draws the private
numbers, rescheduled moves (and, if still ahead, refreshes) it, cancelled withdraws it.
"""

from __future__ import annotations

from aptt_contracts.goals import GoalClosed, GoalMet, GoalSet, PracticeLogged
from aptt_contracts.scheduling import (
    AttendanceRecorded,
    FamilyEventTurnoutRecorded,
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
    VisitCompleted,
)
from aptt_platform.consumer import HandlerTable, batched

from aptt_data.service import outcomes, reports

HANDLERS: HandlerTable = {
    TeamMeetingScheduled: reports.on_meeting_scheduled,
    TeamMeetingRescheduled: reports.on_meeting_rescheduled,
    TeamMeetingCancelled: reports.on_meeting_cancelled,
    # Outcome analytics (decision 0230): attendance and goals.
    AttendanceRecorded: batched(outcomes.record_attendance),
    GoalSet: outcomes.record_goal_set,
    GoalMet: outcomes.record_goal_met,
    GoalClosed: outcomes.record_goal_closed,
    PracticeLogged: outcomes.record_practice,
    FamilyEventTurnoutRecorded: outcomes.record_family_event,
    VisitCompleted: outcomes.record_visit,
}
