"""Surveys after conferences and home visits: the family whose conference took place, or
whose home visit was completed, gets the short survey in its language, as after a team
meeting; a cancelled conference asks nothing and a moved one waits for its new end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aptt_contracts.scheduling import (
    ConferenceBookingCancelled,
    ConferenceBookingMoved,
    VisitCompleted,
    VisitScheduled,
)
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import NotifyApp, running_notify, texts
from .test_conference_messages import booking
from .test_sms_replies import text_app

FIRST_QUESTION_ES = "Pregunta 1 de 4"


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


async def surveys_of(notify: NotifyApp, district_id: str, source_id: str) -> list[Any]:
    found: list[Any] = (
        await notify.db["surveys"]
        .find({"district_id": district_id, "meeting_id": source_id})
        .to_list()
    )
    return found


async def test_a_family_gets_the_survey_after_its_conference(notify: NotifyApp) -> None:
    district = notify.district()
    held, cancelled, moved = (district.family({"language": "es"}) for _ in range(3))
    await district.publish_roster()
    now = datetime.now(UTC).replace(microsecond=0)
    past = booking(district, held, now - timedelta(hours=2))
    later = booking(district, cancelled, now + timedelta(days=3))
    to_move = booking(district, moved, now + timedelta(days=3))
    await notify.publish(past, later, to_move)
    phone = held.guardians[0].phone
    [asked] = [t for t in texts(await notify.wait_sms(phone)) if t.startswith(FIRST_QUESTION_ES)]
    assert "¿Qué tan bienvenido/a se sintió" in asked
    await text_app(notify, phone, "5")
    await notify.wait_sms(phone, 2)
    assert texts(notify.sms_to(phone))[-1].startswith("Pregunta 2 de 4")

    fields = later.model_dump(exclude={"by"})
    await notify.publish(ConferenceBookingCancelled(**fields, by="family"))
    new_start = now + timedelta(days=5)
    await notify.publish(
        ConferenceBookingMoved(
            **(
                to_move.model_dump(exclude={"by"})
                | {
                    "starts_at": new_start,
                    "ends_at": new_start + timedelta(minutes=20),
                    "slot_id": random_id("slot"),
                    "sequence": 1,
                }
            ),
            previous_slot_id=to_move.slot_id,
            previous_starts_at=to_move.starts_at,
            by="family",
        )
    )
    d = district.district_id

    async def closed() -> bool:
        found = await surveys_of(notify, d, later.booking_id)
        return bool(found) and all(s["status"] == "closed" for s in found)

    await eventually(closed, timeout=30, what="the cancelled conference's surveys closed")
    questions = await notify.messages(d, meeting_id=later.booking_id, template="survey-question")
    assert [m["status"] for m in questions] == ["dropped"]

    async def waits_for_new_end() -> bool:
        [question] = await notify.messages(
            d, meeting_id=to_move.booking_id, template="survey-question"
        )
        due: datetime = question["next_check_at"].replace(tzinfo=UTC)
        return bool(question["status"] == "pending" and due == new_start + timedelta(minutes=20))

    await eventually(waits_for_new_end, timeout=30, what="the moved conference's question")
    # Neither family whose conference has not taken place was asked anything.
    for family in (cancelled, moved):
        assert not any(
            t.startswith(FIRST_QUESTION_ES) for t in texts(notify.sms_to(family.guardians[0].phone))
        )


async def test_the_family_visited_gets_the_survey_when_the_visit_is_completed(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"language": "es"}, {"language": "en"})
    await district.publish_roster()
    visited, other = family.guardians
    d, school, student = district.district_id, district.school_id, family.student_id
    pair = [random_id("edu"), random_id("edu")]
    visit_id = random_id("hv")
    starts_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    await notify.publish(
        VisitScheduled(
            district_id=d,
            visit_id=visit_id,
            student_id=student,
            guardian_id=visited.guardian_id,
            school_id=school,
            educator_ids=pair,
            starts_at=starts_at,
            duration_minutes=60,
            place_kind="home",
        )
    )
    await notify.publish(
        VisitCompleted(
            district_id=d,
            visit_id=visit_id,
            student_id=student,
            school_id=school,
            educator_ids=pair,
            visit_number=1,
            duration_minutes=55,
        )
    )

    async def asked() -> bool:
        return any(t.startswith(FIRST_QUESTION_ES) for t in texts(notify.sms_to(visited.phone)))

    await eventually(asked, timeout=30, what="the visit's survey")
    found = await surveys_of(notify, d, visit_id)
    # Only the guardian visited; no teacher survey, the pair need not teach the child.
    assert [(s["audience"], s["respondent_id"]) for s in found] == [("family", visited.guardian_id)]
    assert (
        await notify.messages(d, recipient_id=other.guardian_id, template="survey-question") == []
    )
    # Completing it again (a retried event) starts nothing new.
    await notify.publish(
        VisitCompleted(
            district_id=d,
            visit_id=visit_id,
            student_id=student,
            school_id=school,
            educator_ids=pair,
            visit_number=1,
            duration_minutes=55,
        )
    )
    assert len(await surveys_of(notify, d, visit_id)) == 1
