"""A district's own countdown steps: its messages in the languages it writes, and its
kindergarten events with an invitation for the calendar that follows every change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aptt_contracts.data import IncomingFamilyRemoved, IncomingFamilyUpserted, IncomingGuardian
from aptt_local.servers import LocalStack
from aptt_local.sms_standin import twilio_signature
from aptt_local.smtp_sink import ReceivedMail
from aptt_local.testing import eventually, random_id
from aptt_notify.i18n import plain_spaces
from aptt_platform.devissuer import DevIssuer
from babel.dates import format_skeleton, format_time

from .conftest import NIGHT, District, NotifyApp, random_email, random_phone, running_notify

PATH = "/v1/countdown/sequence"
CHICAGO = ZoneInfo("America/Chicago")
OPEN_HOUSE_DAY = datetime.now(UTC).date() + timedelta(days=60)


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


def admin(notify: NotifyApp, district_id: str) -> dict[str, str]:
    token = notify.issuer.mint(subject="admin-1", district_id=district_id, roles=["district_admin"])
    return {"Authorization": f"Bearer {token}"}


def family_of(district: District, *guardians: IncomingGuardian) -> IncomingFamilyUpserted:
    today = datetime.now(UTC).date()
    return IncomingFamilyUpserted(
        district_id=district.district_id,
        family_id=random_id("kf"),
        school_id=district.school_id,
        child_first_name="Lucía",
        birth_date=date(today.year - 4, today.month, min(today.day, 28)),
        guardians=list(guardians),
    )


SUPPLIES = {
    "id": "school-supplies",
    "kind": "message",
    "texts": {
        "en": {
            "sms": "{child} will need a backpack and a water bottle for kindergarten.",
            "subject": "What {child} brings to kindergarten",
            "body": "A backpack and a water bottle, each with {child}'s name.",
        },
        "es": {
            "sms": "{child} necesitará una mochila y una botella de agua para el kínder.",
            "subject": "Lo que {child} lleva al kínder",
            "body": "Una mochila y una botella de agua, cada una con el nombre de {child}.",
        },
    },
}


def open_house(starts: str = "17:30", ends: str = "19:00") -> dict[str, Any]:
    return {
        "id": "open-house",
        "kind": "event",
        "event": {
            "date": OPEN_HOUSE_DAY.isoformat(),
            "starts": starts,
            "ends": ends,
            "timezone": "America/Chicago",
        },
        "texts": {
            "en": {
                "title": "Kindergarten open house",
                "place": "Lincoln Elementary library",
                "details": "Meet the teachers and see the classrooms.",
            },
            "es": {"title": "Puertas abiertas del kínder", "place": "Biblioteca de Lincoln"},
        },
    }


def sequence(*own_steps: dict[str, Any]) -> dict[str, Any]:
    # Without our steps, what a family receives is the district's alone.
    return {"first_day": "08-20", "cutoff": "09-01", "steps": [], "own_steps": list(own_steps)}


async def school_known(notify: NotifyApp, district: District) -> None:
    await notify.publish(district.school_event())

    async def known() -> bool:
        found = await notify.db["schools"].find_one(
            {"district_id": district.district_id, "school_id": district.school_id}
        )
        return bool(found and found.get("timezone"))

    await eventually(known, timeout=30, what="the school")


def invitation(mail: ReceivedMail) -> tuple[str, Any]:
    [part] = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(part.get_content())
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == part.get_param("method")
    return str(calendar["METHOD"]), event


async def test_a_step_in_two_languages_reaches_each_family_once_in_its_own(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    written = await notify.client.put(
        PATH, headers=admin(notify, district.district_id), json=sequence(SUPPLIES)
    )
    assert written.status_code == 200, written.text
    assert [(s["id"], s["version"]) for s in written.json()["own_steps"]] == [
        ("school-supplies", 1)
    ]
    await school_known(notify, district)
    english, spanish, somali = random_phone(), random_phone(), random_phone()
    first = family_of(district, IncomingGuardian(given_name="Ann", phone=english, language="en"))
    second = family_of(
        district, IncomingGuardian(given_name="Rosa", phone=spanish, language="es-MX")
    )
    third = family_of(district, IncomingGuardian(given_name="Hodan", phone=somali, language="so"))
    [event_id] = await notify.publish(first)
    await notify.publish(first, event_id=event_id)  # delivered again
    await notify.publish(second, third)
    await notify.publish(second)  # published again by the district

    [sms] = await notify.wait_sms(english)
    assert sms["body"] == "Lucía will need a backpack and a water bottle for kindergarten."
    [sms] = await notify.wait_sms(spanish)
    assert sms["body"] == "Lucía necesitará una mochila y una botella de agua para el kínder."
    # The district wrote no Somali: English, with the line in Somali that says so.
    [sms] = await notify.wait_sms(somali)
    lines = sms["body"].splitlines()
    assert "Soomaali" in lines[0]
    assert lines[1] == "Lucía will need a backpack and a water bottle for kindergarten."

    # Saved again unchanged: the same version, and nobody hears it twice.
    again = await notify.client.put(
        PATH, headers=admin(notify, district.district_id), json=sequence(SUPPLIES)
    )
    assert again.json()["own_steps"][0]["version"] == 1
    messages = await notify.messages(district.district_id, template="countdown-step")
    assert len(messages) == 3
    assert [len(notify.sms_to(p)) for p in (english, spanish, somali)] == [1, 1, 1]


async def test_an_event_invites_each_family_and_follows_its_changes(notify: NotifyApp) -> None:
    district = notify.district()
    headers = admin(notify, district.district_id)
    assert (await notify.client.put(PATH, headers=headers, json=sequence())).status_code == 200
    await school_known(notify, district)
    email, phone = random_email(), random_phone()
    family = family_of(
        district,
        IncomingGuardian(given_name="Ann", email=email, language="en"),
        IncomingGuardian(given_name="Rosa", phone=phone, language="es"),
    )
    await notify.publish(family)  # in the countdown before the district adds its event

    async def known() -> bool:
        found = await notify.db["incoming_families"].find_one(
            {"district_id": district.district_id, "family_id": family.family_id}
        )
        return found is not None

    await eventually(known, timeout=30, what="the family")
    written = await notify.client.put(PATH, headers=headers, json=sequence(open_house()))
    assert written.status_code == 200, written.text

    [mail] = await notify.wait_mail(email)
    assert mail.subject == "Invitation: Kindergarten open house"
    method, event = invitation(mail)
    uid = f"countdown-{family.family_id}-open-house"
    starts = datetime.combine(OPEN_HOUSE_DAY, time(17, 30), CHICAGO)
    assert method == "REQUEST"
    assert str(event["UID"]) == uid
    assert str(event["SUMMARY"]) == "Kindergarten open house"
    assert str(event["LOCATION"]) == "Lincoln Elementary library"
    assert event.decoded("DTSTART") == starts
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert event["SEQUENCE"] == 1
    assert "Meet the teachers" in (mail.body() or "")
    [sms] = await notify.wait_sms(phone)
    day = plain_spaces(format_skeleton("MMMEd", starts, tzinfo=CHICAGO, locale="es"))
    hour = plain_spaces(format_time(starts, "short", tzinfo=CHICAGO, locale="es"))
    assert (
        sms["body"] == f"Puertas abiertas del kínder: {day}, {hour}-19:00, Biblioteca de Lincoln."
    )

    # The district moves it an hour later: an update of the same event, one more SEQUENCE.
    moved = await notify.client.put(
        PATH, headers=headers, json=sequence(open_house("18:30", "20:00"))
    )
    assert moved.json()["own_steps"][0]["version"] == 2
    [_, update] = await notify.wait_mail(email, count=2)
    assert update.subject == "Changed: Kindergarten open house"
    method, event = invitation(update)
    assert (method, str(event["UID"]), event["SEQUENCE"]) == ("REQUEST", uid, 2)
    assert event.decoded("DTSTART") == starts + timedelta(hours=1)
    [_, changed] = await notify.wait_sms(phone, count=2)
    assert changed["body"].startswith("Cambio: Puertas abiertas del kínder ahora es el")

    # A family published again hears nothing it has had.
    await notify.publish(family)
    # The district removes the event: a cancellation of the same event.
    removed = await notify.client.put(PATH, headers=headers, json=sequence())
    assert removed.json()["own_steps"] == []
    [_, _, cancel] = await notify.wait_mail(email, count=3)
    method, event = invitation(cancel)
    assert (method, str(event["UID"]), event["SEQUENCE"]) == ("CANCEL", uid, 3)
    assert str(event["STATUS"]) == "CANCELLED"
    await notify.wait_sms(phone, count=3)
    invites = await notify.messages(district.district_id, template="countdown-event")
    assert len(invites) == 2  # one per guardian, the family's republishing notwithstanding
    assert len(notify.mail_to(email)) == 3


async def test_a_family_entered_later_gets_the_event_as_it_stands(notify: NotifyApp) -> None:
    district = notify.district()
    headers = admin(notify, district.district_id)
    await notify.client.put(PATH, headers=headers, json=sequence(open_house()))
    moved = await notify.client.put(
        PATH, headers=headers, json=sequence(open_house("09:00", "10:00"))
    )
    assert moved.json()["own_steps"][0]["version"] == 2
    await school_known(notify, district)
    email = random_email()
    await notify.publish(
        family_of(district, IncomingGuardian(given_name="Ann", email=email, language="en"))
    )
    [mail] = await notify.wait_mail(email)
    assert mail.subject == "Invitation: Kindergarten open house"
    _, event = invitation(mail)
    assert event.decoded("DTSTART") == datetime.combine(OPEN_HOUSE_DAY, time(9), CHICAGO)
    assert event["SEQUENCE"] == 2


async def test_an_event_waits_out_quiet_hours_and_is_not_texted_after_stop(
    notify: NotifyApp,
) -> None:
    district = notify.district(local_hour=NIGHT)
    headers = admin(notify, district.district_id)
    assert (await notify.client.put(PATH, headers=headers, json=sequence())).status_code == 200
    await school_known(notify, district)
    sleeping, stopped = random_phone(), random_phone()
    params = {"Body": "STOP", "From": stopped, "MessageSid": "SM" + random_id("x"), "To": "+1"}
    signature = twilio_signature(
        f"{notify.url}/v1/sms/inbound", params, notify.stack.sms_auth_token
    )
    answered = await notify.client.post(
        "/v1/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert answered.status_code == 200
    [confirmation] = await notify.wait_sms(stopped)  # STOP's own answer, night or not
    await notify.publish(
        family_of(district, IncomingGuardian(given_name="Ann", phone=sleeping, language="en")),
        family_of(district, IncomingGuardian(given_name="Rosa", phone=stopped, language="es")),
    )
    assert (await notify.client.put(PATH, headers=headers, json=sequence(open_house()))).is_success

    async def held() -> bool:
        found = await notify.messages(district.district_id, template="countdown-event")
        return sorted((m["status"], m["wait_reason"] or "") for m in found) == [
            ("pending", "quiet-hours"),
            ("suppressed", ""),
        ]

    await eventually(held, timeout=60, what="the night's invitation held, the stopped one kept")
    assert notify.sms_to(sleeping) == []
    assert notify.sms_to(stopped) == [confirmation]


async def test_a_removed_family_gets_none_of_the_districts_steps(notify: NotifyApp) -> None:
    district = notify.district()
    later = {**SUPPLIES, "days_before": 30}
    headers = admin(notify, district.district_id)
    assert (await notify.client.put(PATH, headers=headers, json=sequence(later))).is_success
    await school_known(notify, district)
    family = family_of(
        district, IncomingGuardian(given_name="Ann", phone=random_phone(), language="en")
    )
    await notify.publish(family)

    async def step_status(status: str) -> bool:
        found = await notify.db["notices"].find_one(
            {"district_id": district.district_id, "template": "countdown-step"}
        )
        return found is not None and found["status"] == status

    await eventually(lambda: step_status("scheduled"), timeout=30, what="the step planned")
    await notify.publish(
        IncomingFamilyRemoved(
            district_id=district.district_id,
            family_id=family.family_id,
            school_id=district.school_id,
        )
    )
    await eventually(lambda: step_status("cancelled"), timeout=30, what="the step cancelled")
    kept = await notify.db["incoming_families"].find_one(
        {"district_id": district.district_id, "family_id": family.family_id}
    )
    assert kept["removed"]
    assert kept["child_first_name"] is None


async def test_another_districts_admin_neither_reads_nor_changes_the_steps(
    notify: NotifyApp,
) -> None:
    ours, theirs = random_id("d"), random_id("d")
    written = await notify.client.put(PATH, headers=admin(notify, ours), json=sequence(SUPPLIES))
    assert written.status_code == 200, written.text
    seen = await notify.client.get(PATH, headers=admin(notify, theirs))
    assert seen.status_code == 200
    assert seen.json()["own_steps"] == []
    # Their admin writes their own sequence only; ours keeps its step.
    assert (
        await notify.client.put(PATH, headers=admin(notify, theirs), json=sequence())
    ).status_code == 200
    kept = await notify.client.get(PATH, headers=admin(notify, ours))
    assert [s["id"] for s in kept.json()["own_steps"]] == ["school-supplies"]
    guardian = notify.issuer.mint(subject="g-1", district_id=ours, roles=["guardian"])
    refused = await notify.client.put(
        PATH, headers={"Authorization": f"Bearer {guardian}"}, json=sequence()
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def with_texts(step: dict[str, Any], language: str, **parts: str) -> dict[str, Any]:
    return {**step, "texts": {**step["texts"], language: parts}}


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        ([{**SUPPLIES, "id": f"step-{n}"} for n in range(13)], None),  # more than 12
        ([with_texts(SUPPLIES, "en", sms="x" * 321, subject="s", body="b")], None),
        ([with_texts(open_house(), "en", title="t" * 81, place="p")], None),
        ([{**SUPPLIES, "id": "Not An Id"}], None),
        ([SUPPLIES, SUPPLIES], "repeated-step"),
        ([{**SUPPLIES, "texts": {"es": SUPPLIES["texts"]["es"]}}], "english-required"),
        ([with_texts(SUPPLIES, "fr", sms="s", subject="s", body="b")], "unsupported-language"),
        ([with_texts(SUPPLIES, "es", sms="solo el texto")], "step-texts"),
        (
            [with_texts(SUPPLIES, "en", sms="Hola {name}", subject="s", body="b")],
            "unknown-placeholder",
        ),
        ([{**open_house(), "event": None}], "step-event"),
        ([open_house("19:00", "17:30")], "step-event"),
        (
            [{**open_house(), "event": {**open_house()["event"], "timezone": "Mars/Base"}}],
            "step-event",
        ),
    ],
)
async def test_a_step_out_of_bounds_is_refused_with_problem_details(
    notify: NotifyApp, steps: list[dict[str, Any]], code: str | None
) -> None:
    district_id = random_id("d")
    refused = await notify.client.put(
        PATH, headers=admin(notify, district_id), json=sequence(*steps)
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert refused.json()["type"].endswith(f"/{code}")
    kept = await notify.client.get(PATH, headers=admin(notify, district_id))
    assert kept.json()["own_steps"] == []
