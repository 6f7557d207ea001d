"""Delivery: at-least-once with a counted duplicate window, provider errors, rate limits, the
deliveries topic, and no contact data in logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aptt_contracts.goals import GoalProgressed
from aptt_contracts.notify import DELIVERIES
from aptt_local.kafkatools import read_topic
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_notify.service.outcomes import Kind, Outcome
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import header_dict

from .conftest import District, Family, Guardian, NotifyApp, running_notify, sent_total


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(
        local_stack,
        dev_issuer,
        send_max_attempts=5,
        send_retry_base_seconds=0.5,
        send_retry_max_seconds=2.0,
    ) as app:
        yield app


async def progress(notify: NotifyApp, district: District, family: Family, score: int = 70) -> None:
    await notify.publish(
        GoalProgressed(
            district_id=district.district_id,
            goal_id=random_id("goal"),
            student_id=family.student_id,
            skill_code="orf",
            score=score,
            target=90,
            progress_percent=50,
            assessed_on=date(2026, 10, 1),
        )
    )


async def both_channels(notify: NotifyApp, district: District, guardian: Guardian) -> None:
    response = await notify.client.put(
        "/v1/me/preferences",
        json={"channels": ["sms", "email"]},
        headers={"Authorization": f"Bearer {district.token(guardian)}"},
    )
    assert response.status_code == 200


async def delivery_events(notify: NotifyApp, district_id: str) -> list[tuple[str, dict[str, Any]]]:
    records = await read_topic(notify.stack.kafka_bootstrap, DELIVERIES)
    found = []
    for record in records:
        headers = header_dict(record.headers)
        if headers["ce_district"].decode() == district_id:
            found.append((headers["ce_type"].decode(), json.loads(record.value or b"{}")))
    return found


async def test_a_send_whose_mark_fails_is_sent_again_at_most_once(
    notify: NotifyApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash window: the provider took the message, then recording it failed. The lease
    runs out and the delivery is tried again. An SMS is found at the provider and adopted
    (no duplicate); an email is sent again with the same Message-ID (one duplicate)."""
    district = notify.district()
    family = district.family({"phone": True, "email": True})
    guardian = family.guardians[0]
    await both_channels(notify, district, guardian)
    await district.publish_roster()
    crashed: set[str] = set()
    record = notify.sender.record

    async def crash_once(group: list[Outcome]) -> None:
        """Recording the sends of this district fails once for each: the crash window."""
        lost = [
            o
            for o in group
            if o.delivery["district_id"] == district.district_id
            and o.kind is Kind.SENT
            and o.delivery["key"] not in crashed
        ]
        crashed.update(o.delivery["key"] for o in lost)
        await record([o for o in group if o not in lost])

    monkeypatch.setattr(notify.sender, "record", crash_once)
    await progress(notify, district, family)

    async def both_recorded() -> bool:
        found = await notify.deliveries(district.district_id)
        return len(found) == 2 and all(d["status"] == "sent" for d in found)

    await eventually(both_recorded, what="both deliveries recorded as sent after the crash")
    assert len(crashed) == 2
    sms = {d["channel"]: d for d in await notify.deliveries(district.district_id)}["sms"]
    assert sms["reconciled"] is True
    assert (sms["attempts"], sms["uncertain_attempts"]) == (2, 1)
    [accepted] = notify.sms_to(guardian.phone)
    assert accepted["sid"] == sms["provider_id"], "the SMS was not sent twice"
    mails = await notify.wait_mail(guardian.email, 2)
    assert len(mails) == 2, "the email is the one duplicate the window allows"
    assert mails[0].message["Message-ID"] == mails[1].message["Message-ID"]

    async def published() -> bool:
        return len(await delivery_events(notify, district.district_id)) == 2

    await eventually(published, what="one MessageSent per delivery")
    events = await delivery_events(notify, district.district_id)
    assert sorted(e["channel"] for _, e in events) == ["email", "sms"]
    assert {t for t, _ in events} == {"org.aptt.notify.message.sent.v1"}


