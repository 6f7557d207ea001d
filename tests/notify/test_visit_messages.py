"""Home-visit messages: the invitation, the proposal, the confirmation and a cancellation
reach the family in its language and channel, and nobody else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aptt_contracts.notify import VISIT_ANSWERS
from aptt_contracts.scheduling import (
    FamilyInvited,
    VisitCancelled,
    VisitMoved,
    VisitProposed,
    VisitScheduled,
)
from aptt_local.kafkatools import read_topic
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id
from aptt_platform.devissuer import DevIssuer

from .conftest import NotifyApp, running_notify
from .test_sms_replies import text_app


@pytest.fixture(scope="module")
async def notify(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[NotifyApp]:
    async with running_notify(local_stack, dev_issuer) as app:
        yield app


async def test_a_family_hears_of_its_visit_in_its_language_from_invitation_to_cancellation(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True, "language": "es"}, {"phone": True, "language": "en"})
    neighbour = district.family({"phone": True, "language": "en"})
    await district.publish_roster()
    spanish, english = family.guardians
    d, school, student = district.district_id, district.school_id, family.student_id
    pair = [random_id("edu"), random_id("edu")]
    visit_id = random_id("hv")
    soon = (datetime.now(UTC) + timedelta(days=9)).replace(microsecond=0)

    await notify.publish(
        FamilyInvited(
            district_id=d,
            invitation_id=random_id("vi"),
            student_id=student,
            guardian_ids=[spanish.guardian_id, english.guardian_id],
            school_id=school,
            classroom_id=district.classroom_id,
            school_year="2026-2027",
        )
    )
    [invited] = await notify.wait_sms(spanish.phone)
    assert invited["body"].startswith("Dos maestros de su hijo/a quieren visitar")
    [invited_en] = await notify.wait_sms(english.phone)
    assert "It is up to you" in invited_en["body"]

    await notify.publish(
        VisitProposed(
            district_id=d,
            visit_id=visit_id,
            student_id=student,
            guardian_id=spanish.guardian_id,
            school_id=school,
            educator_ids=pair,
            proposed_times=[soon, soon + timedelta(days=1), soon + timedelta(days=2)],
            duration_minutes=60,
        ),
        VisitScheduled(
            district_id=d,
            visit_id=visit_id,
            student_id=student,
            guardian_id=spanish.guardian_id,
            school_id=school,
            educator_ids=pair,
            starts_at=soon,
            duration_minutes=60,
            place_kind="home",
        ),
    )
    bodies = [sms["body"] for sms in await notify.wait_sms(spanish.phone, count=3)]
    assert sum("proponen 3 horarios" in b for b in bodies) == 1
    assert sum(b.startswith("¡Gracias! La visita de los maestros es el") for b in bodies) == 1
    reminder = {"district_id": d, "template": "visit-reminder-1d"}
    [planned] = await notify.db["notices"].find(reminder).to_list(None)
    assert planned["status"] == "scheduled"
    assert planned["due_at"] == soon - timedelta(days=1)

    await notify.publish(
        VisitCancelled(
            district_id=d,
            visit_id=visit_id,
            student_id=student,
            guardian_id=spanish.guardian_id,
            school_id=school,
            educator_ids=pair,
            starts_at=soon,
            reason="withdrawn",
            cancelled_by="family",
        )
    )
    bodies = [sms["body"] for sms in await notify.wait_sms(spanish.phone, count=4)]
    assert sum(b.startswith("La visita de los maestros se canceló") for b in bodies) == 1
    [stopped] = await notify.db["notices"].find(reminder).to_list(None)
    assert stopped["status"] == "cancelled"
    # The proposal went to the guardian who said yes; the neighbours heard nothing.
    assert len(notify.sms_to(english.phone)) == 1
    assert notify.sms_to(neighbour.guardians[0].phone) == []


async def test_a_texted_yes_or_no_answers_the_invitation_and_stop_still_stops(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    saying_yes, saying_no, stopping = (district.family({"language": "es"}) for _ in range(3))
    await district.publish_roster()
    invitations = {}
    for family in (saying_yes, saying_no, stopping):
        invitations[family.student_id] = random_id("vi")
        await notify.publish(
            FamilyInvited(
                district_id=district.district_id,
                invitation_id=invitations[family.student_id],
                student_id=family.student_id,
                guardian_ids=[family.guardians[0].guardian_id],
                school_id=district.school_id,
                classroom_id=district.classroom_id,
                school_year="2026-2027",
            )
        )
        await notify.wait_sms(family.guardians[0].phone)
    await text_app(notify, saying_yes.guardians[0].phone, "Sí")
    await text_app(notify, saying_no.guardians[0].phone, "no")
    await text_app(notify, stopping.guardians[0].phone, "STOP")

    async def answers() -> dict[str, str]:
        found = {}
        for record in await read_topic(notify.stack.kafka_bootstrap, VISIT_ANSWERS):
            data = json.loads(record.value or b"{}")
            if data.get("invitation_id") in invitations.values():
                found[data["invitation_id"]] = data["answer"]
        return found

    async def both() -> bool:
        return len(await answers()) == 2

    await eventually(both, timeout=30, what="the two texted answers on the topic")
    assert await answers() == {
        invitations[saying_yes.student_id]: "yes",
        invitations[saying_no.student_id]: "no",
    }
    number = await notify.db["sms_numbers"].find_one({"_id": stopping.guardians[0].phone})
    assert number is not None
    assert number["opted_out"] is True


async def test_a_moved_visit_tells_the_family_once_per_move_and_stops_the_old_reminder(
    notify: NotifyApp,
) -> None:
    district = notify.district()
    family = district.family({"phone": True, "language": "es"}, {"phone": True, "language": "en"})
    await district.publish_roster()
    guardian, other_guardian = family.guardians
    d, school, student = district.district_id, district.school_id, family.student_id
    pair = [random_id("edu"), random_id("edu")]
    visit_id = random_id("hv")
    soon = (datetime.now(UTC) + timedelta(days=9)).replace(microsecond=0)
    ids = {
        "district_id": d,
        "visit_id": visit_id,
        "student_id": student,
        "guardian_id": guardian.guardian_id,
        "school_id": school,
        "educator_ids": pair,
        "duration_minutes": 60,
    }
    await notify.publish(VisitScheduled(**ids, starts_at=soon, place_kind="home"))
    await notify.wait_sms(guardian.phone)
    reminder = {"district_id": d, "template": "visit-reminder-1d"}
    [planned] = await notify.db["notices"].find(reminder).to_list(None)
    assert planned["status"] == "scheduled"

    # The family asks for another time: it hears it was heard, and the old reminder stops.
    await notify.publish(
        VisitMoved(
            **ids,
            previous_starts_at=soon,
            status="times_requested",
            times=[],
            moved_by="family",
            moves=1,
        )
    )
    bodies = [sms["body"] for sms in await notify.wait_sms(guardian.phone, count=2)]
    assert sum(b.startswith("Gracias por avisarnos.") for b in bodies) == 1
    [stopped] = await notify.db["notices"].find(reminder).to_list(None)
    assert stopped["status"] == "cancelled"

    # The pair offers three new times: one message says so.
    later = [soon + timedelta(days=n) for n in (2, 3, 4)]
    await notify.publish(
        VisitMoved(**ids, status="proposed", times=later, moved_by="educator", moves=2)
    )
    bodies = [sms["body"] for sms in await notify.wait_sms(guardian.phone, count=3)]
    assert sum("Sugieren 3 horarios nuevos" in b for b in bodies) == 1
    assert sum(b.startswith("Gracias por avisarnos.") for b in bodies) == 1

    async def settled() -> bool:
        moved = {"district_id": d, "meeting_id": visit_id, "template": {"$regex": "^visit-move"}}
        found = await notify.db["messages"].find(moved).to_list(None)
        return len(found) == 2

    await eventually(settled, what="one message per move")
    # Exactly three messages in all: the confirmation and one per move.
    assert len(notify.sms_to(guardian.phone)) == 3
    # Moves are told to the guardian who arranged the visit, not to the whole family.
    assert notify.sms_to(other_guardian.phone) == []
