"""Conference messages: the confirmation carries an invitation for the calendar that a move
updates and a cancel removes, reminders follow the booking, sign-up open reaches the
classroom once, the nudge only families without a booking; nobody else hears anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from aptt_contracts.scheduling import (
    ConferenceAvailabilityChanged,
    ConferenceAvailabilityPublished,
    ConferenceBookingCancelled,
    ConferenceBookingMade,
    ConferenceBookingMoved,
    WaitlistOffered,
)
from aptt_local.servers import LocalStack
from aptt_local.smtp_sink import ReceivedMail
from aptt_local.testing import eventually, random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import District, Family, NotifyApp, running_notify

SOON_LEAD = timedelta(minutes=30)


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    minutes = SOON_LEAD.total_seconds() / 60
    async with running_notify(
        local_stack, dev_issuer, conference_reminder_soon_minutes=minutes
    ) as app:
        yield app


def booking(district: District, family: Family, starts_at: datetime, **extra: Any) -> Any:
    fields: dict[str, Any] = {
        "district_id": district.district_id,
        "booking_id": random_id("bk"),
        "slot_id": random_id("slot"),
        "availability_id": random_id("av"),
        "window_id": "fall",
        "classroom_id": district.classroom_id,
        "school_id": district.school_id,
        "student_id": family.student_id,
        "guardian_id": family.guardians[0].guardian_id,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=20),
        "student_led": False,
        "sequence": 0,
        "by": "family",
    }
    return ConferenceBookingMade(**(fields | extra))


def of(documents: list[Any], template: str) -> list[Any]:
    return [doc for doc in documents if doc["template"] == template]


def invitation(mail: ReceivedMail) -> tuple[str, icalendar.Calendar]:
    [part] = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(part.get_content())
    return str(part.get_param("method")), calendar


def event_of(calendar: icalendar.Calendar) -> Any:
    [event] = calendar.walk("VEVENT")
    return event


async def reminders(notify: NotifyApp, district_id: str, booking_id: str) -> list[Any]:
    found: list[Any] = (
        await notify.db["notices"]
        .find({"district_id": district_id, "meeting_id": booking_id})
        .to_list()
    )
    return sorted(
        (n["template"], n["status"], n["due_at"])
        for n in found
        if n["template"].startswith("conference-reminder")
    )


async def test_the_calendar_invitation_is_sent_moved_and_cancelled_with_the_booking(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True, "language": "en"})
    neighbour = district.family({"phone": True, "email": True})
    await district.publish_roster()
    d = district.district_id
    [guardian] = family.guardians
    starts_at = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    made = booking(district, family, starts_at, student_led=True, interpreter_language="es")

    await notify.publish(made)
    [confirmed] = await notify.wait_mail(guardian.email)
    method, calendar = invitation(confirmed)
    event = event_of(calendar)
    assert (method, calendar["METHOD"]) == ("REQUEST", "REQUEST")
    uid = str(event["UID"])
    assert uid == f"conference-{made.booking_id}"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == starts_at
    body = confirmed.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Your child will lead the conference." in text
    assert "An interpreter in Spanish will join you." in text
    assert await reminders(notify, d, made.booking_id) == [
        ("conference-reminder-1d", "scheduled", starts_at - timedelta(days=1)),
        ("conference-reminder-2h", "scheduled", starts_at - SOON_LEAD),
    ]
    [contact] = await notify.db["personal_contacts"].find({"district_id": d}).to_list()
    assert (contact["student_id"], contact["kind"]) == (family.student_id, "conference-booked")

    later = starts_at + timedelta(days=1)
    moved_fields = made.model_dump() | {
        "starts_at": later,
        "ends_at": later + timedelta(minutes=20),
    }
    moved = ConferenceBookingMoved(
        **moved_fields
        | {"sequence": 1, "previous_slot_id": made.slot_id, "previous_starts_at": starts_at}
    )
    await notify.publish(moved)
    _, moved_mail = await notify.wait_mail(guardian.email, count=2)
    method, calendar = invitation(moved_mail)
    event = event_of(calendar)
    assert method == "REQUEST"
    assert (str(event["UID"]), event["SEQUENCE"]) == (uid, 1)
    assert event.decoded("DTSTART") == later
    assert await reminders(notify, d, made.booking_id) == [
        ("conference-reminder-1d", "cancelled", starts_at - timedelta(days=1)),
        ("conference-reminder-1d", "scheduled", later - timedelta(days=1)),
        ("conference-reminder-2h", "cancelled", starts_at - SOON_LEAD),
        ("conference-reminder-2h", "scheduled", later - SOON_LEAD),
    ]

    cancelled = ConferenceBookingCancelled(
        **moved_fields | {"sequence": 2, "by": "staff", "reason_code": "teacher_unavailable"}
    )
    await notify.publish(cancelled)
    *_, cancel_mail = await notify.wait_mail(guardian.email, count=3)
    method, calendar = invitation(cancel_mail)
    event = event_of(calendar)
    assert (method, calendar["METHOD"]) == ("CANCEL", "CANCEL")
    assert (str(event["UID"]), event["SEQUENCE"]) == (uid, 2)
    cancel_body = cancel_mail.message.get_body(("plain",))
    assert cancel_body is not None
    assert "The teacher cannot be there then." in cancel_body.get_content()
    left = await reminders(notify, d, made.booking_id)
    assert [status for _, status, _ in left] == ["cancelled"] * 4
    assert notify.mail_to(neighbour.guardians[0].email) == []
    assert notify.sms_to(neighbour.guardians[0].phone) == []


async def test_a_texting_family_gets_the_confirmation_and_the_reminder_as_texts(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True, "language": "es"})
    await district.publish_roster()
    [guardian] = family.guardians
    # Starts just after the short reminder's lead time: that reminder falls due at once.
    starts_at = datetime.now(UTC) + SOON_LEAD + timedelta(seconds=2)
    await notify.publish(booking(district, family, starts_at, interpreter_language="so"))
    confirmed, reminded = await notify.wait_sms(guardian.phone, count=2)
    assert confirmed["body"].startswith("Su conferencia con el maestro está reservada para el")
    assert "intérprete de somalí" in confirmed["body"]
    assert reminded["body"].startswith("Su conferencia con el maestro empieza pronto")
    [email_free] = of(await notify.deliveries(district.district_id), "conference-confirmed")
    assert email_free["channel"] == "sms"
    assert "calendar" not in email_free


async def test_sign_up_open_reaches_the_classroom_once_and_the_nudge_only_the_unbooked(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    booked = district.family({"phone": True})
    waiting = district.family({"phone": True, "language": "es"})
    await district.publish_roster()
    d = district.district_id
    starts_at = datetime.now(UTC) + timedelta(days=4)
    await notify.publish(booking(district, booked, starts_at))
    await notify.wait_sms(booked.guardians[0].phone)

    now = datetime.now(UTC)
    availability = ConferenceAvailabilityPublished(
        district_id=d,
        availability_id=random_id("av"),
        window_id="fall",
        classroom_id=district.classroom_id,
        school_id=district.school_id,
        slot_minutes=20,
        buffer_minutes=5,
        slot_count=12,
        first_slot_at=starts_at,
        last_slot_ends_at=starts_at + timedelta(hours=4),
        # Published to open tomorrow; the change below opens it now.
        signup_opens_at=now + timedelta(days=1),
        signup_closes_at=now + timedelta(days=2, hours=1),
        student_led=False,
        virtual=False,
    )
    await notify.publish(availability)

    async def planned() -> bool:
        found = await notify.db["notices"].find({"district_id": d}).to_list()
        return ("conference-signup-open", "scheduled") in {
            (n["template"], n["status"]) for n in found
        }

    await eventually(planned, timeout=30, what="sign-up open planned for tomorrow")
    assert notify.sms_to(waiting.guardians[0].phone) == []
    changed = ConferenceAvailabilityChanged(
        **availability.model_dump(
            include={"district_id", "availability_id", "window_id", "classroom_id", "school_id"}
        ),
        slot_count=14,
        slots_added=2,
        slots_removed=0,
        booked_slots_kept=0,
        signup_opens_at=datetime.now(UTC) - timedelta(minutes=1),
        # The nudge is two days before the new close: seconds from now.
        signup_closes_at=datetime.now(UTC) + timedelta(days=2, seconds=3),
        student_led=False,
    )
    await notify.publish(changed)
    link = f"https://aptt.localhost/conferences/{availability.availability_id}"
    opened, nudged = await notify.wait_sms(waiting.guardians[0].phone, count=2)
    assert opened["body"].startswith("Ya puede inscribirse")
    assert opened["body"].endswith(link)
    assert nudged["body"].startswith("La inscripción para las conferencias cierra el")

    async def settled() -> bool:
        messages = of(await notify.messages(d), "conference-nudge")
        return bool(messages) and all(m["status"] != "pending" for m in messages)

    await eventually(settled, timeout=30, what="the nudge dispatched")
    [signup] = [m for m in notify.sms_to(booked.guardians[0].phone) if link in m["body"]]
    assert signup["body"].startswith("Sign-up for parent-teacher conferences is open.")
    assert len(of(await notify.messages(d), "conference-signup-open")) == 2
    [nudge] = of(await notify.messages(d), "conference-nudge")
    assert nudge["recipient_id"] == waiting.guardians[0].guardian_id

    offer = WaitlistOffered(
        district_id=d,
        entry_id=random_id("wl"),
        window_id="fall",
        classroom_id=district.classroom_id,
        school_id=district.school_id,
        student_id=waiting.student_id,
        guardian_id=waiting.guardians[0].guardian_id,
        slot_id=random_id("slot"),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
        hold_expires_at=datetime.now(UTC) + timedelta(minutes=15),
    )
    await notify.publish(offer)
    *_, offered = await notify.wait_sms(waiting.guardians[0].phone, count=3)
    assert offered["body"].startswith("¡Buenas noticias! Se abrió un horario de conferencia")
