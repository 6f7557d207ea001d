"""A guardian's preferences (language, channels, quiet hours) and their in-app inbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aptt_contracts.goals import GoalProgressed
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import District, Family, Guardian, NotifyApp, running_notify


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


def auth(district: District, guardian: Guardian) -> dict[str, str]:
    return {"Authorization": f"Bearer {district.token(guardian)}"}


async def progress(notify: NotifyApp, district: District, family: Family, score: int) -> None:
    await notify.publish(
        GoalProgressed(
            district_id=district.district_id,
            goal_id=random_id("goal"),
            student_id=family.student_id,
            skill_code="orf",
            score=score,
            target=90,
            progress_percent=score - 40,
            assessed_on=date(2026, 10, 1),
        )
    )


async def test_defaults_come_from_the_contact_and_the_platform(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True, "email": True, "language": "es"})
    await district.publish_roster()
    headers = auth(district, family.guardians[0])

    async def known() -> bool:
        response = await notify.client.get("/v1/me/preferences", headers=headers)
        return bool(response.json()["channels"])

    await eventually(known, what="the contact to arrive")
    response = await notify.client.get("/v1/me/preferences", headers=headers)
    assert response.json() == {
        "language": "es",
        "channels": ["sms"],
        "quiet_hours": {"start": "21:00", "end": "08:00"},
    }


async def test_chosen_channels_and_language_apply_to_the_next_message(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True, "email": True, "language": "en"})
    guardian = family.guardians[0]
    # Preferences may be set before the contacts arrive.
    response = await notify.client.put(
        "/v1/me/preferences",
        json={"channels": ["email"], "language": "es"},
        headers=auth(district, guardian),
    )
    assert response.status_code == 200
    assert response.json()["channels"] == ["email"]
    assert response.json()["language"] == "es"
    await district.publish_roster()
    await progress(notify, district, family, 70)
    [mail] = await notify.wait_mail(guardian.email)
    assert mail.message["Content-Language"] == "es"
    assert mail.subject == "Avances en la meta de su hijo/a"
    await asyncio.sleep(1)
    assert notify.sms_to(guardian.phone) == []

    both = await notify.client.put(
        "/v1/me/preferences", json={"channels": ["sms", "email"]}, headers=auth(district, guardian)
    )
    assert both.json()["language"] == "es", "a field left out keeps its value"
    await progress(notify, district, family, 75)
    [sms] = await notify.wait_sms(guardian.phone)
    assert sms["body"].startswith("Buenas noticias")
    await notify.wait_mail(guardian.email, 2)


async def test_a_guardian_may_choose_the_app_alone(notify: NotifyApp) -> None:
    night = notify.district(local_hour=2)  # the app makes no sound: quiet hours do not apply
    family = night.family({"phone": True, "email": True})
    guardian = family.guardians[0]
    chosen = await notify.client.put(
        "/v1/me/preferences", json={"channels": []}, headers=auth(night, guardian)
    )
    assert chosen.json()["channels"] == []
    await night.publish_roster()
    await progress(notify, night, family, 70)
    [item] = await notify.wait_inbox(night.token(guardian), template="goal-progress")
    assert item["status"] == "sent"
    assert item["channels"] == ["inapp"]
    await asyncio.sleep(1)
    assert notify.sms_to(guardian.phone) == []
    assert notify.mail_to(guardian.email) == []


async def test_quiet_hours_of_the_guardian_override_the_default(notify: NotifyApp) -> None:
    night = notify.district(local_hour=2)
    family = night.family({"phone": True})
    guardian = family.guardians[0]
    response = await notify.client.put(
        "/v1/me/preferences", json={"quiet_hours": None}, headers=auth(night, guardian)
    )
    assert response.json()["quiet_hours"] is None
    await night.publish_roster()
    await progress(notify, night, family, 70)
    [sms] = await notify.wait_sms(guardian.phone)  # 02:00 at school, but no quiet hours
    assert sms["body"].startswith("Good news")


async def test_widening_then_dropping_quiet_hours_releases_what_waited(notify: NotifyApp) -> None:
    day = notify.district()  # 13:00 at school
    family = day.family({"phone": True})
    guardian = family.guardians[0]
    headers = auth(day, guardian)
    await notify.client.put(
        "/v1/me/preferences",
        json={"quiet_hours": {"start": "12:00", "end": "23:00"}},
        headers=headers,
    )
    await day.publish_roster()
    await progress(notify, day, family, 70)

    async def held() -> bool:
        found = await notify.messages(day.district_id, wait_reason="quiet-hours")
        return len(found) == 1

    await eventually(held, what="the message to wait out the guardian's quiet hours")
    await asyncio.sleep(1)
    assert notify.sms_to(guardian.phone) == []
    assert await notify.inbox(day.token(guardian)) == []
    await notify.client.put("/v1/me/preferences", json={"quiet_hours": None}, headers=headers)
    await notify.wait_sms(guardian.phone)
    await notify.wait_inbox(day.token(guardian), status="sent")


@pytest.mark.parametrize(
    "body",
    [
        {"channels": ["fax"]},
        {"channels": ["sms", "sms"]},
        {"quiet_hours": {"start": "25:00", "end": "08:00"}},
        {"quiet_hours": {"start": "08:00", "end": "08:00"}},
        {"quiet_hours": {"start": "21:00"}},
        {"language": "not a language"},
        {"language": None},
        {"language": "es-" + "-".join(["abcdefgh"] * 4)},  # a well-formed tag, too long
        {"channels": ["sms", "email", "sms"]},
        {"quiet_hours": {"start": "21:00:00", "end": "08:00"}},
        {"channels": ["email"], "colour": "blue"},
    ],
)
async def test_bad_preferences_are_refused_and_change_nothing(
    notify: NotifyApp, body: dict[str, Any]
) -> None:
    district = notify.district()
    guardian = district.family({"phone": True}).guardians[0]
    headers = auth(district, guardian)
    await notify.client.put(
        "/v1/me/preferences", json={"channels": ["sms"], "language": "es"}, headers=headers
    )
    response = await notify.client.put("/v1/me/preferences", json=body, headers=headers)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["errors"]
    assert all(e["location"] and e["message"] for e in problem["errors"])
    after = await notify.client.get("/v1/me/preferences", headers=headers)
    assert after.json()["channels"] == ["sms"]
    assert after.json()["language"] == "es"


async def test_the_inbox_pages_newest_first(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    for score in (61, 62, 63, 64, 65):
        await progress(notify, district, family, score)
        await notify.wait_inbox(district.token(guardian), text=_text_for(score))
    token = district.token(guardian)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await notify.client.get(
            "/v1/me/messages", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [i["text"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [_text_for(s) for s in (65, 64, 63, 62, 61)]

    bad = await notify.client.get(
        "/v1/me/messages",
        params={"cursor": "nonsense"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("/bad-cursor")
    too_many = await notify.client.get(
        "/v1/me/messages", params={"limit": 5000}, headers={"Authorization": f"Bearer {token}"}
    )
    assert too_many.status_code == 422
    long_cursor = await notify.client.get(
        "/v1/me/messages",
        params={"cursor": "a" * 201},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert long_cursor.status_code == 422
    assert long_cursor.headers["content-type"] == "application/problem+json"


async def test_a_message_id_has_a_bound_and_another_familys_message_is_not_found(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    other = district.family({"phone": True})
    await district.publish_roster()
    await progress(notify, district, family, 66)
    [item] = await notify.wait_inbox(district.token(family.guardians[0]))
    path = f"/v1/me/messages/{item['message_id']}"
    mine = await notify.client.get(path, headers=auth(district, family.guardians[0]))
    assert mine.status_code == 200
    theirs = await notify.client.get(path, headers=auth(district, other.guardians[0]))
    assert theirs.status_code == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    elsewhere = district.token(family.guardians[0], district_id=random_id("d"))
    across = await notify.client.get(path, headers={"Authorization": f"Bearer {elsewhere}"})
    assert across.status_code == 404
    too_long = await notify.client.get(
        "/v1/me/messages/" + "m" * 65, headers=auth(district, family.guardians[0])
    )
    assert too_long.status_code == 422


def _text_for(score: int) -> str:
    return (
        f"Good news: in reading aloud your child now has {score} words per minute (goal: 90). "
        f"That's {score - 40}% of the way. Keep it up!"
    )


async def test_other_languages_get_english_and_are_told_so_in_theirs(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True, "language": "fr"})
    guardian = family.guardians[0]
    await district.publish_roster()
    await progress(notify, district, family, 70)
    [mail] = await notify.wait_mail(guardian.email)
    assert mail.message["Content-Language"] == "en"
    assert mail.subject == "Progress on your child's goal"
    notice = "Nous n'avons pas encore de messages en français ; les voici en anglais."
    assert (mail.body() or "").startswith(notice)


async def test_an_arabic_family_gets_its_email_right_to_left(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": False, "email": True, "language": "ar"})
    guardian = family.guardians[0]
    await district.publish_roster()
    await progress(notify, district, family, 70)
    [mail] = await notify.wait_mail(guardian.email)
    assert mail.message["Content-Language"] == "ar"
    assert mail.subject == "تقدّم في هدف طفلك"
    page = mail.body("html") or ""
    assert '<html lang="ar" dir="rtl">' in page
    assert "طفلك يتقدّم." in page
