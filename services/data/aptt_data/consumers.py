"""What the data service consumes: event model -> handler (in `service`).

Team meetings drive class reports: scheduled prepares the report and draws the private
numbers, rescheduled moves (and, if still ahead, refreshes) it, cancelled withdraws it.
"""

from __future__ import annotations

from aptt_contracts.scheduling import (
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_platform.consumer import HandlerTable

from aptt_data.service import reports

HANDLERS: HandlerTable = {
    TeamMeetingScheduled: reports.on_meeting_scheduled,
    TeamMeetingRescheduled: reports.on_meeting_rescheduled,
    TeamMeetingCancelled: reports.on_meeting_cancelled,
}
