"""A fan-out of some hundreds of messages (one meeting to 300 families) reaches each family
exactly once, counted in the SMTP sink, the SMS stand-in and the database, also when the
sender is stopped mid-batch and started again, and when it dies between the provider
accepting messages and recording them (the counted window of docs/decisions/0501)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aptt_contracts.notify import DELIVERIES
from aptt_local.kafkatools import read_topic
from aptt_local.servers import LocalStack
from aptt_local.sms_standin import read_sms
from aptt_local.smtp_sink import ReceivedMail, read_mail
from aptt_local.testing import eventually, random_name
from aptt_notify.service.outcomes import Outcome
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import header_dict
from pymongo import AsyncMongoClient

from .conftest import District, NotifyApp, running_notify

FAMILIES = 300
SENDER = {
    # Slow enough that a stop lands in the middle of the fan-out, with several batches.
    "sms_rate_per_second": 60.0,
    "email_rate_per_second": 60.0,
    "sender_batch_size": 40,
    "rate_limit_district_per_hour": 10_000,
    "sender_shutdown_grace_seconds": 5.0,
}


@dataclass
class FanOut:
    """One district of 300 families (half reached by SMS, half by email) in its own
    database, shared by this module's tests; each test invites them to its own meeting."""

    database: str
    district: District


@dataclass
class Meeting:
    fan_out: FanOut
    event_id: str
    place: str  # named in every text of this meeting, so the sinks can tell them apart

    @property
    def district(self) -> District:
        return self.fan_out.district


@pytest.fixture(scope="module")
async def fan_out(local_stack: LocalStack, dev_issuer: DevIssuer) -> FanOut:
    database = f"test_notify_{random_name(6)}"
    async with running_notify(local_stack, dev_issuer, mongo_database=database) as notify:
        district = notify.district()
        for n in range(FAMILIES):
            district.family({"phone": n % 2 == 0, "email": n % 2 == 1})
        await district.publish_roster(timeout=180)
    return FanOut(database, district)


async def invite(notify: NotifyApp, fan_out: FanOut) -> Meeting:
    place = f"Room {random_name(6)}"
    [event_id] = await notify.publish(fan_out.district.meeting(timedelta(days=3), location=place))
    return Meeting(fan_out, event_id, place)


def sms_by_phone(notify: NotifyApp, meeting: Meeting) -> Counter[str]:
    return Counter(m["to"] for m in read_sms(notify.stack.sms_store) if meeting.place in m["body"])


def _mails(notify: NotifyApp, meeting: Meeting) -> list[ReceivedMail]:
    return [m for m in read_mail(notify.stack.maildir) if meeting.place in (m.body("plain") or "")]


def mail_by_address(notify: NotifyApp, meeting: Meeting) -> Counter[str]:
    return Counter(to for mail in _mails(notify, meeting) for to in mail.envelope_to)


def message_ids(notify: NotifyApp, meeting: Meeting, address: str) -> set[str]:
    return {
        str(mail.message["Message-ID"])
        for mail in _mails(notify, meeting)
        if address in mail.envelope_to
    }


