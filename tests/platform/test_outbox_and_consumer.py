"""The event path of every service: use case -> outbox -> relay -> Kafka -> consumer.

Effects are counted in the consumer's database, so "exactly once in effect" is checked on
what a user would see, not on internal flags.
"""

from __future__ import annotations

import time
import uuid

from aptt_contracts.catalogue import dlq_topic, retry_topic
from aptt_local.servers import LocalStack
from aptt_platform.consumer import (
    H_ATTEMPTS,
    H_ERROR,
    H_ORIGINAL_OFFSET,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_TOPIC,
)
from aptt_platform.consumer.headers import H_NOT_BEFORE
from aptt_platform.dlq import list_dead_letters, replay_dead_letters
from aptt_platform.events import ReceivedEvent, encode, header_dict
from aptt_platform.mongo import UnitOfWork
from aptt_platform.tracing import continue_trace, current_trace, new_trace
from prometheus_client import REGISTRY

from .conftest import NOTE_TYPE, NoteTaken, Pipeline, eventually


def consumed(p: Pipeline, outcome: str, event_type: str = NOTE_TYPE) -> float:
    value = REGISTRY.get_sample_value(
        "aptt_events_consumed_total",
        {
            "app": p.name,
            "consumer": p.name,
            "topic": p.topic,
            "type": event_type,
            "outcome": outcome,
        },
    )
    return value or 0.0


async def test_events_reach_the_consumer_once_in_commit_order(pipeline: Pipeline) -> None:
    notes = [f"n{i}" for i in range(5)]
    for note in notes:
        await pipeline.take_note(note)

    async def all_counted() -> bool:
        return len(await pipeline.effects()) == len(notes)

    await eventually(all_counted, what="five effects")
    assert await pipeline.effects() == {note: 1 for note in notes}
    records = await pipeline.read_topic(pipeline.topic)
    assert len(records) == len(notes)
    headers = [header_dict(r.headers) for r in records]
    assert {h["ce_type"].decode() for h in headers} == {NOTE_TYPE}
    assert all(h["ce_district"].decode() == pipeline.district for h in headers)
    assert all(h["ce_id"] and h["ce_time"] and h["ce_specversion"] == b"1.0" for h in headers)
    assert all(r.key == f"{pipeline.district}:{pipeline.notebook}".encode() for r in records)
    # One aggregate, one partition, in the order the use cases committed.
    assert len({r.partition for r in records}) == 1
    assert [h["ce_subject"].decode() for h in headers] == [pipeline.notebook] * 5
    assert all(h["traceparent"].startswith(b"00-") for h in headers)


async def test_the_same_record_delivered_twice_has_one_effect(pipeline: Pipeline) -> None:
    await pipeline.take_note("once")

    async def counted() -> bool:
        return (await pipeline.effects()).get("once") == 1

    await eventually(counted, what="first effect")
    [record] = await pipeline.read_topic(pipeline.topic)
    await pipeline.producer.send_and_wait(
        pipeline.topic, value=record.value, key=record.key, headers=list(record.headers)
    )

    async def duplicate_seen() -> bool:
        return consumed(pipeline, "duplicate") == 1

    await eventually(duplicate_seen, what="the copy to be recognised")
    assert await pipeline.effects() == {"once": 1}
    assert consumed(pipeline, "ok") == 1


async def test_relay_crash_before_its_checkpoint_republishes_and_has_one_effect(
    pipeline: Pipeline,
) -> None:
    await pipeline.take_note("before")
    await eventually(lambda: _has_effect(pipeline, "before"), what="first effect")
    await pipeline.relay.stop()
    checkpoint = await pipeline.mongo.db["relay_state"].find_one({"_id": "outbox-relay"})
    assert checkpoint is not None
    pipeline.relay = pipeline.new_relay()
    pipeline.relay.start()
    await pipeline.take_note("crash")
    await eventually(lambda: _has_effect(pipeline, "crash"), what="second effect")
    # A relay that dies after Kafka took the record but before it saved its checkpoint
    # resumes from the checkpoint before: put that one back and start a relay again.
    await pipeline.relay.stop()
    await pipeline.mongo.db["relay_state"].replace_one({"_id": "outbox-relay"}, checkpoint)
    pipeline.relay = pipeline.new_relay()
    pipeline.relay.start()

    async def published_twice() -> bool:
        return len(await pipeline.read_topic(pipeline.topic)) == 3

    await eventually(published_twice, what="the record to be published again")
    await eventually(lambda: _is(consumed(pipeline, "duplicate") == 1), what="duplicate")
    records = await pipeline.read_topic(pipeline.topic)
    assert len({header_dict(r.headers)["ce_id"] for r in records}) == 2
    assert await pipeline.effects() == {"before": 1, "crash": 1}


