"""The batched event path: a partition's batch in one transaction, a bad record on its own,
an unpublishable record parked while everything else flows, oversized events refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from aptt_contracts.catalogue import dlq_topic
from aptt_contracts.envelope import EventModel
from aptt_local.servers import LocalStack
from aptt_platform.consumer import RunHandler
from aptt_platform.errors import PayloadTooLarge
from aptt_platform.events import ReceivedEvent, encode, header_dict
from aptt_platform.mongo import OUTBOX, OUTBOX_PARKED, UnitOfWork, utcnow
from aptt_platform.relay import list_parked, replay_parked
from bson import ObjectId
from prometheus_client import REGISTRY
from pymongo import UpdateOne

from .conftest import NoteTaken, Pipeline, eventually
from .test_outbox_and_consumer import consumed


async def _count(p: Pipeline, collection: str) -> int:
    return await p.mongo.db[collection].count_documents({})


async def test_a_batch_with_one_failing_record_dead_letters_only_that_record(
    local_stack: LocalStack,
) -> None:
    p = Pipeline(
        local_stack,
        consumer_retry_backoff_seconds=0.2,
        consumer_retry_backoff_max_seconds=0.2,
        consumer_max_retries=1,
    )
    await p.start(consume=False)
    notes = [f"n{i:02d}" for i in range(30)]
    try:
        for note in notes:
            await p.take_note(note, fail=note == "n13")

        async def all_published() -> bool:
            return len(await p.read_topic(p.topic)) == len(notes)

        # Everything waits on the topic first, so the consumer gets it as one batch.
        await eventually(all_published, what="every note on the topic")
        await p.start_consumer()

        async def dead_lettered() -> bool:
            return len(await p.read_topic(dlq_topic(p.name))) == 1

        await eventually(dead_lettered, timeout=60, what="the bad note in dead letters")
        assert await p.effects() == {note: 1 for note in notes if note != "n13"}
        [letter] = await p.read_topic(dlq_topic(p.name))
        assert b'"n13"' in (letter.value or b"")
        # Every good record is recorded once; the bad one never committed a dedupe record.
        assert await _count(p, "processed_events") == len(notes) - 1
        assert consumed(p, "ok") == len(notes) - 1
        assert consumed(p, "dead_lettered") == 1
    finally:
        await p.stop()


async def test_a_redelivered_batch_has_no_second_effect(local_stack: LocalStack) -> None:
    p = Pipeline(local_stack)
    await p.start(consume=False)
    try:
        for i in range(10):
            await p.take_note(f"r{i}")

        async def all_published() -> bool:
            return len(await p.read_topic(p.topic)) == 10

        await eventually(all_published, what="every note on the topic")
        # The same ten records again, as a relay that crashed before its checkpoint sends them.
        for record in await p.read_topic(p.topic):
            await p.producer.send_and_wait(
                p.topic, value=record.value, key=record.key, headers=list(record.headers)
            )
        await p.start_consumer()

        async def seen_all() -> bool:
            return consumed(p, "ok") + consumed(p, "duplicate") == 20

        await eventually(seen_all, what="both copies of every note")
        assert await p.effects() == {f"r{i}": 1 for i in range(10)}
        assert consumed(p, "duplicate") == 10
    finally:
        await p.stop()


def _outbox_record(
    p: Pipeline, note_id: str, *, notebook: str, padding: int = 0
) -> dict[str, object]:
    event = p.model(district_id=p.district, notebook_id=notebook, note_id=note_id)
    headers, key, value = encode(event, traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01")
    if padding:
        # A record no broker takes (written by a version before the event size limit).
        value = value[:-1] + b', "padding": "' + b"x" * padding + b'"}'
    return {
        "_id": ObjectId(),
        "event_id": headers["ce_id"],
        "district_id": p.district,
        "topic": p.topic,
        "type": event.event_type,
        "key": key,
        "headers": headers,
        "value": value.decode(),
        "status": "pending",
        "created_at": utcnow(),
    }


def parked_total(p: Pipeline) -> float:
    return REGISTRY.get_sample_value("aptt_outbox_parked_total", {"app": p.name}) or 0.0


async def test_an_unpublishable_record_is_parked_while_later_records_flow(
    pipeline: Pipeline,
) -> None:
    poison = _outbox_record(pipeline, "huge", notebook=pipeline.notebook, padding=2_000_000)
    await pipeline.mongo.db[OUTBOX].insert_one(poison)
    # Later records, of the same district, another district, and the same key: none wait.
    await pipeline.take_note("after-1")
    await pipeline.take_note("other-district", district="d-" + uuid.uuid4().hex[:8])
    await pipeline.take_note("after-2")

    async def flowed() -> bool:
        return len(await pipeline.effects()) == 3

    await eventually(flowed, what="the records behind the poison record")
    assert set(await pipeline.effects()) == {"after-1", "other-district", "after-2"}
    [parked] = await list_parked(pipeline.mongo)
    assert parked["event_id"] == poison["event_id"]
    assert "MessageSizeTooLarge" in parked["reason"]
    assert "value" not in parked  # listing shows no payload
    assert parked_total(pipeline) == 1
    assert "huge" not in await pipeline.effects()


async def test_a_parked_record_is_replayed_once(pipeline: Pipeline) -> None:
    record = _outbox_record(pipeline, "fixed", notebook=pipeline.notebook)
    await pipeline.mongo.db[OUTBOX_PARKED].insert_one(
        {**record, "status": "parked", "reason": "TopicAuthorizationFailed", "parked_at": utcnow()}
    )
    assert await replay_parked(pipeline.mongo) == 1

    async def delivered() -> bool:
        return (await pipeline.effects()).get("fixed") == 1

    await eventually(delivered, what="the replayed record")
    assert await list_parked(pipeline.mongo) == []
    [published] = await pipeline.read_topic(pipeline.topic)
    assert header_dict(published.headers)["ce_id"].decode() == record["event_id"]


async def test_a_use_case_whose_event_is_too_large_is_refused_and_stores_nothing(
    pipeline: Pipeline,
) -> None:
    big = "x" * 300_000

    async def use_case(uow: UnitOfWork) -> None:
        await uow.collection("notes").insert_one(
            {"_id": "big", "district_id": pipeline.district}, session=uow.session
        )
        uow.publish(pipeline.model(district_id=pipeline.district, notebook_id=big, note_id="big"))

    with pytest.raises(PayloadTooLarge, match="events are limited"):
        await pipeline.mongo.run(use_case)
    assert await _count(pipeline, "notes") == 0
    assert await _count(pipeline, OUTBOX) == 0


@dataclass
class Notebook:
    """An aggregate: it records what happened to it; the unit of work collects the events."""

    district_id: str
    notebook_id: str
    model: type[EventModel]
    events: list[EventModel] = field(default_factory=list)

    def take(self, note_id: str) -> None:
        self.events.append(
            self.model(district_id=self.district_id, notebook_id=self.notebook_id, note_id=note_id)
        )


async def test_the_unit_of_work_publishes_the_events_of_the_aggregates_it_tracked(
    pipeline: Pipeline,
) -> None:
    notebook = Notebook(pipeline.district, pipeline.notebook, pipeline.model)

    async def use_case(uow: UnitOfWork) -> None:
        notebook.take("tracked-1")
        notebook.take("tracked-2")
        uow.track(notebook)
        uow.track(notebook)  # tracked twice, published once

    await pipeline.mongo.run(use_case)
    assert notebook.events == []

    async def delivered() -> bool:
        return await pipeline.effects() == {"tracked-1": 1, "tracked-2": 1}

    # Nobody woke the relay: a commit that wrote events is enough.
    await eventually(delivered, what="the aggregate's events")
    assert len(await pipeline.read_topic(pipeline.topic)) == 2


async def test_partitions_that_write_one_document_apply_every_event_once(
    local_stack: LocalStack,
) -> None:
    """Batches of different partitions run side by side; when they write the same document
    (a district-wide counter here) the losers of the conflict run again, one at a time."""

    p = Pipeline(local_stack)

    async def count_in_district(uow: UnitOfWork, event: ReceivedEvent) -> None:
        await p.count_effect(uow, event)
        await uow.collection("district_totals").update_one(
            {"_id": event.district_id}, {"$inc": {"notes": 1}}, upsert=True, session=uow.session
        )

    p.handler = count_in_district
    await p.start(consume=False)
    notebooks = [f"nb-{i}" for i in range(6)]  # six keys: spread over the three partitions
    try:
        for i in range(36):
            p.notebook = notebooks[i % len(notebooks)]
            await p.take_note(f"c{i:02d}")

        async def all_published() -> bool:
            return len(await p.read_topic(p.topic)) == 36

        await eventually(all_published, what="every note on the topic")
        partitions = {r.partition for r in await p.read_topic(p.topic)}
        assert len(partitions) > 1
        await p.start_consumer()

        async def all_counted() -> bool:
            return len(await p.effects()) == 36

        await eventually(all_counted, timeout=60, what="every note")
        assert await p.effects() == {f"c{i:02d}": 1 for i in range(36)}
        total = await p.mongo.db["district_totals"].find_one({"_id": p.district})
        assert total is not None
        assert total["notes"] == 36
    finally:
        await p.stop()


async def test_a_batched_handler_gets_runs_and_a_bad_record_still_goes_alone(
    local_stack: LocalStack,
) -> None:
    p = Pipeline(
        local_stack,
        consumer_retry_backoff_seconds=0.2,
        consumer_retry_backoff_max_seconds=0.2,
        consumer_max_retries=1,
    )
    runs: list[int] = []

    async def count_all(uow: UnitOfWork, notes: list[tuple[NoteTaken, ReceivedEvent]]) -> None:
        runs.append(len(notes))
        if any(note.fail for note, _ in notes):
            raise RuntimeError("a bad note in the run")
        await uow.collection("effects").bulk_write(
            [UpdateOne({"_id": n.note_id}, {"$inc": {"count": 1}}, upsert=True) for n, _ in notes],
            session=uow.session,
        )

    await p.start(consume=False)
    try:
        for i in range(20):
            await p.take_note(f"b{i:02d}", fail=i == 7)

        async def all_published() -> bool:
            return len(await p.read_topic(p.topic)) == 20

        await eventually(all_published, what="every note on the topic")
        await p.start_consumer(RunHandler(p.model, count_all))

        async def dead_lettered() -> bool:
            return len(await p.read_topic(dlq_topic(p.name))) == 1

        await eventually(dead_lettered, timeout=60, what="the bad note in dead letters")
        assert await p.effects() == {f"b{i:02d}": 1 for i in range(20) if i != 7}
        assert max(runs) > 1  # the batch reached the handler as a run
        assert runs.count(1) >= 19  # then, after the run failed, one note at a time
    finally:
        await p.stop()
