"""Chaos, checked like Jepsen: N results flow to the goals service while its parts fail.

The goals service runs as its own process on its own durable stack (S3-backed broker,
SecantusDB). While N assessment results are published into `aptt.data.assessments.v1` (the
way the data service's relay does: CloudEvents records, `acks=all`, re-sent with the same
event id when a send fails), the consumer is SIGKILLed mid-batch and restarted several times,
the database is stopped and started, and the broker is restarted. Then the checker counts
what goals kept: every result exactly once, none lost, no dedupe record twice.
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
from aptt_contracts.data import (
    AssessmentResultRecorded,
    ClassroomUpserted,
    GuardianContactUpdated,
    SchoolUpserted,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import TeamMeetingScheduled
from aptt_local.servers import LocalStack
from aptt_local.service_process import ServiceProcess
from aptt_local.sms_standin import read_sms
from aptt_local.smtp_sink import read_mail
from aptt_local.testing import zone_at_local_hour
from aptt_platform.events import encode
from pymongo import AsyncMongoClient

from .conftest import FIGURES

pytestmark = pytest.mark.chaos

N = 1500
CHUNK = 25  # records per send round
PACE = 0.15  # seconds between rounds: about 150 results a second, so faults land mid-stream
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@dataclass
class Checker:
    published: int = 0
    resent_rounds: int = 0
    faults: list[tuple[str, float]] = field(default_factory=list)  # what, seconds to recover

    def report(self, *, applied: int, distinct: int, dedupe_records: int) -> list[str]:
        lost = N - distinct
        duplicates = (applied - distinct) + (dedupe_records - distinct)
        lines = [
            f"events published (acknowledged):  {self.published}",
            f"send rounds re-sent after errors: {self.resent_rounds}",
            f"effects applied:                  {distinct}",
            f"lost:                             {lost}",
            f"duplicate effects:                {duplicates}",
        ]
        for what, seconds in self.faults:
            lines.append(f"recovered from {what:<28} in {seconds:5.1f} s")
        return lines


async def test_no_result_is_lost_or_applied_twice_through_kills_and_restarts(
    tmp_path: Path,
) -> None:
    stack = LocalStack(tmp_path / "stack", smtp=False, sms=False)  # the broker's log on S3
    await asyncio.to_thread(stack.start)
    district = "d-chaos-" + uuid.uuid4().hex[:8]
    env = {
        **stack.env(),
        "APTT_ENVIRONMENT": "test",
        "APTT_MONGO_DATABASE": "chaos_goals",
        "APTT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "APTT_CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
        "APTT_CONSUMER_BATCH_SIZE": "100",
        "APTT_SHUTDOWN_GRACE_SECONDS": "8",
    }
    goals = ServiceProcess("goals", tmp_path, env=env)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.mongo_url, serverSelectionTimeoutMS=30_000
    )
    db = mongo["chaos_goals"]
    checker = Checker()
    try:
        await asyncio.to_thread(goals.start)

        async def applied() -> int:
            return await db["results"].count_documents({"district_id": district})

        async def kill_goals() -> None:
            pid = goals.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await asyncio.to_thread(goals.stop)
            await asyncio.to_thread(goals.start)

        async def restart_database() -> None:
            await asyncio.to_thread(stack.mongo.stop)
            await asyncio.to_thread(stack.mongo.start)

        async def restart_broker() -> None:
            await asyncio.to_thread(stack.kafka.stop)
            await asyncio.to_thread(stack.kafka.start)

        faults: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("SIGKILL of goals (1)", kill_goals),
            ("SIGKILL of goals (2)", kill_goals),
            ("database stop and start", restart_database),
            ("broker restart", restart_broker),
            ("SIGKILL of goals (3)", kill_goals),
        ]
        records = _records(district)
        segment = N // (len(faults) + 1)
        producer = AIOKafkaProducer(
            bootstrap_servers=stack.kafka_bootstrap, acks="all", request_timeout_ms=5000
        )
        await producer.start()
        try:
            for index, (what, act) in enumerate(faults):
                # Each fault lands while a segment of the results is flowing: a third of it
                # applied, the rest still being published.
                first = index * segment
                sending = asyncio.create_task(
                    _publish(producer, records[first : first + segment], checker)
                )
                await _reach(applied, first + segment // 3, what="the segment to flow")
                before = await applied()
                started = time.monotonic()
                await act()
                await _reach(applied, before + 1, what=f"effects after {what}")
                checker.faults.append((what, time.monotonic() - started))
                await sending
            await _publish(producer, records[len(faults) * segment :], checker)
        finally:
            await producer.stop()
        started = time.monotonic()
        await _reach(applied, N, timeout=120, what="every result applied")
        checker.faults.append(("the end of publishing (drain)", time.monotonic() - started))

        pipeline: list[dict[str, Any]] = [
            {"$match": {"district_id": district}},
            {"$group": {"_id": "$result_id", "copies": {"$sum": 1}}},
        ]
        groups = await (await db["results"].aggregate(pipeline)).to_list()
        distinct = len(groups)
        effects = sum(g["copies"] for g in groups)
        dedupe_records = await db["processed_events"].count_documents({"district_id": district})
        lines = checker.report(applied=effects, distinct=distinct, dedupe_records=dedupe_records)
        FIGURES.extend(lines)
        assert checker.published == N
        assert distinct == N, "\n".join(lines)  # nothing lost
        assert effects == N, "\n".join(lines)  # no result kept twice
        assert dedupe_records == N, "\n".join(lines)  # each event handled once in effect
    finally:
        await mongo.close()
        await asyncio.to_thread(goals.stop)
        await asyncio.to_thread(stack.stop)
    assert goals.returncode in (0, -signal.SIGTERM)


Record = tuple[str, dict[str, str], str, bytes]  # topic, headers, key, value


def _record(event: EventModel, event_id: str | None = None) -> Record:
    headers, key, value = encode(event, traceparent=TRACEPARENT, event_id=event_id)
    return event.topic, headers, key, value


def _records(district: str) -> list[Record]:
    """The N results as Kafka records (headers, key, value), each with a fixed event id."""
    return [
        _record(
            AssessmentResultRecorded(
                district_id=district,
                result_id=f"r-{i:05d}",
                student_id=f"s-{i % 211:03d}",
                school_id="sch-chaos",
                skill_code="math-facts",
                score=float(i % 50),
                assessed_on=date(2026, 11, 2),
            ),
            event_id=f"{district}-{i:05d}",
        )
        for i in range(N)
    ]


async def _publish(producer: AIOKafkaProducer, records: list[Record], checker: Checker) -> None:
    """Send records in rounds; a round that fails is sent again with the same event ids."""
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        while True:
            try:
                sent = [
                    await producer.send(
                        topic,
                        value=value,
                        key=key.encode(),
                        headers=[(k, v.encode()) for k, v in headers.items()],
                    )
                    for topic, headers, key, value in chunk
                ]
                await asyncio.gather(*sent)
                break
            except Exception:
                checker.resent_rounds += 1
                await asyncio.sleep(0.5)
        checker.published += len(chunk)
        await asyncio.sleep(PACE)


async def _reach(
    count: Callable[[], Awaitable[int]],
    wanted: int,
    *,
    timeout: float = 90.0,
    what: str,
) -> None:
    """Poll `count` until it reaches `wanted`; a database being restarted counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await count() >= wanted:
                return
        except Exception:  # noqa: S110 - the database is being restarted: poll again
            pass
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
        await asyncio.sleep(0.1)


