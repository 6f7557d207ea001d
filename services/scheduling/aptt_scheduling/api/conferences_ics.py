"""Conferences as iCalendar (RFC 5545): a teacher's feed. Each booking keeps one UID; its
SEQUENCE grows with every move or cancellation, so calendars update the event they have."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from aptt_scheduling.domain.conferences import Booking


def booking_uid(booking: Booking) -> str:
    return f"{booking.booking_id}@aptt.org"


def conference_feed(bookings: list[Booking], *, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//APTT Platform//scheduling//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for booking in bookings:
        event = Event()
        event.add("uid", booking_uid(booking))
        event.add("dtstamp", now)
        event.add("dtstart", booking.starts_at)
        event.add("dtend", booking.ends_at)
        event.add("sequence", booking.sequence)
        # Student ids, not names: a calendar is often synced to places the school does not control.
        event.add("summary", f"Conference: student {booking.student_id}")
        if booking.interpreter_language:
            event.add("description", f"Interpreter: {booking.interpreter_language}")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
