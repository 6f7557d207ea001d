"""Team meeting messages end to end: invitations in each guardian's language and channel,
reminders, changes and cancellations, and events that arrive before the roster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aptt_contracts.scheduling import TeamMeetingCancelled, TeamMeetingRescheduled
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually
from aptt_platform.devissuer import DevIssuer

from .conftest import NotifyApp, running_notify, sent_total, texts


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


async def test_invitation_reaches_each_guardian_in_their_language_and_channel(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    sms_family = district.family({"phone": True, "language": "en"})
    email_family = district.family({"phone": False, "email": True, "language": "es"})
    await district.publish_roster()
    sms_before = sent_total("sms", "sent")
    meeting = district.meeting(timedelta(days=10), location="Room 12")
    await notify.publish(meeting)

    english = sms_family.guardians[0]
    [sms] = await notify.wait_sms(english.phone)
    assert sms["body"].startswith("You're invited: family meeting")
    assert ", Room 12 (75 min)" in sms["body"]
    assert "reading aloud" in sms["body"]
    assert "Reply STOP" in sms["body"]
    assert sms["from"] == notify.settings.sms_from

    spanish = email_family.guardians[0]
    [mail] = await notify.wait_mail(spanish.email)
    assert mail.message["X-APTT-Template"] == "meeting-invitation"
    assert mail.message["Content-Language"] == "es"
    assert mail.subject.startswith("Invitación: reunión de familias")
    plain, html = mail.body("plain"), mail.body("html")
    assert plain is not None
    assert plain.startswith("Hola, Ana:")
    assert "Dónde: Room 12" in plain
    assert html is not None
    assert '<html lang="es" dir="ltr">' in html
    assert mail.envelope_to == [spanish.email]

    [item] = await notify.wait_inbox(district.token(spanish), template="meeting-invitation")
    assert item["language"] == "es"
    assert item["channels"] == ["email"]
    assert item["text"].startswith("Le invitamos a la reunión de familias")
    await notify.wait_inbox(district.token(english), status="sent")
    assert sent_total("sms", "sent") >= sms_before + 1

    # Later reminders are planned, not sent: the 7-day one is the next due.
    notices = (
        await notify.db["notices"]
        .find({"district_id": district.district_id, "meeting_id": meeting.meeting_id})
        .to_list()
    )
    planned = {n["template"]: n["status"] for n in notices}
    assert planned == {
        "meeting-invitation": "open",
        "meeting-reminder-7d": "scheduled",
        "meeting-reminder-1d": "scheduled",
        "meeting-reminder-2h": "scheduled",
    }


async def test_events_before_the_roster_reach_everyone_once(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True}, {"phone": False, "email": True})
    meeting = district.meeting(timedelta(days=3))
    # The meeting comes first, then the classroom, then students, contacts and the school.
    await notify.publish(meeting)
    await notify.publish(district.classroom_event())
    await notify.publish(district.student_event(family))
    await asyncio.sleep(1)
    await notify.publish(*[district.contact_event(g) for g in family.guardians])
    await notify.publish(district.school_event())

    texting, emailing = family.guardians
    await notify.wait_sms(texting.phone)
    await notify.wait_mail(emailing.email)
    # The roster again, as a nightly import would send it: nobody is invited twice.
    await district.publish_roster()
    await asyncio.sleep(2)
    assert len(notify.sms_to(texting.phone)) == 1
    assert len(notify.mail_to(emailing.email)) == 1
    invitations = await notify.messages(district.district_id, template="meeting-invitation")
    assert sorted(m["recipient_id"] for m in invitations) == sorted(
        g.guardian_id for g in family.guardians
    )


async def test_the_same_event_delivered_twice_sends_once(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    await district.publish_roster()
    meeting = district.meeting(timedelta(days=5))
    [event_id] = await notify.publish(meeting)
    await notify.publish(meeting, event_id=event_id)
    phone = family.guardians[0].phone
    await notify.wait_sms(phone)
    await asyncio.sleep(2)
    assert len(notify.sms_to(phone)) == 1


async def test_a_reminder_goes_out_at_its_time_and_moves_with_the_meeting(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    phone = family.guardians[0].phone
    await district.publish_roster()
    # Starts in 2 hours and an hour: the 2-hour reminder is an hour away.
    meeting = district.meeting(timedelta(hours=3))
    await notify.publish(meeting)
    await notify.wait_sms(phone)  # the invitation
    moved = TeamMeetingRescheduled(
        district_id=district.district_id,
        meeting_id=meeting.meeting_id,
        classroom_id=district.classroom_id,
        school_id=district.school_id,
        starts_at=meeting.starts_at - timedelta(hours=1) + timedelta(seconds=4),
        previous_starts_at=meeting.starts_at,
        duration_minutes=60,
    )
    await notify.publish(moved)
    # Now the 2-hour reminder is due in seconds: the change notice, then the reminder.
    invitation, change, reminder = texts(await notify.wait_sms(phone, 3))
    assert invitation.startswith("You're invited")
    assert change.startswith("Change: the family meeting")
    assert reminder.startswith("Reminder: the family meeting")
    await asyncio.sleep(3)
    assert len(notify.sms_to(phone)) == 3, "the reminder of the old time is gone"
    reminders = (
        await notify.db["notices"]
        .find({"district_id": district.district_id, "template": "meeting-reminder-2h"})
        .to_list()
    )
    assert sorted(n["status"] for n in reminders) == ["cancelled", "open"]


async def test_a_cancelled_meeting_sends_a_cancellation_and_no_reminders(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True, "language": "es"})
    phone = family.guardians[0].phone
    await district.publish_roster()
    meeting = district.meeting(timedelta(hours=2, seconds=6))
    await notify.publish(meeting)
    await notify.wait_sms(phone)
    await notify.publish(
        TeamMeetingCancelled(
            district_id=district.district_id,
            meeting_id=meeting.meeting_id,
            classroom_id=district.classroom_id,
            school_id=district.school_id,
        )
    )
    invitation, cancellation = texts(await notify.wait_sms(phone, 2))
    assert invitation.startswith("Le invitamos")
    assert cancellation.startswith("Se canceló la reunión")
    await asyncio.sleep(8)  # past the time the 2-hour reminder was due
    assert len(notify.sms_to(phone)) == 2
    token = district.token(family.guardians[0])
    templates = [i["template"] for i in await notify.inbox(token)]
    assert templates == ["meeting-cancelled", "meeting-invitation"]


async def test_messages_wait_for_the_end_of_quiet_hours(notify: NotifyApp) -> None:
    district = notify.district(local_hour=2)  # 02:00 at the school
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    deferred = sent_total("sms", "deferred")
    await notify.publish(district.meeting(timedelta(days=4)))

    async def deferred_to_morning() -> bool:
        found = await notify.messages(district.district_id, template="meeting-invitation")
        return [m["wait_reason"] for m in found] == ["quiet-hours"]

    await eventually(deferred_to_morning, what="the invitation to wait for the morning")
    # It shows in the app when it goes out, in the morning, not in the middle of the night.
    assert await notify.inbox(district.token(guardian)) == []
    assert sent_total("sms", "deferred") > deferred
    await asyncio.sleep(1)
    assert notify.sms_to(guardian.phone) == []


async def test_a_meeting_scheduled_in_the_past_invites_nobody(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    await district.publish_roster()
    await notify.publish(district.meeting(timedelta(hours=-1)))
    later = district.meeting(timedelta(days=2))
    await notify.publish(later)
    [sms] = await notify.wait_sms(family.guardians[0].phone)
    assert sms["body"].startswith("You're invited")
    invitations = await notify.messages(district.district_id, template="meeting-invitation")
    assert [m["meeting_id"] for m in invitations] == [later.meeting_id]


async def test_reminders_keep_the_local_time_once_the_schools_zone_is_known(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    district.family({"phone": True})
    meeting = district.meeting(timedelta(days=1)).model_copy(
        # 18:00 in Los Angeles on the first Monday after clocks move forward in 2027.
        update={"starts_at": datetime(2027, 3, 16, 1, 0, tzinfo=UTC)}
    )
    await notify.publish(meeting)

    async def week_reminder() -> datetime | None:
        found = await notify.db["notices"].find_one(
            {"district_id": district.district_id, "template": "meeting-reminder-7d"}
        )
        return found["due_at"] if found else None

    async def planned() -> bool:
        return await week_reminder() is not None

    await eventually(planned, what="the reminders to be planned")
    # The school is not known yet: a week is 7 x 24 hours.
    assert await week_reminder() == datetime(2027, 3, 9, 1, 0, tzinfo=UTC)
    school = district.school_event().model_copy(update={"timezone": "America/Los_Angeles"})
    await notify.publish(school)

    async def moved() -> bool:
        return await week_reminder() == datetime(2027, 3, 9, 2, 0, tzinfo=UTC)

    await eventually(moved, what="the reminder at 18:00 local time (PST), a week before")
