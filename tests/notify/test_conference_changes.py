"""Moves of one conference booking within the change window reach the family as one notice,
with the last time and one calendar update of the last SEQUENCE; a cancel after moves is the
only thing the family hears; a cancelled booking stays cancelled (0542, 0530)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aptt_contracts.scheduling import (
    ConferenceBookingCancelled,
    ConferenceBookingMade,
    ConferenceBookingMoved,
)
from aptt_local.servers import LocalStack
from aptt_local.smtp_sink import ReceivedMail
from aptt_local.testing import eventually
from aptt_notify.i18n import plain_spaces
from aptt_platform.devissuer import DevIssuer
from babel.dates import format_time

from .conftest import NIGHT, District, NotifyApp, running_notify
from .test_conference_messages import booking, event_of, invitation

# Wide enough that a burst of moves is consumed inside one window on a loaded machine.
WINDOW = 6


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer, meeting_change_window_seconds=WINDOW) as app:
        yield app


def moved(made: ConferenceBookingMade, previous: datetime, hours: int, sequence: int) -> Any:
    starts_at = made.starts_at + timedelta(hours=hours)
    fields = made.model_dump() | {
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=20),
        "sequence": sequence,
        "previous_slot_id": made.slot_id,
        "previous_starts_at": previous,
        "by": "staff",
    }
    return ConferenceBookingMoved(**fields)


def moves(made: ConferenceBookingMade, count: int) -> list[ConferenceBookingMoved]:
    """`count` moves, an hour later each time, SEQUENCE 1..count."""
    found: list[ConferenceBookingMoved] = []
    for n in range(1, count + 1):
        previous = found[-1].starts_at if found else made.starts_at
        found.append(moved(made, previous, n, n))
    return found


def local_time(district: District, moment: datetime) -> str:
    zone = ZoneInfo(district.timezone)
    return plain_spaces(format_time(moment, "short", tzinfo=zone, locale="en"))


def plain(mail: ReceivedMail) -> str:
    body = mail.message.get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    return " ".join(text.split())  # however the mail's lines are wrapped


def in_five_days() -> datetime:
    return (datetime.now(UTC) + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)


async def handled(notify: NotifyApp, event_id: str) -> None:
    async def done() -> bool:
        found = await notify.db["processed_events"].find_one({"_id": f"notify:{event_id}"})
        return found is not None

    await eventually(done, timeout=60, what=f"event {event_id} handled")


async def test_three_quick_moves_reach_the_family_as_one_text_and_one_email(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    texting = district.family({"phone": True})
    mailing = district.family({"phone": False, "email": True})
    await district.publish_roster()
    phone = texting.guardians[0].phone
    email = mailing.guardians[0].email
    texted = booking(district, texting, in_five_days())
    mailed = booking(district, mailing, in_five_days())
    await notify.publish(texted, mailed)
    await notify.wait_sms(phone)
    await notify.wait_mail(email)

    text_moves, mail_moves = moves(texted, 3), moves(mailed, 3)
    await notify.publish(*text_moves, *mail_moves)
    [_, change] = await notify.wait_sms(phone, 2)
    last = text_moves[-1].starts_at
    assert change["body"].startswith("Your conference with the teacher moved to")
    assert f" at {local_time(district, last)}" in change["body"]
    [_, change_mail] = await notify.wait_mail(email, 2)
    assert change_mail.message["X-APTT-Template"] == "conference-moved"
    # "It was" the time the family knew before the first move, "now" the last one.
    text = plain(change_mail)
    assert f" at {local_time(district, mailed.starts_at)} to " in text
    assert f" at {local_time(district, mail_moves[-1].starts_at)}." in text
    method, calendar = invitation(change_mail)
    event = event_of(calendar)
    assert method == "REQUEST"
    assert (str(event["UID"]), event["SEQUENCE"]) == (f"conference-{mailed.booking_id}", 3)
    assert event.decoded("DTSTART") == mail_moves[-1].starts_at

    await asyncio.sleep(WINDOW + 1)  # past another change window: nothing more comes
    assert len(notify.sms_to(phone)) == 2
    assert len(notify.mail_to(email)) == 2
    changes = await notify.messages(district.district_id, template="conference-moved")
    assert len(changes) == 2, "one move message per family"


async def test_moves_then_a_cancel_within_the_window_send_only_the_cancel(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True})
    await district.publish_roster()
    email = family.guardians[0].email
    made = booking(district, family, in_five_days())
    await notify.publish(made)
    await notify.wait_mail(email)

    burst = moves(made, 2)
    cancelled = ConferenceBookingCancelled(
        **burst[-1].model_dump(exclude={"previous_slot_id", "previous_starts_at"})
        | {"sequence": 3, "reason_code": "teacher_unavailable"}
    )
    await notify.publish(*burst, cancelled)
    [_, cancel_mail] = await notify.wait_mail(email, 2)
    assert cancel_mail.message["X-APTT-Template"] == "conference-cancelled"
    method, calendar = invitation(cancel_mail)
    assert (method, calendar["METHOD"]) == ("CANCEL", "CANCEL")
    assert event_of(calendar)["SEQUENCE"] == 3

    # Scheduling moves no cancelled booking; a move that says otherwise changes nothing.
    [late_id] = await notify.publish(moved(made, burst[-1].starts_at, 5, 4))
    await handled(notify, late_id)
    await asyncio.sleep(WINDOW + 1)  # past the window the move would have waited out
    assert len(notify.mail_to(email)) == 2
    assert await notify.messages(district.district_id, template="conference-moved") == []
    live = (
        await notify.db["notices"]
        .find({"district_id": district.district_id, "status": {"$in": ["scheduled", "open"]}})
        .to_list()
    )
    assert [n["template"] for n in live if n["template"] != "conference-cancelled"] == []


async def test_two_bookings_of_one_family_moved_at_once_are_told_one_each(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True})
    await district.publish_roster()
    email = family.guardians[0].email
    fall = booking(district, family, in_five_days())
    winter = booking(district, family, in_five_days() + timedelta(days=1), window_id="winter")
    await notify.publish(fall, winter)
    await notify.wait_mail(email, 2)

    await notify.publish(*moves(fall, 2), *moves(winter, 2))
    mails = await notify.wait_mail(email, 4)
    changes = [m for m in mails if m.message["X-APTT-Template"] == "conference-moved"]
    uids = sorted(str(event_of(invitation(m)[1])["UID"]) for m in changes)
    assert uids == sorted(f"conference-{b.booking_id}" for b in (fall, winter))
    assert all(event_of(invitation(m)[1])["SEQUENCE"] == 2 for m in changes)
    await asyncio.sleep(WINDOW + 1)
    assert len(notify.mail_to(email)) == 4


async def test_a_move_after_the_window_is_told_on_its_own(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True})
    await district.publish_roster()
    email = family.guardians[0].email
    made = booking(district, family, in_five_days())
    await notify.publish(made)
    await notify.wait_mail(email)

    first = moved(made, made.starts_at, 1, 1)
    await notify.publish(first)
    await notify.wait_mail(email, 2)  # the first move's window is over: it was told
    second = moved(made, first.starts_at, 2, 2)
    await notify.publish(second)
    *_, told_first, told_second = await notify.wait_mail(email, 3)
    sequences = [event_of(invitation(m)[1])["SEQUENCE"] for m in (told_first, told_second)]
    assert sequences == [1, 2]
    # The second notice's "it was" is the first move's time, which the family was told.
    assert f" at {local_time(district, first.starts_at)} to " in plain(told_second)
    assert event_of(invitation(told_second)[1]).decoded("DTSTART") == second.starts_at


async def test_moves_before_the_confirmation_went_out_make_one_confirmation(
    notify: NotifyApp,
) -> None:
    # Staff book at the front desk at night: the confirmation waits out quiet hours.
    district = notify.district(local_hour=NIGHT)
    family = district.family({"phone": False, "email": True})
    await district.publish_roster()
    d = district.district_id
    made = booking(district, family, in_five_days(), by="staff")
    await notify.publish(made)

    async def waiting() -> bool:
        found = await notify.messages(d, template="conference-confirmed")
        return [m["wait_reason"] for m in found] == ["quiet-hours"]

    await eventually(waiting, timeout=60, what="the confirmation waiting out quiet hours")
    burst = moves(made, 2)
    ids = await notify.publish(*burst)
    await handled(notify, ids[-1])

    async def replaced() -> bool:
        found = await notify.messages(d, template="conference-confirmed", status="pending")
        return [m["params"]["calendar"]["sequence"] for m in found] == [2]

    await eventually(replaced, timeout=60, what="one confirmation, of the last move")
    [pending] = await notify.messages(d, template="conference-confirmed", status="pending")
    assert pending["params"]["starts_at"] == burst[-1].starts_at
    await asyncio.sleep(WINDOW + 1)  # past the window a move notice would have waited out
    assert await notify.messages(d, template="conference-moved") == []
    assert notify.mail_to(family.guardians[0].email) == []
