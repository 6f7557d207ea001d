"""Countdown to kindergarten in notify: an incoming family hears the sequence in each
guardian's language and channel, once, and nothing more once the district removes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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
    kept = (
        await notify.db["guardians"]
        .find({"district_id": district.district_id, "incoming_family_id": family.family_id})
        .to_list()
    )
    assert len(kept) == 2
    assert all(g["contact"] is None and g["removed"] for g in kept)


ENROLLMENT_WEEK = datetime.now(UTC).date() + timedelta(days=200)


def admin(notify: NotifyApp, district_id: str, role: str = "district_admin") -> dict[str, str]:
    token = notify.issuer.mint(subject="admin-1", district_id=district_id, roles=[role])
    return {"Authorization": f"Bearer {token}"}


async def test_a_district_writes_its_own_sequence_and_texts(notify: NotifyApp) -> None:
    district = notify.district()
    ours = (await notify.client.get("/v1/countdown/sequence", headers=admin(notify, "x"))).json()
    assert [s["step"] for s in ours["steps"]] == ["welcome", "enrollment", "readiness"]
    sequence = {
        "first_day": "08-25",
        "cutoff": "09-01",
        "steps": [
            {"step": "welcome"},
            {"step": "enrollment", "on_date": ENROLLMENT_WEEK.isoformat()},
            {"step": "readiness", "days_before": 30},
        ],
        "texts": {"welcome": {"so": {"sms": "Ku soo dhawoow {child}! Dugsigu wuu ku sugayaa."}}},
    }
    path = "/v1/countdown/sequence"
    headers = admin(notify, district.district_id)
    written = await notify.client.put(path, headers=headers, json=sequence)
    assert written.status_code == 200, written.text
    assert (await notify.client.get(path, headers=headers)).json() == written.json()
    teacher = admin(notify, district.district_id, role="teacher")
    assert (await notify.client.put(path, headers=teacher, json=sequence)).status_code == 403
    assert (await notify.client.get(path, headers=teacher)).status_code == 403
    bad = {**sequence, "texts": {"welcome": {"so": {"sms": "Salaan {name}"}}}}
    refused = await notify.client.put(path, headers=headers, json=bad)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/unknown-placeholder")
    elsewhere = await notify.client.get(path, headers=admin(notify, random_id("d")))
    assert elsewhere.json()["first_day"] == "08-20"  # another district still has ours

    await notify.publish(district.school_event())

    async def school_known() -> bool:
        found = await notify.db["schools"].find_one(
            {"district_id": district.district_id, "school_id": district.school_id}
        )
        return bool(found and found.get("timezone"))

    # Steps are dated in the school's zone, known long before its families in a district.
    await eventually(school_known, timeout=30, what="the school")
    phone, email = random_phone(), random_email()
    family = incoming(district, phone, email)
    await notify.publish(family)
    [sms] = await notify.wait_sms(phone)
    assert sms["body"] == "Ku soo dhawoow Hodan! Dugsigu wuu ku sugayaa."
    [mail] = await notify.wait_mail(email)
    assert mail.subject == "أهلًا بك في الروضة يا Hodan!"  # no Arabic text of its own: ours
    notices = await notices_of(notify, district.district_id, family.family_id)
    assert notices == {
        "countdown-welcome": "closed",
        "countdown-enrollment": "scheduled",
        "countdown-readiness": "scheduled",
    }
    [readiness] = (
        await notify.db["notices"]
        .find({"district_id": district.district_id, "template": "countdown-readiness"})
        .to_list()
    )
    first = first_day(family.birth_date, day=(8, 25))
    local = readiness["due_at"].astimezone(ZoneInfo(district.timezone))
    assert (local.date(), local.hour) == (date.fromordinal(first.toordinal() - 30), 10)
    [enrollment] = (
        await notify.db["notices"]
        .find({"district_id": district.district_id, "template": "countdown-enrollment"})
        .to_list()
    )
    on_the_day = enrollment["due_at"].astimezone(ZoneInfo(district.timezone))
    assert (on_the_day.date(), on_the_day.hour) == (ENROLLMENT_WEEK, 10)


async def test_a_family_matched_at_enrollment_leaves_the_countdown_without_a_duplicate(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    phone, email = random_phone(), random_email()
    family = incoming(district, phone, email)
    await notify.publish(district.school_event(), family)
    [welcome] = await notify.wait_sms(phone)
    # The SIS has the child now: the roster brings the guardian (same phone) with a child of
    # the family's birth date, and an older sibling who matches nothing.
    sibling = date(family.birth_date.year - 3, 1, 15)
    roster_guardian = district.family({"phone": phone, "language": "so"})
    [guardian] = roster_guardian.guardians
    contact = district.contact_event(guardian).model_copy(
        update={
            "student_birth_dates": {
                roster_guardian.student_id: family.birth_date,
                "older-sibling": sibling,
            }
        }
    )
    await notify.publish(contact)

    async def matched() -> bool:
        doc = await notify.db["incoming_families"].find_one(
            {"district_id": district.district_id, "family_id": family.family_id}
        )
        return bool(doc and doc.get("matched_student_id") == roster_guardian.student_id)

    await eventually(matched, timeout=30, what="the family to be matched")
    notices = await notices_of(notify, district.district_id, family.family_id)
    assert notices == {
        "countdown-welcome": "closed",
        "countdown-enrollment": "cancelled",
        "countdown-readiness": "cancelled",
    }
    # The district uploads the family again: it stays matched and out of the countdown.
    first_doc = await notify.db["incoming_families"].find_one(
        {"district_id": district.district_id, "family_id": family.family_id}
    )
    doc_time = first_doc["event_time"]
    await notify.publish(family.model_copy(update={"child_first_name": "Hodan Ali"}))

    async def republished() -> bool:
        doc = await notify.db["incoming_families"].find_one(
            {"district_id": district.district_id, "family_id": family.family_id}
        )
        return bool(doc and doc["event_time"] > doc_time)

    await eventually(republished, timeout=30, what="the family to be republished")
    assert await matched()
    assert await notices_of(notify, district.district_id, family.family_id) == notices
    welcomes = await notify.messages(district.district_id, template="countdown-welcome")
    assert len(welcomes) == 2
    assert notify.sms_to(phone) == [welcome]


async def test_a_family_whose_child_is_already_on_the_roster_starts_no_countdown(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    phone, email = random_phone(), random_email()
    family = incoming(district, phone, email)
    enrolled = district.family({"phone": False, "email": email, "language": "ar"})
    [guardian] = enrolled.guardians
    contact = district.contact_event(guardian).model_copy(
        update={"student_birth_dates": {enrolled.student_id: family.birth_date}}
    )
    await district.publish_roster()
    await notify.publish(contact)  # the SIS now sends the child's birth date

    async def birth_date_known() -> bool:
        doc = await notify.db["guardians"].find_one(
            {"district_id": district.district_id, "guardian_id": guardian.guardian_id}
        )
        return bool(doc and doc["contact"].get("student_birth_dates"))

    await eventually(birth_date_known, timeout=30, what="the birth date")
    await notify.publish(family)

    async def matched() -> bool:
        doc = await notify.db["incoming_families"].find_one(
            {"district_id": district.district_id, "family_id": family.family_id}
        )
        return bool(doc and doc.get("matched_guardian_id") == guardian.guardian_id)

    await eventually(matched, timeout=30, what="the family to be matched")
    assert await notices_of(notify, district.district_id, family.family_id) == {}
