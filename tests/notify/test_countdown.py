"""Countdown to kindergarten in notify: an incoming family hears the sequence in each
guardian's language and channel, once, and nothing more once the district removes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from aptt_contracts.data import IncomingFamilyRemoved, IncomingFamilyUpserted, IncomingGuardian
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_notify.domain.countdown import first_day
from aptt_platform.devissuer import DevIssuer

from .conftest import District, NotifyApp, random_email, random_phone, running_notify


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


def incoming(
    district: District, phone: str, email: str, **changes: object
) -> IncomingFamilyUpserted:
    today = datetime.now(UTC).date()
    values: dict[str, object] = {
        "district_id": district.district_id,
        "family_id": random_id("kf"),
        "school_id": district.school_id,
        "child_first_name": "Hodan",
        # Four years old today: kindergarten starts well over 120 days from now.
        "birth_date": date(today.year - 4, today.month, min(today.day, 28)),
        "guardians": [
            IncomingGuardian(given_name="Amina", phone=phone, language="so"),
            IncomingGuardian(given_name="Faisal", email=email, language="ar"),
        ],
    }
    return IncomingFamilyUpserted.model_validate(values | changes)


async def notices_of(notify: NotifyApp, district_id: str, family_id: str) -> dict[str, str]:
    found = (
        await notify.db["notices"]
        .find({"district_id": district_id, "source_event_id": f"countdown:{family_id}"})
        .to_list()
    )
    return {n["template"]: n["status"] for n in found}


async def test_the_welcome_reaches_each_guardian_once_in_their_language(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    phone, email = random_phone(), random_email()
    family = incoming(district, phone, email)
    await notify.publish(district.school_event())
    [event_id] = await notify.publish(family)
    await notify.publish(family, event_id=event_id)  # the same event, delivered again
    await notify.publish(family.model_copy(update={"child_first_name": "Hodan"}))  # republished
    [sms] = await notify.wait_sms(phone)
    first = first_day(family.birth_date)
    assert sms["body"].startswith("Soo dhawoow! Hodan wuxuu bilaabi karaa xannaanada")
    assert str(first.day) in sms["body"]
    [mail] = await notify.wait_mail(email)
    assert mail.subject == "أهلًا بك في الروضة يا Hodan!"
    assert '<html lang="ar" dir="rtl">' in (mail.body("html") or "")
    assert "Faisal" in (mail.body() or "")

    async def planned() -> bool:
        notices = await notices_of(notify, district.district_id, family.family_id)
        return notices == {
            "countdown-welcome": "closed",
            "countdown-enrollment": "scheduled",
            "countdown-readiness": "scheduled",
        }

    await eventually(planned, timeout=30, what="the steps to be planned")
    welcomes = await notify.messages(district.district_id, template="countdown-welcome")
    assert len(welcomes) == 2  # one per guardian, however often the family was published
    assert len(notify.sms_to(phone)) == 1


async def test_a_removed_family_gets_no_more_steps(notify: NotifyApp) -> None:
    district = notify.district()
    family = incoming(district, random_phone(), random_email())
    await notify.publish(district.school_event(), family)

    async def planned() -> bool:
        notices = await notices_of(notify, district.district_id, family.family_id)
        return notices.get("countdown-readiness") == "scheduled"

    await eventually(planned, timeout=30, what="the steps to be planned")
    await notify.publish(
        IncomingFamilyRemoved(
            district_id=district.district_id,
            family_id=family.family_id,
            school_id=district.school_id,
        )
    )

    async def stopped() -> bool:
        notices = await notices_of(notify, district.district_id, family.family_id)
        return notices.get("countdown-readiness") == "cancelled"

    await eventually(stopped, timeout=30, what="the steps to be cancelled")
    notices = await notices_of(notify, district.district_id, family.family_id)
    assert notices["countdown-enrollment"] == "cancelled"