FAMILIES = 200  # half reached by SMS, half by email: one invitation each
NOTIFY_KILLS = 1


async def test_notify_killed_during_a_burst_sends_each_message_once_within_the_crash_window(
    tmp_path: Path,
) -> None:
    stack = LocalStack(tmp_path / "stack")
    await asyncio.to_thread(stack.start)
    district = "d-chaos-" + uuid.uuid4().hex[:8]
    # At night in UTC, quiet hours would hold every invitation until morning.
    zone = zone_at_local_hour(13)
    env = {
        **stack.env(),
        "APTT_ENVIRONMENT": "test",
        "APTT_MONGO_DATABASE": "chaos_notify",
        "APTT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "APTT_CONSUMER_HEARTBEAT_INTERVAL_MS": "500",
        "APTT_SHUTDOWN_GRACE_SECONDS": "8",
        "APTT_SENDER_POLL_INTERVAL_SECONDS": "0.1",
        # A killed sender's claims come back after this long, as uncertain (0501).
        "APTT_SENDER_LEASE_SECONDS": "3",
        "APTT_RATE_LIMIT_DISTRICT_PER_HOUR": "100000",
        "APTT_DEFAULT_TIMEZONE": zone,
    }
    notify = ServiceProcess("notify", tmp_path, env=env)
    phones = [_phone(i) for i in range(FAMILIES // 2)]
    emails = [f"family-{i:03d}@example.org" for i in range(FAMILIES - len(phones))]
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    try:
        await asyncio.to_thread(notify.start)
        await producer.start()
        roster, guardians = _roster(district, phones, emails, zone)
        await _publish(producer, roster, Checker())

        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url)
        try:
            guardian_docs = mongo["chaos_notify"]["guardians"]

            async def known() -> int:
                found = guardian_docs.find({"district_id": district}, {"contact": 1})
                return sum(doc.get("contact") is not None for doc in await found.to_list())

            await _reach(known, guardians, what="notify to know every family")
        finally:
            await mongo.close()

        def sent() -> tuple[list[tuple[str, str]], list[str]]:
            """Texts as (to, body) and emails by Message-ID, to the district's families."""
            texts = [(m["to"], m["body"]) for m in read_sms(stack.sms_store) if m["to"] in phones]
            mails = [
                str(m.message["Message-ID"])
                for m in read_mail(stack.maildir)
                if set(m.envelope_to) & set(emails)
            ]
            return texts, mails

        async def delivered() -> int:
            texts, mails = await asyncio.to_thread(sent)
            return len(set(texts)) + len(set(mails))

        # One burst per kill: a meeting's invitations to every family, killed a quarter in.
        recoveries: list[tuple[str, float]] = []
        for kill in range(NOTIFY_KILLS):
            meeting = TeamMeetingScheduled(
                district_id=district,
                meeting_id=f"m-chaos-{kill}",
                classroom_id="cls-chaos",
                school_id="sch-chaos",
                starts_at=(datetime.now(UTC) + timedelta(days=10 + kill)).replace(microsecond=0),
                duration_minutes=60,
                focus_skill_code="orf",
            )
            await _publish(producer, [_record(meeting)], Checker())
            await _reach(delivered, kill * FAMILIES + FAMILIES // 4, what="a burst")
            before = await delivered()
            started = time.monotonic()
            pid = notify.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await asyncio.to_thread(notify.stop)
            await asyncio.to_thread(notify.start)
            wanted = min(before + 1, (kill + 1) * FAMILIES)
            await _reach(delivered, wanted, timeout=150, what=f"sending after kill {kill + 1}")
            what = f"SIGKILL of notify at {before - kill * FAMILIES}/{FAMILIES}"
            recoveries.append((what, time.monotonic() - started))
        total = NOTIFY_KILLS * FAMILIES
        await _reach(delivered, total, timeout=120, what="every invitation")

        texts, mails = await asyncio.to_thread(sent)
        sms_twice = len(texts) - len(set(texts))
        mail_twice = len(mails) - len(set(mails))
        lines = [
            f"notify: invitations to send:      {total} ({NOTIFY_KILLS} bursts)",
            f"notify: sent at least once:       {len(set(texts)) + len(set(mails))}",
            f"notify: SMS sent twice:           {sms_twice} (0 allowed: an uncertain SMS is"
            " looked up before it is sent again)",
            f"notify: email sent twice:         {mail_twice} (at most one per crash allowed,"
            f" {NOTIFY_KILLS} crashes)",
        ]
        lines += [f"recovered from {what:<28} in {s:5.1f} s" for what, s in recoveries]
        FIGURES.extend(lines)
        assert sms_twice == 0, "\n".join(lines)
        assert mail_twice <= NOTIFY_KILLS, "\n".join(lines)
    finally:
        await producer.stop()
        await asyncio.to_thread(notify.stop)
        await asyncio.to_thread(stack.stop)


def _phone(i: int) -> str:
    # Valid numbers of the 650 area, distinct per family.
    return f"+165025{i:05d}"


def _roster(
    district: str, phones: list[str], emails: list[str], zone: str
) -> tuple[list[Record], int]:
    """The data service's roster and contact events for one classroom of families."""
    students = [f"stu-{i:03d}" for i in range(len(phones) + len(emails))]
    events: list[EventModel] = [
        SchoolUpserted(district_id=district, school_id="sch-chaos", timezone=zone),
        ClassroomUpserted(
            district_id=district,
            classroom_id="cls-chaos",
            school_id="sch-chaos",
            grade=3,
            teacher_ids=["t-chaos"],
            student_ids=students,
        ),
    ]
    contacts: list[tuple[str | None, str | None]] = [(p, None) for p in phones]
    contacts += [(None, e) for e in emails]
    for i, (student, (phone, email)) in enumerate(zip(students, contacts, strict=True)):
        guardian = f"g-{i:03d}"
        events.append(
            StudentUpserted(
                district_id=district,
                student_id=student,
                school_id="sch-chaos",
                grade=3,
                guardian_ids=[guardian],
            )
        )
        events.append(
            GuardianContactUpdated(
                district_id=district,
                guardian_id=guardian,
                given_name="Ana",
                family_name="Chaos",
                preferred_language="en",
                email=email,
                phone=phone,
                student_ids=[student],
                school_ids=["sch-chaos"],
            )
        )
    return [_record(e) for e in events], len(students)
