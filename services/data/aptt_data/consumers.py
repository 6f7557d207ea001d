"""What the data service consumes: event type -> handler.

Team meetings drive class reports: scheduled prepares the report and draws the private
numbers, rescheduled moves (and, if still ahead, refreshes) it, cancelled withdraws it.
"""

from __future__ import annotations

from aptt_contracts.scheduling import (
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_platform.consumer import Handler
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_data.service import Config, reports


def handlers(config: Config) -> dict[str, Handler]:
    async def on_meeting_scheduled(uow: UnitOfWork, event: ReceivedEvent) -> None:
        data = event.data
        assert isinstance(data, TeamMeetingScheduled)
        await reports.prepare_for_meeting(
            uow,
            district_id=data.district_id,
            meeting_id=data.meeting_id,
            classroom_id=data.classroom_id,
            school_id=data.school_id,
            starts_at=data.starts_at,
            skill_code=data.focus_skill_code,
            config=config,
        )

    async def on_meeting_rescheduled(uow: UnitOfWork, event: ReceivedEvent) -> None:
        data = event.data
        assert isinstance(data, TeamMeetingRescheduled)
        await reports.reschedule(
            uow,
            district_id=data.district_id,
            meeting_id=data.meeting_id,
            starts_at=data.starts_at,
            config=config,
        )

    async def on_meeting_cancelled(uow: UnitOfWork, event: ReceivedEvent) -> None:
        data = event.data
        assert isinstance(data, TeamMeetingCancelled)
        await reports.cancel(uow, district_id=data.district_id, meeting_id=data.meeting_id)

    return {
        TeamMeetingScheduled.event_type: on_meeting_scheduled,
        TeamMeetingRescheduled.event_type: on_meeting_rescheduled,
        TeamMeetingCancelled.event_type: on_meeting_cancelled,
    }
