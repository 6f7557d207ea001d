"""The read-model rule every service's roster copy follows: newer wins, removals stay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aptt_local.servers import LocalStack
from aptt_platform.mongo import Mongo, UnitOfWork
from aptt_platform.readmodel import Applied, Change, ReadModel

CLASSROOMS = ReadModel("classrooms", "classroom_id")
T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
async def mongo(local_stack: LocalStack) -> AsyncIterator[Mongo]:
    db = Mongo(local_stack.mongo_url, "test_readmodel_" + uuid.uuid4().hex[:8])
    await db.ensure_indexes({CLASSROOMS.collection: [CLASSROOMS.index()]})
    yield db
    await db.close()


async def upsert(mongo: Mongo, room: str, version: datetime, grade: int) -> Applied:
    async def use_case(uow: UnitOfWork) -> Applied:
        return await CLASSROOMS.upsert(uow, "d1", room, {"grade": grade}, version=version)

    return await mongo.run(use_case)


async def remove(mongo: Mongo, room: str, version: datetime) -> Applied:
    async def use_case(uow: UnitOfWork) -> Applied:
        return await CLASSROOMS.remove(uow, "d1", room, version=version, keep={"school_id": "s1"})

    return await mongo.run(use_case)


async def get(mongo: Mongo, room: str, *, removed: bool = False) -> dict[str, object] | None:
    async def use_case(uow: UnitOfWork) -> dict[str, object] | None:
        return await CLASSROOMS.get(uow, "d1", room, removed=removed)

    return await mongo.run(use_case)


async def test_an_older_upsert_after_a_newer_one_is_ignored(mongo: Mongo) -> None:
    assert (await upsert(mongo, "c1", at(2), grade=3)).written
    late = await upsert(mongo, "c1", at(1), grade=2)
    assert not late.written
    kept = await get(mongo, "c1")
    assert kept is not None
    assert kept["grade"] == 3


async def test_a_removal_is_kept_so_a_late_upsert_cannot_revive_it(mongo: Mongo) -> None:
    await upsert(mongo, "c2", at(1), grade=3)
    removal = await remove(mongo, "c2", at(3))
    assert removal.written
    assert removal.was_live
    # The upsert of second 2 was retried through the retry topic and arrives last.
    assert not (await upsert(mongo, "c2", at(2), grade=4)).written
    assert await get(mongo, "c2") is None
    tombstone = await get(mongo, "c2", removed=True)
    assert tombstone is not None
    assert tombstone["school_id"] == "s1"
    # A newer upsert (the classroom came back in a later import) does apply.
    assert (await upsert(mongo, "c2", at(4), grade=4)).written
    back = await get(mongo, "c2")
    assert back is not None
    assert back["grade"] == 4


async def test_a_removal_older_than_the_kept_upsert_is_ignored(mongo: Mongo) -> None:
    await upsert(mongo, "c3", at(5), grade=1)
    assert not (await remove(mongo, "c3", at(4))).written
    assert await get(mongo, "c3") is not None


async def test_the_same_event_applied_twice_changes_nothing_the_second_time(mongo: Mongo) -> None:
    moment = at(1).replace(microsecond=123_456)
    assert (await upsert(mongo, "c4", moment, grade=2)).written
    assert not (await upsert(mongo, "c4", moment, grade=2)).written


async def test_two_events_in_one_millisecond_keep_their_order(mongo: Mongo) -> None:
    # Events of one transaction are a microsecond apart: the later one is not a copy.
    first = at(1).replace(microsecond=500_000)
    assert (await upsert(mongo, "c7", first, grade=1)).written
    assert (await remove(mongo, "c7", first.replace(microsecond=500_001))).written
    assert await get(mongo, "c7") is None


async def test_live_queries_leave_tombstones_out(mongo: Mongo) -> None:
    await upsert(mongo, "c5", at(1), grade=2)
    await upsert(mongo, "c6", at(1), grade=2)
    await remove(mongo, "c6", at(2))

    async def use_case(uow: UnitOfWork) -> list[str]:
        docs = await CLASSROOMS.find_live(uow, "d1", {"grade": 2}, limit=10)
        return sorted(d["classroom_id"] for d in docs)

    assert await mongo.run(use_case) == ["c5"]


async def test_a_run_of_changes_applies_by_the_same_rule_as_one_at_a_time(mongo: Mongo) -> None:
    await upsert(mongo, "r1", at(5), grade=1)
    await remove(mongo, "r3", at(5))
    changes = [
        Change("d1", "r1", at(4), {"grade": 9}),  # older than kept: ignored
        Change("d1", "r2", at(1), {"grade": 2}),
        Change("d1", "r2", at(3), None, keep={"school_id": "s1"}),  # removed later in the run
        Change("d1", "r2", at(2), {"grade": 7}),  # older than the removal: ignored
        Change("d1", "r3", at(4), {"grade": 3}),  # older than the tombstone: ignored
        Change("d2", "r1", at(1), {"grade": 5}),  # same id, another district
    ]

    async def use_case(uow: UnitOfWork) -> list[Applied]:
        return await CLASSROOMS.apply_many(uow, changes)

    applied = await mongo.run(use_case)
    assert [a.written for a in applied] == [False, True, True, False, False, True]
    kept = await get(mongo, "r1")
    assert kept is not None
    assert kept["grade"] == 1
    assert await get(mongo, "r2") is None
    tombstone = await get(mongo, "r2", removed=True)
    assert tombstone is not None
    assert tombstone["school_id"] == "s1"
    assert await get(mongo, "r3") is None

    async def other_district(uow: UnitOfWork) -> dict[str, object] | None:
        return await CLASSROOMS.get(uow, "d2", "r1")

    elsewhere = await mongo.run(other_district)
    assert elsewhere is not None
    assert elsewhere["grade"] == 5
