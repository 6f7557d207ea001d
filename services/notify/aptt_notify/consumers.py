"""What the notify service consumes: event type -> handler.

Every handler only records (read models, notices, messages) in the transaction of its dedupe
record; nothing is sent from here. The sender loop sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aptt_contracts.data import (
    ClassroomRemoved,
    ClassroomUpserted,
    GuardianContactUpdated,
    PrivateNumberAssigned,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet
from aptt_contracts.scheduling import (
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_platform.consumer import Handler
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_notify.service import events, roster
from aptt_notify.service.policy import Policy

PolicyHandler = Callable[..., Awaitable[None]]


def _with(policy: Policy, use_case: PolicyHandler) -> Handler:
    async def handler(uow: UnitOfWork, event: ReceivedEvent) -> None:
        await use_case(uow, event, policy=policy)

    handler.__name__ = use_case.__name__
    return handler


def build_handlers(policy: Policy) -> dict[str, Handler]:
    table: dict[str, PolicyHandler] = {
        SchoolUpserted.event_type: roster.on_school_upserted,
        ClassroomUpserted.event_type: roster.on_classroom_upserted,
        ClassroomRemoved.event_type: roster.on_classroom_removed,
        StudentUpserted.event_type: roster.on_student_upserted,
        StudentRemoved.event_type: roster.on_student_removed,
        GuardianContactUpdated.event_type: roster.on_contact_updated,
        SkillDefined.event_type: roster.on_skill_defined,
        TeamMeetingScheduled.event_type: events.on_meeting_scheduled,
        TeamMeetingRescheduled.event_type: events.on_meeting_rescheduled,
        TeamMeetingCancelled.event_type: events.on_meeting_cancelled,
        PrivateNumberAssigned.event_type: events.on_private_number,
        GoalSet.event_type: events.on_goal_event,
        GoalProgressed.event_type: events.on_goal_event,
        GoalMet.event_type: events.on_goal_event,
        GoalClosed.event_type: events.on_goal_event,
    }
    return {event_type: _with(policy, use_case) for event_type, use_case in table.items()}