async def test_a_number_the_provider_refuses_fails_once_and_is_reported(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": "+15005550001"})  # Twilio: not a valid number (21211)
    guardian = family.guardians[0]
    await district.publish_roster()
    failed = sent_total("sms", "failed")
    await progress(notify, district, family)
    [item] = await notify.wait_inbox(district.token(guardian), status="failed")
    assert item["template"] == "goal-progress"
    [delivery] = await notify.deliveries(district.district_id)
    assert (delivery["status"], delivery["error_code"], delivery["attempts"]) == (
        "failed",
        "sms-21211",
        1,
    )
    assert sent_total("sms", "failed") == failed + 1

    async def reported() -> bool:
        return len(await delivery_events(notify, district.district_id)) == 1

    await eventually(reported, what="MessageFailed")
    [(event_type, event)] = await delivery_events(notify, district.district_id)
    assert event_type == "org.aptt.notify.message.failed.v1"
    assert event["reason_code"] == "sms-21211"
    assert event["recipient_id"] == guardian.guardian_id


async def test_a_number_the_carrier_says_unsubscribed_is_treated_as_stop(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": "+15005550004"})  # Twilio: unsubscribed (21610)
    guardian = family.guardians[0]
    await district.publish_roster()
    await progress(notify, district, family, 71)
    await notify.wait_inbox(district.token(guardian), status="failed")
    await progress(notify, district, family, 72)
    items = await notify.wait_inbox(district.token(guardian), status="suppressed")
    assert items[0]["text"].startswith("Good news: in reading aloud your child now has 72")
    assert len(await notify.deliveries(district.district_id)) == 1, "no second attempt"


async def test_a_provider_that_is_down_is_retried_until_it_is_back(
    notify: NotifyApp, local_stack: LocalStack
) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    await asyncio.to_thread(local_stack.smtp.stop)
    try:
        await progress(notify, district, family)

        async def refused() -> bool:
            found = await notify.deliveries(district.district_id)
            return bool(found) and found[0].get("error_code", "").startswith("smtp-")

        await eventually(refused, what="a failed attempt")
        [delivery] = await notify.deliveries(district.district_id)
        assert delivery["status"] == "pending"
    finally:
        await asyncio.to_thread(local_stack.smtp.start)
    [mail] = await notify.wait_mail(guardian.email)
    assert mail.message["X-APTT-Template"] == "goal-progress"

    async def recorded() -> bool:
        [delivery] = await notify.deliveries(district.district_id)
        return bool(delivery["status"] == "sent")

    # The mark follows the send by one group commit.
    await eventually(recorded, what="the send recorded")
    [delivery] = await notify.deliveries(district.district_id)
    assert delivery["attempts"] >= 2


async def test_retries_end_and_the_failure_is_reported(
    notify: NotifyApp, local_stack: LocalStack
) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    await asyncio.to_thread(local_stack.smtp.stop)
    try:
        await progress(notify, district, family)
        [item] = await notify.wait_inbox(district.token(guardian))

        async def given_up() -> bool:
            found = await notify.deliveries(district.district_id)
            return bool(found) and found[0]["status"] == "failed"

        await eventually(given_up, what="the retries to run out")
    finally:
        await asyncio.to_thread(local_stack.smtp.start)
    [delivery] = await notify.deliveries(district.district_id)
    assert delivery["attempts"] == 5
    assert delivery["error_code"].startswith("retries-exhausted-smtp-")
    [item] = await notify.inbox(district.token(guardian))
    assert item["status"] == "failed"


async def test_a_flood_for_one_guardian_is_held_back_by_the_hourly_cap(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    cap = notify.settings.rate_limit_recipient_per_hour
    deferred = sent_total("sms", "deferred")
    for score in range(cap + 2):
        await progress(notify, district, family, 50 + score)
    await notify.wait_sms(guardian.phone, cap)

    async def held() -> bool:
        found = await notify.messages(district.district_id, wait_reason="rate-limit")
        return len(found) == 2

    await eventually(held, what="two messages held back")
    await asyncio.sleep(1)
    assert len(notify.sms_to(guardian.phone)) == cap
    assert sent_total("sms", "deferred") >= deferred + 2
    # The app shows what went out; the two held back appear when they go, next hour.
    assert len(await notify.inbox(district.token(guardian))) == cap


async def test_sms_segments_are_stored_and_events_carry_no_contact_data(
    notify: NotifyApp, capfd: pytest.CaptureFixture[str]
) -> None:
    district = notify.district()
    family = district.family(
        {"phone": True, "email": True, "language": "es", "given_name": "Zebulón"}
    )
    guardian = family.guardians[0]
    await both_channels(notify, district, guardian)
    await district.publish_roster()
    await progress(notify, district, family)
    [sms] = await notify.wait_sms(guardian.phone)
    await notify.wait_mail(guardian.email)

    async def recorded() -> bool:
        found = await notify.deliveries(district.district_id, status="sent")
        return len(found) == 2

    await eventually(recorded, what="both deliveries recorded")
    [delivery] = await notify.deliveries(district.district_id, channel="sms")
    assert delivery["encoding"] == "UCS-2"  # Spanish accents
    assert delivery["segments"] == int(sms["num_segments"]) >= 2

    async def published() -> bool:
        return len(await delivery_events(notify, district.district_id)) == 2

    await eventually(published, what="delivery events")
    payloads = json.dumps([e for _, e in await delivery_events(notify, district.district_id)])
    logs = capfd.readouterr()
    for secret in (guardian.phone or "", guardian.email or "", "Zebulón", "Buenas noticias"):
        assert secret not in payloads
        assert secret not in logs.out
        assert secret not in logs.err


async def test_one_broken_message_does_not_hold_up_the_others(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    await district.publish_roster()
    broken = {
        "_id": random_id("broken"),
        "district_id": district.district_id,
        "key": random_id("key"),
        "template": "no-such-template",
        "recipient_id": family.guardians[0].guardian_id,
        "status": "pending",
        "next_check_at": datetime(2000, 1, 1, tzinfo=UTC),  # first in the queue
        "params": {},
    }
    await notify.db["messages"].insert_one(broken)
    await progress(notify, district, family)
    [sms] = await notify.wait_sms(family.guardians[0].phone)
    assert sms["body"].startswith("Good news")
    [kept] = await notify.messages(district.district_id, _id=broken["_id"])
    assert kept["errors"] >= 1
    assert kept["next_check_at"] > datetime.now(UTC)
