"""A scheduled home visit as an iCalendar (RFC 5545) file for the pair's calendars."""

from __future__ import annotations

from datetime import datetime

from aptt_platform.errors import Conflict
from icalendar import Calendar, Event

from aptt_scheduling.i18n import visit_summary
from aptt_scheduling.service.visits import VisitView


def visit_calendar(view: VisitView, *, language: str, now: datetime) -> bytes:
    """One VEVENT with a stable UID; each move (0326) and a cancellation raise its SEQUENCE, so
    a calendar replaces the event it has, and a cancelled one comes with status CANCELLED. The
    address is the location: only the pair and the school's coordinators may fetch this file."""
    visit = view.visit
    if visit.starts_at is None or visit.ends_at is None:
        raise Conflict("the visit has no time yet", code="visit-not-scheduled")
    cancelled = visit.status == "cancelled"
    calendar = Calendar()
    calendar.add("prodid", "-//APTT Platform//scheduling//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{visit.visit_id}@aptt.org")
    event.add("dtstamp", now)
    event.add("last-modified", visit.updated_at)
    event.add("dtstart", visit.starts_at)
    event.add("dtend", visit.ends_at)
    event.add("sequence", visit.moves + (1 if cancelled else 0))
    event.add("summary", visit_summary(language, cancelled=cancelled))
    if visit.address:
        event.add("location", visit.address)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
