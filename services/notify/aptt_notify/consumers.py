"""What the notify service consumes: event type -> handler.

Every handler only records (read models, notices, messages) in the transaction of its dedupe
record; nothing is sent from here. The sender (workers.py) sends.
"""

from __future__ import annotations

# Countdown to kindergarten.
from aptt_contracts.data import (
    ClassroomRemoved,
    ClassroomUpserted,
    GuardianContactUpdated,
    IncomingFamilyRemoved,
    IncomingFamilyUpserted,
    PrivateNumberAssigned,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet
from aptt_contracts.scheduling import (
    AttendanceRecorded,
    ConferenceAvailabilityChanged,
    ConferenceAvailabilityPublished,
    ConferenceBookingCancelled,
    ConferenceBookingMade,
    ConferenceBookingMoved,
    FamilyInvited,
    FamilyOptedIn,
    FamilyOptedOut,
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
    VisitCancelled,
    VisitCompleted,
    VisitMoved,
    VisitProposed,
    VisitScheduled,
    WaitlistOffered,
)
from aptt_platform.consumer import HandlerTable

from aptt_notify.service import (
    attendance,
    conferences,
    countdown,
    events,
    followups,
    roster,
    visit_answers,
)
from aptt_notify.service import visits as home_visits

HANDLERS: HandlerTable = {
    SchoolUpserted: roster.record_school,
    ClassroomUpserted: roster.record_classroom,
    ClassroomRemoved: roster.remove_classroom,
    StudentUpserted: roster.record_student,
    StudentRemoved: roster.remove_student,
    GuardianContactUpdated: roster.record_contact,
    SkillDefined: roster.record_skill,
    TeamMeetingScheduled: events.on_meeting_scheduled,
    TeamMeetingRescheduled: events.on_meeting_rescheduled,
    TeamMeetingCancelled: events.on_meeting_cancelled,
    PrivateNumberAssigned: events.on_private_number,
    GoalSet: events.on_goal_event,
    GoalProgressed: events.on_goal_event,
    GoalMet: events.on_goal_event,
    GoalClosed: events.on_goal_event,
    # Home visits (PTHV).
    FamilyInvited: home_visits.on_visit_event,
    VisitProposed: home_visits.on_visit_event,
    VisitScheduled: home_visits.on_visit_event,
    VisitMoved: home_visits.on_visit_event,
    VisitCancelled: home_visits.on_visit_event,
    # Reach and its survey (docs/decisions/0540).
    VisitCompleted: followups.on_visit_completed,
    # Invitations answered by text (docs/decisions/0541).
    FamilyOptedIn: visit_answers.on_answered,
    FamilyOptedOut: visit_answers.on_answered,
    # Countdown to kindergarten.
    IncomingFamilyUpserted: countdown.on_incoming_family,
    IncomingFamilyRemoved: countdown.on_incoming_family_removed,
    # Reach and surveys (docs/decisions/0512, 0514).
    AttendanceRecorded: attendance.on_attendance,
    # One-to-one conferences (docs/decisions/0530).
    ConferenceAvailabilityPublished: conferences.on_availability,
    ConferenceAvailabilityChanged: conferences.on_availability,
    ConferenceBookingMade: conferences.on_booking,
    ConferenceBookingMoved: conferences.on_booking,
    ConferenceBookingCancelled: conferences.on_booking,
    WaitlistOffered: conferences.on_waitlist_offer,
}
