"""The roster read models under reordered events: retries travel through the retry topic, so
a consumer may see an aggregate's events out of order. The handlers are run as the consumer
runs them (one unit of work each, with the envelope), in the order a retry could bring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aptt_contracts.data import (
    ClassroomRemoved,
    ClassroomUpserted,
    GuardianContactUpdated,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_local.servers import LocalStack
from aptt_local.testing import random_id, random_name
from aptt_notify import consumers, store
from aptt_notify.domain.model import Template
from aptt_notify.service.notices import classroom_audience, create_notice
from aptt_notify.settings import Config
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import Mongo, UnitOfWork

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
async def mongo(local_stack: LocalStack) -> AsyncIterator[Mongo]:
    db = Mongo(local_stack.mongo_url, f"test_notify_rm_{random_name(6)}", config=Config())
    await db.ensure_indexes(store.INDEXES)
    yield db
    await db.close()


async def deliver(mongo: Mongo, event: EventModel, at: datetime) -> None:
    """Run the handler of the notify table for `event`, as if it was published at `at`."""
    meta = ReceivedEvent(
        id=random_id("evt"),
        type=event.event_type,
        source="/aptt/data",
        subject=None,
        district_id=event.district_id,
        time=at,
        data=event,
        traceparent=None,
        topic=event.topic,
        partition=0,
        offset=0,
    )
    await mongo.run(consumers.HANDLERS[type(event)], event, meta)


def classroom(district_id: str, classroom_id: str, students: list[str]) -> ClassroomUpserted:
    return ClassroomUpserted(
        district_id=district_id,
        classroom_id=classroom_id,
        school_id="sch-1",
        grade=3,
        teacher_ids=["t-1"],
        student_ids=students,
    )


def student(district_id: str, student_id: str, guardians: list[str]) -> StudentUpserted:
    return StudentUpserted(
        district_id=district_id,
        student_id=student_id,
        school_id="sch-1",
        grade=3,
        guardian_ids=guardians,
    )


def contact(
    district_id: str, guardian_id: str, phone: str, language: str
) -> GuardianContactUpdated:
    return GuardianContactUpdated(
        district_id=district_id,
        guardian_id=guardian_id,
        given_name="Ana",
        family_name="Pérez",
        preferred_language=language,
        email=None,
        phone=phone,
        student_ids=["stu-1"],
        school_ids=["sch-1"],
    )


async def read(mongo: Mongo, what: str, district_id: str, key: str) -> dict[str, object] | None:
    model = getattr(store.roster, what)

    async def get(uow: UnitOfWork) -> dict[str, object] | None:
        found: dict[str, object] | None = await model.get(uow, district_id, key)
        return found

    return await mongo.run(get)


async def test_a_removed_classroom_stays_removed_when_an_older_upsert_comes_late(
    mongo: Mongo,
) -> None:
    district_id = random_id("d")
    await deliver(mongo, classroom(district_id, "cls-1", ["stu-1"]), T0)
    await deliver(
        mongo,
        ClassroomRemoved(district_id=district_id, classroom_id="cls-1", school_id="sch-1"),
        T0 + 2 * MINUTE,
    )
    # The retry of an upsert published between the two arrives now.
    await deliver(mongo, classroom(district_id, "cls-1", ["stu-1", "stu-2"]), T0 + 1 * MINUTE)
    assert await read(mongo, "classrooms", district_id, "cls-1") is None
    tombstone = await mongo.db["classrooms"].find_one({"district_id": district_id})
    assert tombstone is not None
    assert tombstone["removed"] is True


async def test_a_removed_classroom_reaches_nobody(mongo: Mongo) -> None:
    """A notice to a classroom whose removal came before a late upsert has no audience."""
    district_id = random_id("d")
    await deliver(mongo, student(district_id, "stu-1", ["g-1"]), T0)
    await deliver(
        mongo,
        ClassroomRemoved(district_id=district_id, classroom_id="cls-1", school_id="sch-1"),
        T0 + 2 * MINUTE,
    )
    await deliver(mongo, classroom(district_id, "cls-1", ["stu-1"]), T0 + 1 * MINUTE)

    async def notify_the_class(uow: UnitOfWork) -> None:
        now = datetime.now(UTC)
        await create_notice(
            uow,
            district_id=district_id,
            source_event_id=random_id("evt"),
            template=Template.MEETING_INVITATION,
            audience=classroom_audience("cls-1"),
            params={},
            due_at=now,
            now=now,
            fanout_until=now + timedelta(days=1),
        )

    await mongo.run(notify_the_class)
    assert await mongo.db["messages"].count_documents({"district_id": district_id}) == 0


async def test_a_newer_upsert_after_a_removal_brings_the_classroom_back(mongo: Mongo) -> None:
    district_id = random_id("d")
    await deliver(
        mongo,
        ClassroomRemoved(district_id=district_id, classroom_id="cls-1", school_id="sch-1"),
        T0,
    )
    await deliver(mongo, classroom(district_id, "cls-1", ["stu-1"]), T0 + 1 * MINUTE)
    found = await read(mongo, "classrooms", district_id, "cls-1")
    assert found is not None
    assert found["student_ids"] == ["stu-1"]


async def test_an_older_student_upsert_after_a_newer_one_is_ignored(mongo: Mongo) -> None:
    district_id = random_id("d")
    await deliver(mongo, student(district_id, "stu-1", ["g-new"]), T0 + 1 * MINUTE)
    await deliver(mongo, student(district_id, "stu-1", ["g-old"]), T0)
    found = await read(mongo, "students", district_id, "stu-1")
    assert found is not None
    assert found["guardian_ids"] == ["g-new"]


async def test_a_removed_student_stays_removed_and_links_no_guardian(mongo: Mongo) -> None:
    district_id = random_id("d")
    await deliver(mongo, student(district_id, "stu-1", ["g-1"]), T0)
    await deliver(
        mongo,
        StudentRemoved(district_id=district_id, student_id="stu-1", school_id="sch-1"),
        T0 + 2 * MINUTE,
    )
    await deliver(mongo, student(district_id, "stu-1", ["g-1"]), T0 + 1 * MINUTE)
    assert await read(mongo, "students", district_id, "stu-1") is None

    async def linked(uow: UnitOfWork) -> set[str]:
        return await store.roster.guardians_of_students(uow, district_id, ["stu-1"])

    assert await mongo.run(linked) == set()


async def test_an_older_contact_update_does_not_undo_a_newer_one(mongo: Mongo) -> None:
    district_id = random_id("d")
    await deliver(mongo, contact(district_id, "g-1", "+16505550123", "es"), T0 + 1 * MINUTE)
    await deliver(mongo, contact(district_id, "g-1", "+16505550999", "en"), T0)
    found = await read(mongo, "guardians", district_id, "g-1")
    assert found is not None
    assert found["contact"] == {
        "given_name": "Ana",
        "family_name": "Pérez",
        "language": "es",
        "email": None,
        "phone": "+16505550123",
        "student_ids": ["stu-1"],
        "school_ids": ["sch-1"],
        "student_birth_dates": {},
    }
    # The stale update did not touch the number book either.
    assert await mongo.db["sms_numbers"].find_one({"_id": "+16505550999"}) is None


async def test_older_school_and_skill_events_are_ignored(mongo: Mongo) -> None:
    district_id = random_id("d")
    newer = SchoolUpserted(district_id=district_id, school_id="sch-1", timezone="Europe/Madrid")
    older = SchoolUpserted(district_id=district_id, school_id="sch-1", timezone="America/Chicago")
    await deliver(mongo, newer, T0 + 1 * MINUTE)
    await deliver(mongo, older, T0)
    school = await read(mongo, "schools", district_id, "sch-1")
    assert school is not None
    assert school["timezone"] == "Europe/Madrid"
    skill_new = SkillDefined(
        district_id=district_id,
        skill_code="x-1",
        name={"en": "Spelling"},
        unit={"en": "words"},
        scale_min=0,
        scale_max=100,
        benchmarks=[],
    )
    skill_old = SkillDefined(
        district_id=district_id,
        skill_code="x-1",
        name={"en": "Old name"},
        unit={"en": "words"},
        scale_min=0,
        scale_max=100,
        benchmarks=[],
    )
    await deliver(mongo, skill_new, T0 + 1 * MINUTE)
    await deliver(mongo, skill_old, T0)
    skill = await read(mongo, "skills", district_id, "x-1")
    assert skill is not None
    assert skill["names"] == {"en": "Spelling"}


async def test_the_same_event_twice_is_applied_once(mongo: Mongo) -> None:
    district_id = random_id("d")
    await deliver(mongo, student(district_id, "stu-1", ["g-1"]), T0)
    await deliver(mongo, student(district_id, "stu-1", ["g-2"]), T0)
    found = await read(mongo, "students", district_id, "stu-1")
    assert found is not None
    assert found["guardian_ids"] == ["g-1"]
