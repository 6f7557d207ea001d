"""Chaos, checked like Jepsen: the data service SIGKILLed right after it accepted a large
roster import, and again mid-way through applying it.

The data service runs as its own process on its own durable stack (S3-backed broker,
SecantusDB). A district admin posts a roster of a few hundred students; as soon as the
service answers 202 it is SIGKILLed and restarted, and killed once more while the students'
chunks are being applied. Its jobs resume from their last committed chunk
(docs/decisions/0210) and its relay from its checkpoint. Then the checker counts: the import
finished once (the report's counts are the package's, one outbox record per entity), every
expected event is on the broker at least once by event id, no event id carries two payloads,
and nothing is left pending in the outbox. Copies of one event id are allowed (at least
once) and counted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aptt_contracts.data import GuardianContactUpdated, StudentUpserted
from aptt_local.oneroster import Roster, build_package, generated_roster
from aptt_local.servers import LocalStack
from aptt_local.service_process import TEST_ENV, DevIssuerProcess, ServiceProcess
from aptt_local.testing import eventually
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import header_dict
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .conftest import FIGURES

pytestmark = pytest.mark.chaos

STUDENTS = 300
DATABASE = "chaos_data"
TOPICS = sorted({StudentUpserted.topic, GuardianContactUpdated.topic})
# Event type -> the entity kind the import's report counts it under.
KINDS = {
    "org.aptt.data.school.upserted.v1": "schools",
    "org.aptt.data.classroom.upserted.v1": "classrooms",
    "org.aptt.data.student.upserted.v1": "students",
    "org.aptt.data.guardian-contact.updated.v1": "guardians",
}
Subject = tuple[str, str]


def _expected(roster: Roster) -> set[Subject]:
    """The events the import must publish: one per school, class, student and guardian."""
    of_kind: dict[str, list[Any]] = {
        "schools": roster.schools,
        "classrooms": roster.classrooms,
        "students": roster.students,
        "guardians": roster.guardians,
    }
    return {(type_, item.sourced_id) for type_, kind in KINDS.items() for item in of_kind[kind]}


@dataclass
class Checker:
    expected: set[Subject]
    kills: list[str] = field(default_factory=list)  # where each kill landed
    recoveries: list[tuple[str, float]] = field(default_factory=list)

    def report(
        self,
        *,
        outbox: dict[Subject, int],
        on_broker: dict[str, set[bytes]],
        subjects_on_broker: dict[Subject, set[str]],
        records: int,
        pending: int,
    ) -> list[str]:
        lost = len(self.expected - set(subjects_on_broker))
        twice_applied = sum(n - 1 for n in outbox.values()) + sum(
            len(ids) - 1 for ids in subjects_on_broker.values()
        )
        lines = [
            f"import: students in the package:  {STUDENTS}",
            f"import: events expected:          {len(self.expected)}",
            f"import: events found (by id):     {len(on_broker)}",
            f"import: lost:                     {lost}",
            f"import: re-sent duplicates:       {records - len(on_broker)} (allowed: consumers"
            " dedupe by event id)",
            f"import: ids with two payloads:    {sum(len(v) > 1 for v in on_broker.values())}",
            f"import: entities applied twice:   {twice_applied}",
            f"import: outbox pending at the end: {pending}",
        ]
        lines += [f"import: killed {where}" for where in self.kills]
        lines += [f"recovered from {what:<28} in {s:5.1f} s" for what, s in self.recoveries]
        return lines


@pytest.mark.timeout(240)
async def test_an_import_killed_at_accept_and_mid_way_finishes_once_and_loses_no_event(
    tmp_path: Path,
) -> None:
    stack = LocalStack(tmp_path / "stack", smtp=False, sms=False)  # the broker's log on S3
    await asyncio.to_thread(stack.start)
    issuer_process = DevIssuerProcess(tmp_path / "issuer", tmp_path / "issuer.pem")
    district = "d-chaos-" + uuid.uuid4().hex[:8]
    env = {
        **stack.env(),
        **TEST_ENV,
        "APTT_MONGO_DATABASE": DATABASE,
        "APTT_SHUTDOWN_GRACE_SECONDS": "8",
        # The students go in three chunks, so the second kill lands between two of them;
        # short leases, so the restarted process takes over the killed one's job and relay
        # in seconds.
        "APTT_IMPORT_CHUNK_SIZE": "100",
        "APTT_IMPORT_LEASE_SECONDS": "2",
        "APTT_RELAY_LEASE_SECONDS": "2",
    }
    data = ServiceProcess("data", tmp_path, env=env)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.mongo_url, serverSelectionTimeoutMS=30_000
    )
    db = mongo[DATABASE]
    roster = generated_roster(district, STUDENTS)
    checker = Checker(_expected(roster))
    try:
        await asyncio.to_thread(issuer_process.start)
        data.env["APTT_OIDC_ISSUER"] = issuer_process.url  # its port is settled once it runs
        issuer = DevIssuer(issuer_process.url, issuer_process.key_file)
        token = issuer.mint(subject="admin-1", district_id=district, roles=["district_admin"])
        headers = {"Authorization": f"Bearer {token}"}
        await asyncio.to_thread(data.start)

        async def job() -> dict[str, Any]:
            found = await db["imports"].find_one({"district_id": district})
            assert found is not None
            return found

        async def kill_and_restart(what: str) -> float:
            """SIGKILL, note where the job was, restart, and time until the job moves on."""
            pid = data.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            await asyncio.to_thread(data.stop)
            state = await job()
            at = (state["phase"], state.get("step", 0))
            students = await db["students"].count_documents({"district_id": district})
            checker.kills.append(
                f"{what}: phase {at[0]}, {at[1]} chunks committed,"
                f" {students}/{STUDENTS} students stored, attempt {state.get('attempts', 0)}"
            )
            assert state["status"] != "done", "the kill came after the import"
            await asyncio.to_thread(data.start)

            async def moved() -> bool:
                state = await job()
                return (state["phase"], state.get("step", 0)) != at

            await eventually(moved, timeout=90, what=f"the import to move after the kill {what}")
            checker.recoveries.append((f"SIGKILL of data {what}", time.monotonic() - killed))
            return killed

        async with httpx.AsyncClient(timeout=60) as client:
            posted = await client.post(
                f"{data.url}/v1/roster/imports",
                headers=headers,
                files={"file": ("roster.zip", build_package(roster), "application/zip")},
                data={"mode": "bulk"},
            )
            assert posted.status_code == 202, posted.text
            first_kill = await kill_and_restart("at the 202")

            async def students_being_applied() -> bool:
                stored = await db["students"].count_documents({"district_id": district})
                return stored >= STUDENTS // 3 or (await job())["status"] == "done"

            await eventually(students_being_applied, timeout=120, what="students being applied")
            last_kill = await kill_and_restart("mid-way")

            location = f"{data.url}{posted.headers['location']}"
            report: dict[str, Any] = {}

            async def finished() -> bool:
                nonlocal report
                report = (await client.get(location, headers=headers)).json()
                return report["status"] in ("done", "failed")

            await eventually(finished, timeout=150, what="the import to end")
            done = time.monotonic()
            checker.recoveries.append(("the kill at the 202 to import done", done - first_kill))
            checker.recoveries.append(("the mid-way kill to import done", done - last_kill))

        assert report["status"] == "done", report
        outbox = await _outbox(db, district)
        records, on_broker, subjects = await _read_broker(
            stack.kafka_bootstrap, district, set(outbox), checker.expected
        )
        pending = await _pending(db, district, data.url)
        lines = checker.report(
            outbox=collections.Counter(outbox.values()),
            on_broker=on_broker,
            subjects_on_broker=subjects,
            records=records,
            pending=pending,
        )
        FIGURES.extend(lines)
        message = "\n".join(lines)
        # Applied exactly once: the report is the package's, one outbox record per entity.
        for kind, count in collections.Counter(KINDS[t] for t, _ in checker.expected).items():
            assert report["by_kind"][kind] == {
                "created": count,
                "updated": 0,
                "unchanged": 0,
                "deleted": 0,
            }, (kind, report["by_kind"], message)
        assert sorted(outbox.values()) == sorted(checker.expected), message
        # At least once, never two payloads under one id, never two ids for one entity.
        assert checker.expected <= set(subjects), message
        assert set(outbox) <= set(on_broker), message
        assert all(len(payloads) == 1 for payloads in on_broker.values()), message
        assert all(len(ids) == 1 for ids in subjects.values()), message
        assert pending == 0, message
    finally:
        await mongo.close()
        await asyncio.to_thread(data.stop)
        await asyncio.to_thread(issuer_process.stop)
        await asyncio.to_thread(stack.stop)


async def _outbox(db: AsyncDatabase[dict[str, Any]], district: str) -> dict[str, Subject]:
    """Event id -> (type, subject) of every record the service committed for the district."""
    docs = db["outbox"].find(
        {"district_id": district}, {"event_id": 1, "type": 1, "headers.ce_subject": 1}
    )
    return {d["event_id"]: (d["type"], d["headers"]["ce_subject"]) async for d in docs}


def _by_subject(headers: dict[str, bytes], value: bytes) -> Subject:
    return headers["ce_type"].decode(), headers["ce_subject"].decode()


async def _read_broker(
    bootstrap: str,
    district: str,
    event_ids: set[str],
    expected: set[Subject],
    *,
    topics: Sequence[str] = TOPICS,
    entity_of: Callable[[dict[str, bytes], bytes], Subject] = _by_subject,
) -> tuple[int, dict[str, set[bytes]], dict[Subject, set[str]]]:
    """Read `topics` (the roster and contact topics) from the beginning with a fresh group
    until every committed event id and every expected entity (`entity_of` a record, its
    type and subject) is there and the end of every partition is reached (or 60 s pass):
    records read, payloads per event id, event ids per entity."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id="chaos-checker-" + uuid.uuid4().hex[:8],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records = 0
    payloads: dict[str, set[bytes]] = collections.defaultdict(set)
    subjects: dict[Subject, set[str]] = collections.defaultdict(set)
    await consumer.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for record in (r for part in batch.values() for r in part):
                headers = header_dict(record.headers)
                if headers.get("ce_district", b"").decode() != district:
                    continue
                event_id = headers["ce_id"].decode()
                records += 1
                payloads[event_id].add(record.value or b"")
                subjects[entity_of(headers, record.value or b"")].add(event_id)
            if event_ids <= set(payloads) and expected <= set(subjects):
                assigned: set[TopicPartition] = consumer.assignment()
                ends = await consumer.end_offsets(list(assigned))
                positions = {tp: await consumer.position(tp) for tp in assigned}
                if assigned and all(positions[tp] >= ends[tp] for tp in assigned):
                    break
    finally:
        await consumer.stop()
    return records, dict(payloads), dict(subjects)


async def _pending(db: AsyncDatabase[dict[str, Any]], district: str, url: str) -> int:
    """Outbox records the relay has not published yet: those after its checkpoint, plus what
    its backlog gauge and the parked records say. Polled a while: the checkpoint is saved
    after the records it covers are acknowledged."""
    counted = -1

    async def settled() -> bool:
        nonlocal counted
        state = await db["relay_state"].find_one({"_id": "outbox-relay"}) or {}
        through = state.get("published_through")
        after: dict[str, Any] = {"district_id": district}
        if through is not None:
            after["created_at"] = {"$gt": through}
        counted = await db["outbox"].count_documents(after)
        counted += await db["outbox_parked"].count_documents({"district_id": district})
        async with httpx.AsyncClient(timeout=10) as client:
            metrics = (await client.get(f"{url}/metrics")).text
        backlog = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("aptt_outbox_backlog{")
        ]
        counted += int(sum(backlog))
        return counted == 0

    # Left unsettled, the count says how many were left and the test fails on it.
    with contextlib.suppress(AssertionError):
        await eventually(settled, timeout=30, what="the outbox to be published")
    return counted
