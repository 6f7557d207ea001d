"""A team meeting as an iCalendar (RFC 5545) file, for families' and teachers' calendars."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from aptt_scheduling.i18n import meeting_summary
from aptt_scheduling.service.meetings import MeetingView


def meeting_calendar(view: MeetingView, *, language: str, now: datetime) -> bytes:
    """One VEVENT whose UID stays the same and whose SEQUENCE grows with each move, so a
    calendar updates the event it already has instead of adding another. Its texts are in
    `language`, one of the catalogues' languages."""
    meeting = view.meeting
    calendar = Calendar()
    calendar.add("prodid", "-//APTT Platform//scheduling//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{meeting.meeting_id}@aptt.org")
    event.add("dtstamp", now)
    event.add("last-modified", meeting.updated_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("sequence", len(meeting.previous_starts) + (0 if meeting.active else 1))
    event.add("summary", meeting_summary(language, cancelled=not meeting.active))
    event.add("location", meeting.location)
    event.add("description", "\n".join(f"- {item}" for item in meeting.agenda))
    event.add("status", "CONFIRMED" if meeting.active else "CANCELLED")
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