async def deliveries(stack: LocalStack, meeting: Meeting) -> list[dict[str, Any]]:
    """The meeting's deliveries, read with a client of the test's own, so they can be read
    between a process that stopped and the next one."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    query = {"district_id": meeting.district.district_id, "source_event_id": meeting.event_id}
    try:
        found: list[dict[str, Any]] = (
            await client[meeting.fan_out.database]["deliveries"].find(query).to_list()
        )
    finally:
        await client.close()
    return found


async def sent_events(notify: NotifyApp, meeting: Meeting) -> list[dict[str, Any]]:
    found = []
    for record in await read_topic(notify.stack.kafka_bootstrap, DELIVERIES):
        headers = header_dict(record.headers)
        if headers["ce_type"].decode() != "org.aptt.notify.message.sent.v1":
            continue
        event = json.loads(record.value or b"{}")
        if event["source_event_id"] == meeting.event_id:
            found.append(event)
    return found


async def all_sent(notify: NotifyApp, meeting: Meeting) -> None:
    async def done() -> bool:
        found = await deliveries(notify.stack, meeting)
        return len(found) == FAMILIES and all(d["status"] == "sent" for d in found)

    await eventually(done, timeout=180, what=f"{FAMILIES} deliveries sent")


async def assert_each_family_heard_once_in_the_database(
    notify: NotifyApp, meeting: Meeting
) -> None:
    found = await deliveries(notify.stack, meeting)
    assert len(found) == FAMILIES
    assert Counter(d["channel"] for d in found) == {"sms": FAMILIES // 2, "email": FAMILIES // 2}
    assert len({d["recipient_id"] for d in found}) == FAMILIES
    messages = await notify.messages(meeting.district.district_id, source_event_id=meeting.event_id)
    assert len(messages) == FAMILIES
    assert all(m["status"] == "dispatched" for m in messages)

    async def published() -> bool:
        return len(await sent_events(notify, meeting)) >= FAMILIES

    await eventually(published, timeout=60, what="one MessageSent per delivery")
    events = await sent_events(notify, meeting)
    assert len(events) == FAMILIES
    assert len({e["message_id"] for e in events}) == FAMILIES


async def test_a_meeting_reaches_300_families_once_across_a_stop_mid_batch(
    local_stack: LocalStack, dev_issuer: DevIssuer, fan_out: FanOut
) -> None:
    database = fan_out.database
    async with running_notify(local_stack, dev_issuer, mongo_database=database, **SENDER) as first:
        meeting = await invite(first, fan_out)

        async def under_way() -> bool:
            return sum(sms_by_phone(first, meeting).values()) >= 20

        await eventually(under_way, timeout=120, what="the fan-out to be under way")
    # The first process stopped as a worker pod does on SIGTERM: the sends in hand were
    # finished and recorded.
    stopped_at = [d for d in await deliveries(local_stack, meeting) if d["status"] == "sent"]
    assert 0 < len(stopped_at) < FAMILIES, "the stop did not land mid-way"
    async with running_notify(local_stack, dev_issuer, mongo_database=database, **SENDER) as second:
        await all_sent(second, meeting)
        sms, mails = sms_by_phone(second, meeting), mail_by_address(second, meeting)
        assert len(sms) == FAMILIES // 2
        assert set(sms.values()) == {1}, "an SMS went out twice"
        assert len(mails) == FAMILIES // 2
        assert set(mails.values()) == {1}, "an email went out twice"
        await assert_each_family_heard_once_in_the_database(second, meeting)


async def test_a_sender_that_dies_before_recording_duplicates_only_the_counted_emails(
    local_stack: LocalStack, dev_issuer: DevIssuer, fan_out: FanOut
) -> None:
    """The first process records one group of outcomes, then freezes before recording any
    more and is stopped. What the providers took meanwhile is the crash window: the next
    process finds each of those deliveries still in flight after its lease, adopts the SMS
    it finds at the provider and sends the email again with the same Message-ID."""
    database, district = fan_out.database, fan_out.district
    async with running_notify(local_stack, dev_issuer, mongo_database=database, **SENDER) as first:
        record = first.sender.record
        frozen = asyncio.Event()

        async def dies_after_one_group(group: list[Outcome]) -> None:
            if not frozen.is_set():
                frozen.set()
                await record(group)
                return
            await asyncio.Event().wait()  # never records again

        first.sender.record = dies_after_one_group  # type: ignore[method-assign]
        meeting = await invite(first, fan_out)

        async def froze() -> bool:
            return frozen.is_set()

        await eventually(froze, timeout=120, what="the first group to be recorded")
        await asyncio.sleep(0.5)  # let sends in hand reach the providers; not asserted on
    found = {d["recipient_id"]: d for d in await deliveries(local_stack, meeting)}
    sms_before, mails_before = sms_by_phone(first, meeting), mail_by_address(first, meeting)
    guardians = {g.guardian_id: g for f in district.families for g in f.guardians}

    def unrecorded(guardian_id: str) -> bool:
        return guardian_id not in found or found[guardian_id]["status"] != "sent"

    in_window = {
        gid
        for gid, g in guardians.items()
        if unrecorded(gid) and (g.phone in sms_before or g.email in mails_before)
    }
    assert in_window, "nothing fell in the window: the test proved nothing"
    window_mail = {guardians[gid].email for gid in in_window if guardians[gid].email}
    async with running_notify(local_stack, dev_issuer, mongo_database=database, **SENDER) as second:
        await all_sent(second, meeting)
        sms, mails = sms_by_phone(second, meeting), mail_by_address(second, meeting)
        assert len(sms) == FAMILIES // 2
        assert set(sms.values()) == {1}, "an SMS in the window was sent again, not adopted"
        assert len(mails) == FAMILIES // 2
        twice = {address for address, count in mails.items() if count > 1}
        assert twice == window_mail, "only the emails in the counted window go out twice"
        assert set(mails.values()) <= {1, 2}
        for address in twice:
            assert len(message_ids(second, meeting, address)) == 1, "a resend has a new id"
        after = {d["recipient_id"]: d for d in await deliveries(local_stack, meeting)}
        counted = {gid for gid, d in after.items() if d.get("uncertain_attempts", 0) > 0}
        assert in_window <= counted, "every send in the window is counted as uncertain"
        adopted = {gid for gid, d in after.items() if d.get("reconciled")}
        assert adopted == {gid for gid in in_window if guardians[gid].phone}
        await assert_each_family_heard_once_in_the_database(second, meeting)
