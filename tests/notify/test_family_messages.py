"""Private numbers and goal news: only the child's own family hears them, in their language,
and a guardian reads only their own inbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from aptt_contracts.data import PrivateNumberAssigned, SkillDefined, StudentUpserted
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet
from aptt_contracts.skills import GradeBenchmark
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import District, Family, NotifyApp, running_notify, texts


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


def private_number(
    district: District, family: Family, meeting_id: str, number: int
) -> PrivateNumberAssigned:
    return PrivateNumberAssigned(
        district_id=district.district_id,
        report_id=random_id("rep"),
        meeting_id=meeting_id,
        classroom_id=district.classroom_id,
        student_id=family.student_id,
        guardian_ids=[g.guardian_id for g in family.guardians],
        number=number,
    )


async def test_a_private_number_reaches_only_that_childs_guardians(notify: NotifyApp) -> None:
    district = notify.district()
    ours = district.family({"phone": True}, {"phone": False, "email": True, "language": "es"})
    theirs = district.family({"phone": True})
    await district.publish_roster()
    meeting = district.meeting(timedelta(days=6))
    await notify.publish(meeting)
    await notify.wait_sms(theirs.guardians[0].phone)  # the invitation
    await notify.publish(private_number(district, ours, meeting.meeting_id, 17))

    texting, emailing = ours.guardians
    _, number = texts(await notify.wait_sms(texting.phone, 2))
    assert "your child's number on the class chart is 17" in number
    [_, mail] = await notify.wait_mail(emailing.email, 2)
    assert mail.message["X-APTT-Template"] == "private-number"
    assert "El número de su hijo/a: 17" in (mail.body("plain") or "")

    other = theirs.guardians[0]
    await asyncio.sleep(1.5)
    assert [m["body"][:16] for m in notify.sms_to(other.phone)] == ["You're invited: "]
    their_inbox = await notify.inbox(district.token(other))
    assert [i["template"] for i in their_inbox] == ["meeting-invitation"]
    assert not any("17" in i["text"] for i in their_inbox if "number" in i["text"])

    [ours_item] = await notify.wait_inbox(district.token(texting), template="private-number")
    # Another family's guardian asks for our message by id: it does not exist for them.
    response = await notify.client.get(
        f"/v1/me/messages/{ours_item['message_id']}",
        headers={"Authorization": f"Bearer {district.token(other)}"},
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    mine = await notify.client.get(
        f"/v1/me/messages/{ours_item['message_id']}",
        headers={"Authorization": f"Bearer {district.token(texting)}"},
    )
    assert mine.status_code == 200
    assert "17" in mine.json()["text"]


async def test_a_number_republished_for_a_new_guardian_reaches_only_the_new_one(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    first = family.guardians[0]
    await district.publish_roster()
    meeting_id = random_id("m")
    assignment = private_number(district, family, meeting_id, 9)
    await notify.publish(assignment)
    await notify.wait_sms(first.phone)
    # The data service adds a guardian and publishes the same number again.
    second = district.family({"phone": True}).guardians[0]
    family.guardians.append(second)
    second.student_ids = [family.student_id]
    await notify.publish(district.contact_event(second), district.student_event(family))
    await notify.publish(
        assignment.model_copy(update={"guardian_ids": [first.guardian_id, second.guardian_id]})
    )
    [sms] = await notify.wait_sms(second.phone)
    assert "number on the class chart is 9" in sms["body"]
    await asyncio.sleep(1)
    assert len(notify.sms_to(first.phone)) == 1


async def test_another_district_sees_nothing(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await district.publish_roster()
    await notify.publish(district.meeting(timedelta(days=6)))
    [item] = await notify.wait_inbox(district.token(guardian))

    # The same guardian id, with a token of another district.
    elsewhere = district.token(guardian, district_id=random_id("d"))
    assert await notify.inbox(elsewhere) == []
    response = await notify.client.get(
        f"/v1/me/messages/{item['message_id']}", headers={"Authorization": f"Bearer {elsewhere}"}
    )
    assert response.status_code == 404
    preferences = await notify.client.get(
        "/v1/me/preferences", headers={"Authorization": f"Bearer {elsewhere}"}
    )
    assert preferences.status_code == 200
    assert preferences.json()["channels"] == []  # nothing known of this guardian there


async def test_staff_and_anonymous_callers_have_no_inbox(notify: NotifyApp) -> None:
    teacher = notify.issuer.mint(subject="t-1", district_id=random_id("d"), roles=["teacher"])
    response = await notify.client.get(
        "/v1/me/messages", headers={"Authorization": f"Bearer {teacher}"}
    )
    assert response.status_code == 403
    assert (await notify.client.get("/v1/me/messages")).status_code == 401


async def test_goal_news_reaches_the_family_in_its_language(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True, "language": "es"}, {"phone": True, "language": "en"})
    await district.publish_roster()
    spanish, english = family.guardians
    goal_id = random_id("goal")
    common = {
        "district_id": district.district_id,
        "goal_id": goal_id,
        "student_id": family.student_id,
        "skill_code": "orf",
    }
    await notify.publish(
        GoalSet(
            **common,
            guardian_id=spanish.guardian_id,
            baseline=60,
            target=90,
            starts_on=date(2026, 10, 1),
            ends_on=date(2026, 11, 30),
            activity_codes=[],
        ),
        GoalProgressed(
            **common, score=75, target=90, progress_percent=50, assessed_on=date(2026, 10, 30)
        ),
        GoalMet(**common, score=92, target=90),
        GoalClosed(**common, outcome="met"),
    )
    es = texts(await notify.wait_sms(spanish.phone, 4))
    en = texts(await notify.wait_sms(english.phone, 4))
    assert sorted(es) == sorted(set(es))
    assert len(es) == 4
    assert any(t.startswith("¡Meta lista!") and "90 palabras por minuto" in t for t in es)
    assert any(t.startswith("Buenas noticias") and "50%" in t for t in es)
    assert any(t.startswith("¡Meta cumplida!") for t in es)
    assert any(t.startswith("La meta de su hijo/a en lectura en voz alta terminó") for t in es)
    assert any(t.startswith("Goal set!") for t in en)
    assert any(t.startswith("Good news: in reading aloud") for t in en)


async def test_goal_news_waits_for_a_family_the_roster_has_not_brought_yet(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    guardian = family.guardians[0]
    await notify.publish(district.school_event(), district.contact_event(guardian))
    goal = {
        "district_id": district.district_id,
        "goal_id": random_id("goal"),
        "student_id": family.student_id,
        "skill_code": "math-facts",
    }
    await notify.publish(GoalMet(**goal, score=31, target=30))
    await asyncio.sleep(1.5)
    assert notify.sms_to(guardian.phone) == []
    await notify.publish(district.student_event(family))
    [sms] = await notify.wait_sms(guardian.phone)
    assert "31 facts per minute in quick math facts" in sms["body"]


async def test_a_guardian_no_longer_linked_gets_no_pending_news(notify: NotifyApp) -> None:
    district = notify.district(local_hour=2)  # quiet hours: the message waits
    family = district.family({"phone": True}, {"phone": True})
    stays, leaves = family.guardians
    await district.publish_roster()
    goal = {
        "district_id": district.district_id,
        "goal_id": random_id("goal"),
        "student_id": family.student_id,
        "skill_code": "orf",
    }
    await notify.publish(GoalMet(**goal, score=95, target=90))

    async def both_waiting() -> bool:
        found = await notify.messages(district.district_id, wait_reason="quiet-hours")
        return len(found) == 2

    await eventually(both_waiting, what="both messages to wait for the morning")
    await notify.publish(
        StudentUpserted(
            district_id=district.district_id,
            student_id=family.student_id,
            school_id=district.school_id,
            grade=3,
            guardian_ids=[stays.guardian_id],
        )
    )

    async def dropped() -> bool:
        # The message is looked at again when quiet hours end: make that moment now.
        await notify.db["messages"].update_many(
            {"district_id": district.district_id, "status": "pending"},
            {"$set": {"next_check_at": datetime(2000, 1, 1, tzinfo=UTC)}},
        )
        found = await notify.messages(district.district_id, recipient_id=leaves.guardian_id)
        return [m["status"] for m in found] == ["dropped"]

    await eventually(dropped, what="the message of the unlinked guardian to be dropped")
    assert await notify.inbox(district.token(leaves)) == []
    [kept] = await notify.messages(district.district_id, recipient_id=stays.guardian_id)
    assert kept["status"] == "pending"


async def test_a_districts_own_skill_is_named_in_its_words(notify: NotifyApp) -> None:
    district = notify.district()
    family = district.family({"phone": True})
    await district.publish_roster()
    await notify.publish(
        SkillDefined(
            district_id=district.district_id,
            skill_code="sight-words",
            name={"en": "Sight words", "es": "Palabras frecuentes"},
            unit={"en": "words", "es": "palabras"},
            scale_min=0,
            scale_max=100,
            benchmarks=[GradeBenchmark(grade=1, fall=10, winter=20, spring=30, weekly_growth=1)],
        )
    )
    await asyncio.sleep(1)
    await notify.publish(
        GoalProgressed(
            district_id=district.district_id,
            goal_id=random_id("goal"),
            student_id=family.student_id,
            skill_code="sight-words",
            score=15,
            target=30,
            progress_percent=50,
            assessed_on=date(2026, 10, 1),
        )
    )
    [sms] = await notify.wait_sms(family.guardians[0].phone)
    assert "in Sight words your child now has 15 words" in sms["body"]


async def test_many_families_at_once_in_any_order_each_hear_once(notify: NotifyApp) -> None:
    """Rosters, contacts, preferences and news of several districts at once, news first for
    some: the sender runs beside the consumer, and no race may leave a family unreached."""
    reached: list[tuple[District, Family]] = []
    for n in range(10):
        district = notify.district()
        family = district.family({"phone": True, "email": True})
        guardian = family.guardians[0]
        await notify.client.put(
            "/v1/me/preferences",
            json={"channels": ["sms", "email"]},
            headers={"Authorization": f"Bearer {district.token(guardian)}"},
        )
        news = GoalMet(
            district_id=district.district_id,
            goal_id=random_id("goal"),
            student_id=family.student_id,
            skill_code="orf",
            score=91,
            target=90,
        )
        roster = district.roster_events()
        await notify.publish(*((news, *roster) if n % 2 else (*roster, news)))
        reached.append((district, family))

    async def everyone() -> bool:
        return all(
            notify.sms_to(f.guardians[0].phone) and notify.mail_to(f.guardians[0].email)
            for _, f in reached
        )

    await eventually(everyone, timeout=60, what="every family on both channels")
    await asyncio.sleep(1)
    for _, family in reached:
        assert len(notify.sms_to(family.guardians[0].phone)) == 1
        assert len(notify.mail_to(family.guardians[0].email)) == 1
