"""Changes to one meeting within the change window reach each family as one notice (0542)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aptt_contracts.scheduling import TeamMeetingRescheduled
from aptt_local.servers import LocalStack
from aptt_notify.i18n import plain_spaces
from aptt_platform.devissuer import DevIssuer
from babel.dates import format_time

from .conftest import NotifyApp, running_notify, texts

# Wide enough that fifteen changes are consumed inside one window on a loaded machine; the
# other notify modules keep a one-second window so their change notices come quickly.
WINDOW = 6


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer, meeting_change_window_seconds=WINDOW) as app:
        yield app


async def test_a_burst_of_changes_reaches_each_family_once_with_the_last_time(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    texted = district.family({"phone": True}, {"phone": True})
    mailed = district.family({"phone": False, "email": True})
    await district.publish_roster()
    meeting = district.meeting(timedelta(days=5))
    await notify.publish(meeting)
    phones = [g.phone for g in texted.guardians]
    for phone in phones:
        await notify.wait_sms(phone)  # the invitation
    email = mailed.guardians[0].email
    await notify.wait_mail(email)

    def moved(hours: int) -> TeamMeetingRescheduled:
        return TeamMeetingRescheduled(
            district_id=district.district_id,
            meeting_id=meeting.meeting_id,
            classroom_id=district.classroom_id,
            school_id=district.school_id,
            starts_at=meeting.starts_at + timedelta(hours=hours),
            previous_starts_at=meeting.starts_at + timedelta(hours=hours - 1),
            duration_minutes=75,
        )

    burst = [moved(hours) for hours in range(1, 16)]  # 15 changes within the change window
    await notify.publish(*burst)
    final = burst[-1].starts_at
    final_time = plain_spaces(
        format_time(final, "short", tzinfo=ZoneInfo(district.timezone), locale="en")
    )
    for phone in phones:
        _invitation, change = texts(await notify.wait_sms(phone, 2))
        assert change.startswith("Change: the family meeting")
        assert f" at {final_time}" in change
    [_, change_mail] = await notify.wait_mail(email, 2)
    assert change_mail.message["X-APTT-Template"] == "meeting-rescheduled"
    await asyncio.sleep(WINDOW + 1)  # past another change window: nothing more comes
    assert [len(notify.sms_to(phone)) for phone in phones] == [2, 2]
    assert len(notify.mail_to(email)) == 2
    changes = await notify.messages(district.district_id, template="meeting-rescheduled")
    assert len(changes) == 3, "one change message per guardian"
