"""Chaos, checked like Jepsen: the scheduling and the data service's consumers SIGKILLed
mid-batch, three times each, while a stream of events flows to them.

Each service runs as its own process on its own durable stack (S3-backed broker,
SecantusDB). The test publishes the events as the producing service's relay would
(CloudEvents records with fixed event ids and increasing times, `acks=all`), in four
segments; during each of the first three the consumer is SIGKILLed a third of the way into
the segment and restarted. Every aggregate gets two events, the second newer than the
first, so a lost event shows as an aggregate left on its first version, and a copy of the
older event applied after the newer one (a batch handled again after the kill) shows the
same way. Then the checker counts what the service kept.

- Scheduling: two `StudentUpserted` per student (their guardians changed by the second);
  its roster read model must hold every student, each with the second event's guardians.
- Data: per guardian and meeting, an `AttendanceRecorded` absent and then one present, and
  a `PracticeLogged` per family; outcomes must hold every record, present, each meeting's
  summary must count every family of it, and one practice log per event.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aptt_contracts.data import SchoolUpserted, StudentUpserted
from aptt_contracts.envelope import EventModel
from aptt_contracts.goals import PracticeLogged
from aptt_contracts.scheduling import AttendanceRecorded
from aptt_local.servers import LocalStack
from aptt_local.service_process import TEST_ENV, ServiceProcess
from aptt_platform.events import encode
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .conftest import FIGURES
from .test_chaos import TRACEPARENT, Record, _publish, _reach
from .test_chaos import Checker as Sender

pytestmark = pytest.mark.chaos

KILLS = 3
STUDENTS = 300  # scheduling: 600 events
MEETINGS = 12
FAMILIES = 40  # data, per meeting: 960 attendance events and 480 practice logs
BASE = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

Database = AsyncDatabase[dict[str, Any]]


@dataclass
class Counts:
    """What the checker found of the stream's effects."""

    expected: int  # effects the stream must leave
    applied: int  # effects found as the last event of each aggregate left them
    duplicates: int  # effects found twice, or dedupe records beyond one per event
    detail: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.expected - self.applied


def _record(event: EventModel, event_id: str, at: datetime) -> Record:
    headers, key, value = encode(event, traceparent=TRACEPARENT, event_id=event_id, time=at)
    return event.topic, headers, key, value