async def _has_effect(pipeline: Pipeline, note: str) -> bool:
    return (await pipeline.effects()).get(note) == 1


async def test_failing_handler_is_retried_then_dead_lettered_while_the_partition_flows(
    local_stack: LocalStack,
) -> None:
    # A long first backoff makes the window visible: the good notes behind the bad one are
    # handled while the bad one still waits in the retry topic.
    p = Pipeline(
        local_stack,
        consumer_retry_backoff_seconds=2.0,
        consumer_retry_backoff_max_seconds=2.0,
        consumer_max_retries=2,
    )
    await p.start()
    try:
        await p.take_note("bad", fail=True)
        for i in range(3):
            await p.take_note(f"good{i}")

        async def good_done() -> bool:
            return len(await p.effects()) == 3

        await eventually(good_done, what="the good notes")
        assert await p.read_topic(dlq_topic(p.name)) == []
        assert "bad" not in await p.effects()

        async def dead_lettered() -> bool:
            return len(await p.read_topic(dlq_topic(p.name))) == 1

        await eventually(dead_lettered, timeout=45, what="the bad note in dead letters")
        [letter] = await p.read_topic(dlq_topic(p.name))
        headers = header_dict(letter.headers)
        [original] = [r for r in await p.read_topic(p.topic) if b'"bad"' in (r.value or b"")]
        assert headers[H_ORIGINAL_TOPIC].decode() == p.topic
        assert int(headers[H_ORIGINAL_PARTITION]) == original.partition
        assert int(headers[H_ORIGINAL_OFFSET]) == original.offset
        assert int(headers[H_ATTEMPTS]) == 3  # the first try and two retries
        assert "cannot handle note bad" in headers[H_ERROR].decode()
        assert consumed(p, "retried") == 2
        assert consumed(p, "dead_lettered") == 1
        [listed] = await list_dead_letters(p.settings, p.name)
        assert listed.event_id == headers["ce_id"].decode()

        # The bug is fixed: a replay handles the dead letter, once.
        async def lenient(uow: UnitOfWork, event: ReceivedEvent) -> None:
            assert isinstance(event.data, NoteTaken)
            await uow.collection("effects").update_one(
                {"_id": event.data.note_id},
                {"$inc": {"count": 1}},
                upsert=True,
                session=uow.session,
            )

        p.handler = lenient
        assert await replay_dead_letters(p.settings, p.name) == 1

        async def replayed() -> bool:
            return (await p.effects()).get("bad") == 1

        await eventually(replayed, what="the replayed note")
        assert await replay_dead_letters(p.settings, p.name) == 0, "replayed once only"
        assert await p.effects() == {"bad": 1, "good0": 1, "good1": 1, "good2": 1}
    finally:
        await p.stop()


