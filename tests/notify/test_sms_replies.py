"""Texts from families: STOP (and its synonyms) stops texts with one confirmation, START
resumes, HELP is answered; the webhook only believes requests the provider signed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from aptt_contracts.goals import GoalMet, GoalProgressed
from aptt_local.servers import LocalStack
from aptt_local.sms_standin import twilio_signature
from aptt_local.testing import random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import District, Family, NotifyApp, running_notify, sent_total, texts


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


async def text_app(notify: NotifyApp, phone: str | None, body: str) -> dict[str, Any]:
    """A person texts the app's number; the stand-in delivers the signed webhook."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{notify.stack.sms_url}/_standin/inbound",
            json={
                "from": phone,
                "to": notify.settings.sms_from,
                "body": body,
                "webhook_url": f"{notify.url}/v1/sms/inbound",
            },
        )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def goal_news(notify: NotifyApp, district: District, family: Family) -> None:
    await notify.publish(
        GoalProgressed(
            district_id=district.district_id,
            goal_id=random_id("goal"),
            student_id=family.student_id,
            skill_code="orf",
            score=70,
            target=90,
            progress_percent=40,
            assessed_on=date(2026, 10, 1),
        )
    )


async def test_stop_confirms_once_and_silences_texts(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    suppressed = sent_total("sms", "suppressed")

    answer = await text_app(notify, guardian.phone, "Stop")
    assert answer["status_code"] == 200
    assert answer["content_type"].startswith("text/xml")
    texts_sent = await notify.wait_sms(guardian.phone)
    assert len(texts_sent) == 1, [(m["sid"], m["body"][:40]) for m in texts_sent]
    confirmation = texts_sent[0]
    assert confirmation["body"].startswith("You will not get more texts")
    assert "START" in confirmation["body"]

    await text_app(notify, guardian.phone, "UNSUBSCRIBE")  # already stopped: no second reply
    await goal_news(notify, district, family)
    items = await notify.wait_inbox(district.token(guardian), status="suppressed")
    assert len(items) == 1, [(i["template"], i["channels"]) for i in items]
    item = items[0]
    assert item["template"] == "goal-progress"
    assert item["channels"] == []
    assert item["text"].startswith("Good news")
    await asyncio.sleep(1)
    assert len(notify.sms_to(guardian.phone)) == 1
    assert sent_total("sms", "suppressed") >= suppressed + 1

    preferences = await notify.client.get(
        "/v1/me/preferences", headers={"Authorization": f"Bearer {district.token(guardian)}"}
    )
    assert preferences.json()["channels"] == ["sms"]


async def test_after_stop_a_guardian_with_email_gets_email(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True, "email": True, "language": "es"})
    guardian = family.guardians[0]
    await district.publish_roster()
    await text_app(notify, guardian.phone, "END")
    [confirmation] = await notify.wait_sms(guardian.phone)
    assert confirmation["body"].startswith("Ya no recibirá textos")  # in their language
    await goal_news(notify, district, family)
    [mail] = await notify.wait_mail(guardian.email)
    assert mail.message["X-APTT-Template"] == "goal-progress"
    assert len(notify.sms_to(guardian.phone)) == 1


async def test_start_resumes_texts_and_help_is_answered(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    await text_app(notify, guardian.phone, "QUIT")
    await notify.wait_sms(guardian.phone)
    await text_app(notify, guardian.phone, "start")
    await text_app(notify, guardian.phone, "HELP")
    await text_app(notify, guardian.phone, "thanks, see you there")  # not a keyword: no reply
    _, started, helped = texts(await notify.wait_sms(guardian.phone, 3))
    assert started.startswith("You will get texts from your child's school again")
    assert "STOP" in helped
    assert "START" in helped
    await goal_news(notify, district, family)
    *_, news = texts(await notify.wait_sms(guardian.phone, 4))
    assert news.startswith("Good news")
    await asyncio.sleep(1)
    assert len(notify.sms_to(guardian.phone)) == 4


async def test_a_retried_webhook_is_answered_once(notify: NotifyApp) -> None:
    phone = "+16505550142"
    params = {
        "AccountSid": notify.settings.sms_account_sid,
        "Body": "HELP",
        "From": phone,
        "MessageSid": "SM" + random_id("x").replace("-", ""),
        "To": notify.settings.sms_from,
    }
    url = f"{notify.url}/v1/sms/inbound"
    signature = twilio_signature(url, params, notify.stack.sms_auth_token)
    for _ in range(2):
        response = await notify.client.post(
            "/v1/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200
    await notify.wait_sms(phone)
    await asyncio.sleep(1)
    assert len(notify.sms_to(phone)) == 1


async def test_unsigned_or_forged_webhooks_are_refused_and_change_nothing(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    params = {"Body": "STOP", "From": guardian.phone or "", "MessageSid": "SM1", "To": "+1"}
    url = f"{notify.url}/v1/sms/inbound"
    forged = twilio_signature(url, params, "not-the-auth-token")
    for headers in ({}, {"X-Twilio-Signature": forged}):
        response = await notify.client.post("/v1/sms/inbound", data=params, headers=headers)
        assert response.status_code == 403
        assert response.json()["type"].endswith("/bad-signature")
    signed_other_body = twilio_signature(
        url, {**params, "Body": "HELP"}, notify.stack.sms_auth_token
    )
    response = await notify.client.post(
        "/v1/sms/inbound", data=params, headers={"X-Twilio-Signature": signed_other_body}
    )
    assert response.status_code == 403
    await notify.publish(
        GoalMet(
            district_id=district.district_id,
            goal_id=random_id("goal"),
            student_id=family.student_id,
            skill_code="orf",
            score=91,
            target=90,
        )
    )
    [sms] = await notify.wait_sms(guardian.phone)
    assert sms["body"].startswith("Goal met!")


async def test_a_signed_webhook_missing_fields_is_a_clear_problem(notify: NotifyApp) -> None:
    params = {"From": "+16505550143", "To": "+1"}
    url = f"{notify.url}/v1/sms/inbound"
    signature = twilio_signature(url, params, notify.stack.sms_auth_token)
    response = await notify.client.post(
        "/v1/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 422
    assert "Body" in response.json()["detail"]
    assert "MessageSid" in response.json()["detail"]


@pytest.mark.parametrize(
    ("field", "size"), [("Body", 1601), ("From", 33), ("MessageSid", 65), ("To", 33)]
)
async def test_a_signed_webhook_with_an_overlong_field_is_refused(
    notify: NotifyApp, field: str, size: int
) -> None:
    params = {"From": "+16505550144", "To": "+15005550006", "Body": "STOP", "MessageSid": "SM9"}
    params[field] = "9" * size
    url = f"{notify.url}/v1/sms/inbound"
    signature = twilio_signature(url, params, notify.stack.sms_auth_token)
    response = await notify.client.post(
        "/v1/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 422
    assert field in response.json()["detail"]
    number = await notify.db["sms_numbers"].find_one({"_id": params["From"]})
    assert number is None or not number.get("opted_out"), "nothing changed"