async def _kill_mid_stream(
    tmp_path: Path,
    *,
    service: str,
    district: str,
    setup: list[Record],
    records: list[Record],
    effects: Callable[[Database], Awaitable[Counts]],
) -> None:
    """Publish `setup`, then `records` in KILLS + 1 segments, SIGKILLing the service's
    consumer a third into each of the first KILLS; wait until every event is handled and
    count the effects; fail on any loss or duplicate."""
    stack = LocalStack(tmp_path / "stack", smtp=False, sms=False)  # the broker's log on S3
    await asyncio.to_thread(stack.start)
    database = f"chaos_{service}"
    env = {
        **stack.env(),
        **TEST_ENV,
        "APTT_MONGO_DATABASE": database,
        "APTT_CONSUMER_BATCH_SIZE": "100",
        "APTT_SHUTDOWN_GRACE_SECONDS": "8",
    }
    process = ServiceProcess(service, tmp_path, env=env)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.mongo_url, serverSelectionTimeoutMS=30_000
    )
    db = mongo[database]
    sender = Sender()
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap, acks="all", request_timeout_ms=5000
    )
    try:
        await asyncio.to_thread(process.start)
        await producer.start()

        async def handled() -> int:
            # A dedupe record is written in the transaction of the event's effects.
            return await db["processed_events"].count_documents({"district_id": district})

        started = time.monotonic()
        await _publish(producer, setup, sender)
        await _reach(handled, len(setup), what=f"{service} to handle the setup events")
        joined = time.monotonic() - started  # the consumer joining its group, mostly
        started = time.monotonic()
        segment = len(records) // (KILLS + 1)
        for kill in range(KILLS):
            first = kill * segment
            sending = asyncio.create_task(
                _publish(producer, records[first : first + segment], sender)
            )
            await _reach(handled, len(setup) + first + segment // 3, what="the segment to flow")
            before = await handled()
            killed = time.monotonic()
            pid = process.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await asyncio.to_thread(process.stop)
            await asyncio.to_thread(process.start)
            await _reach(handled, before + 1, what=f"{service} to handle events after kill")
            what = f"SIGKILL of {service} ({kill + 1})"
            sender.faults.append((what, time.monotonic() - killed))
            await sending
        await _publish(producer, records[KILLS * segment :], sender)
        drain = time.monotonic()
        total = len(setup) + len(records)
        await _reach(handled, total, timeout=120, what="every event handled")
        sender.faults.append(("the end of publishing (drain)", time.monotonic() - drain))
        counts = await effects(db)
        dedupe_records = await handled()
        duplicates = counts.duplicates + (dedupe_records - total)
        lines = [
            f"{service}: events published (acknowledged): {sender.published}"
            f" ({len(setup)} setup, {len(records)} in the stream)",
            f"{service}: send rounds re-sent:     {sender.resent_rounds}",
            f"{service}: effects expected:        {counts.expected}",
            f"{service}: effects applied:         {counts.applied}",
            f"{service}: lost:                    {counts.lost}",
            f"{service}: duplicate effects:       {duplicates}",
            *(f"{service}: {line}" for line in counts.detail),
        ]
        lines += [f"recovered from {what:<28} in {s:5.1f} s" for what, s in sender.faults]
        lines.append(f"{service}: setup handled {joined:5.1f} s after the service started")
        lines.append(f"{service}: the stream took {time.monotonic() - started:5.1f} s")
        FIGURES.extend(lines)
        message = "\n".join(lines)
        assert sender.published == total, message
        assert counts.lost == 0, message
        assert duplicates == 0, message
    finally:
        await producer.stop()
        await mongo.close()
        await asyncio.to_thread(process.stop)
        await asyncio.to_thread(stack.stop)


@pytest.mark.timeout(360)
async def test_scheduling_killed_mid_batch_keeps_every_student_once_and_latest(
    tmp_path: Path,
) -> None:
    district = "d-chaos-" + uuid.uuid4().hex[:8]
    setup = [
        _record(
            SchoolUpserted(district_id=district, school_id="sch-chaos", timezone="UTC"),
            f"{district}-school",
            BASE,
        )
    ]
    records: list[Record] = []
    for i in range(STUDENTS):
        for version in (1, 2):
            student = StudentUpserted(
                district_id=district,
                student_id=f"stu-{i:04d}",
                school_id="sch-chaos",
                grade=3,
                guardian_ids=[f"g-{i:04d}-v{version}"],
            )
            # The second event is a millisecond newer: the read model keeps it over the first.
            at = BASE + timedelta(seconds=i, milliseconds=version)
            records.append(_record(student, f"{district}-stu-{i:04d}-v{version}", at))

    async def effects(db: Database) -> Counts:
        docs = await db["students"].find({"district_id": district}).to_list()
        by_id: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            by_id.setdefault(doc["student_id"], []).append(doc)
        latest = sum(
            1
            for student_id, found in by_id.items()
            if len(found) == 1 and found[0]["guardian_ids"] == [f"g-{student_id[4:]}-v2"]
        )
        stale = sum(1 for found in by_id.values() if found[0]["guardian_ids"][0].endswith("-v1"))
        return Counts(
            expected=STUDENTS,
            applied=latest,
            duplicates=len(docs) - len(by_id),
            detail=[
                f"students kept:           {len(by_id)} of {STUDENTS}",
                f"students on the older event: {stale}",
            ],
        )

    await _kill_mid_stream(
        tmp_path,
        service="scheduling",
        district=district,
        setup=setup,
        records=records,
        effects=effects,
    )


def _attendance(district: str) -> tuple[list[Record], dict[str, int]]:
    """Per meeting and family: absent, then present a millisecond later, then a practice log.
    Returns the records and the families each meeting's summary must count as attending."""
    records: list[Record] = []
    for f in range(FAMILIES):
        for m in range(MEETINGS):
            meeting = f"m-chaos-{m:02d}"
            student, guardian = f"stu-{m:02d}-{f:03d}", f"g-{m:02d}-{f:03d}"
            for present in (False, True):
                event = AttendanceRecorded(
                    district_id=district,
                    meeting_id=meeting,
                    classroom_id=f"cls-{m:02d}",
                    school_id="sch-chaos",
                    student_id=student,
                    guardian_id=guardian,
                    relationship="mother",
                    present=present,
                    meeting_starts_at=BASE + timedelta(days=m),
                )
                at = BASE + timedelta(days=m, seconds=f, milliseconds=int(present))
                records.append(_record(event, f"{district}-{meeting}-{guardian}-{present}", at))
            if m % 2 == 0:
                practice = PracticeLogged(
                    district_id=district,
                    goal_id=f"goal-{m:02d}-{f:03d}",
                    student_id=student,
                    practiced_on=date(2026, 11, 3),
                    minutes=15,
                )
                at = BASE + timedelta(days=m, seconds=f, milliseconds=5)
                records.append(_record(practice, f"{district}-practice-{m:02d}-{f:03d}", at))
    return records, {f"m-chaos-{m:02d}": FAMILIES for m in range(MEETINGS)}


@pytest.mark.timeout(360)
async def test_data_killed_mid_batch_keeps_every_attendance_and_practice_once(
    tmp_path: Path,
) -> None:
    district = "d-chaos-" + uuid.uuid4().hex[:8]
    records, attending = _attendance(district)
    practice_logs = FAMILIES * len(range(0, MEETINGS, 2)) + 1  # and the setup's

    async def effects(db: Database) -> Counts:
        attendance = await db["outcome_attendance"].find({"district_id": district}).to_list()
        ids = [d["record_id"] for d in attendance]
        present = sum(1 for d in attendance if d["present"])
        summaries = await db["outcome_meetings"].find({"district_id": district}).to_list()
        counted = {s["meeting_id"]: s["families_attended"] for s in summaries}
        summaries_right = sum(1 for m, n in attending.items() if counted.get(m) == n)
        practice = await db["outcome_practice"].find({"district_id": district}).to_list()
        logs = {d["event_id"] for d in practice}
        return Counts(
            # Each meeting's summary is one more effect: rewritten from the records, it must
            # count every family of the meeting.
            expected=len(attending) * FAMILIES + practice_logs + len(attending),
            applied=present + len(logs) + summaries_right,
            duplicates=(len(ids) - len(set(ids))) + (len(practice) - len(logs)),
            detail=[
                f"attendance records:      {len(set(ids))}, present {present}"
                f" of {len(attending) * FAMILIES}",
                f"practice logs:           {len(logs)} of {practice_logs}",
                f"meeting summaries right: {summaries_right} of {len(attending)}"
                f" ({sorted(counted.values())[:3]}... families attended)",
            ],
        )

    # A first practice log, so the stream starts once the consumer has joined its group.
    first = PracticeLogged(
        district_id=district,
        goal_id="goal-first",
        student_id="stu-first",
        practiced_on=date(2026, 11, 3),
        minutes=15,
    )
    await _kill_mid_stream(
        tmp_path,
        service="data",
        district=district,
        setup=[_record(first, f"{district}-practice-first", BASE)],
        records=records,
        effects=effects,
    )