async def test_unparseable_records_go_straight_to_dead_letters(pipeline: Pipeline) -> None:
    key = b"d:x"
    await pipeline.producer.send_and_wait(pipeline.topic, value=b"not json at all", key=key)
    ce = {
        "ce_specversion": b"1.0",
        "ce_id": uuid.uuid4().hex.encode(),
        "ce_source": b"/aptt/t",
        "ce_type": NOTE_TYPE.encode(),
        "ce_district": pipeline.district.encode(),
        "content-type": b"application/json",
    }
    await pipeline.producer.send_and_wait(
        pipeline.topic,
        value=b'{"district_id": "%s"}' % pipeline.district.encode(),
        key=key,
        headers=list(ce.items()),
    )
    unknown = {**ce, "ce_id": uuid.uuid4().hex.encode(), "ce_type": b"org.aptt.x.y.z.v1"}
    await pipeline.producer.send_and_wait(
        pipeline.topic, value=b"{}", key=key, headers=list(unknown.items())
    )
    await pipeline.take_note("after")

    async def three_dead() -> bool:
        return len(await pipeline.read_topic(dlq_topic(pipeline.name))) == 3

    await eventually(three_dead, what="three dead letters")
    letters = [header_dict(r.headers) for r in await pipeline.read_topic(dlq_topic(pipeline.name))]
    reasons = sorted(h[H_ERROR].decode() for h in letters)
    assert any("no ce_type header" in r for r in reasons)
    assert any("does not match" in r and "note_id" in r for r in reasons)
    assert any("unknown event type org.aptt.x.y.z.v1" in r for r in reasons)
    assert all(h[H_ATTEMPTS] == b"0" for h in letters), "never retried"

    async def after_handled() -> bool:
        return (await pipeline.effects()).get("after") == 1

    await eventually(after_handled, what="the good record after the bad ones")
    assert consumed(pipeline, "retried") == 0


async def _is(value: bool) -> bool:
    return value


async def test_trace_context_flows_from_the_use_case_through_kafka_into_the_handler(
    local_stack: LocalStack,
) -> None:
    seen: dict[str, str] = {}

    async def remember_trace(uow: UnitOfWork, event: ReceivedEvent) -> None:
        trace = current_trace()
        assert trace is not None
        seen["trace_id"] = trace.trace_id

    p = Pipeline(local_stack, handler=remember_trace)
    await p.start()
    try:
        request = continue_trace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        await p.take_note("traced")
        await eventually(lambda: _is("trace_id" in seen), what="the handler to run")
        assert seen["trace_id"] == request.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
        [record] = await p.read_topic(p.topic)
        traceparent = header_dict(record.headers)["traceparent"].decode()
        assert traceparent.split("-")[1] == request.trace_id
    finally:
        await p.stop()


async def test_consumer_lag_is_reported_per_partition(pipeline: Pipeline) -> None:
    for i in range(4):
        await pipeline.take_note(f"lag{i}")

    async def counted() -> bool:
        return len(await pipeline.effects()) == 4

    await eventually(counted, what="four effects")
    [record, *_] = await pipeline.read_topic(pipeline.topic)

    async def caught_up() -> bool:
        return (
            REGISTRY.get_sample_value(
                "aptt_consumer_lag",
                {
                    "app": pipeline.name,
                    "consumer": f"aptt-{pipeline.name}",
                    "topic": pipeline.topic,
                    "partition": str(record.partition),
                },
            )
            == 0
        )

    await eventually(caught_up, what="the lag of the notes' partition to read 0")


async def test_a_retry_backed_off_for_minutes_does_not_hold_the_fresh_ones_behind_it(
    local_stack: LocalStack,
) -> None:
    """One partition of the retry topic: a record due in ten minutes, then one due now. The
    one due now is handled at once; the other waits its turn at the end of the topic."""
    p = Pipeline(local_stack)
    await p.start(relay=False)
    try:
        retries = retry_topic(p.name)
        for note_id, due_in in (("later", 600.0), ("now", 0.0)):
            event = p.model(district_id=p.district, notebook_id=p.notebook, note_id=note_id)
            headers, key, value = encode(event, traceparent=new_trace().traceparent)
            headers.update({H_ATTEMPTS: "1", H_NOT_BEFORE: f"{time.time() + due_in:.3f}"})
            await p.producer.send_and_wait(
                retries,
                value=value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )

        await eventually(
            lambda: _has_effect(p, "now"), timeout=60, what="the retry that is due now"
        )
        assert "later" not in await p.effects()

        async def parked_again() -> bool:
            values = [r.value or b"" for r in await p.read_topic(retries)]
            return sum(b'"later"' in v for v in values) >= 2

        await eventually(parked_again, what="the later retry back at the end of the topic")
        [again] = [r for r in (await p.read_topic(retries))[2:] if b'"later"' in (r.value or b"")][
            :1
        ]
        headers = header_dict(again.headers)
        assert int(headers[H_ATTEMPTS]) == 1, "parking again is not another attempt"
        assert float(headers[H_NOT_BEFORE]) > time.time() + 500
    finally:
        await p.stop()
