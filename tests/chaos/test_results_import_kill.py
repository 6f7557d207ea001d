"""Chaos, checked like Jepsen: the data service SIGKILLed twice while it imports a few
thousand assessment results.

The data service runs as its own process on its own durable stack (S3-backed broker,
SecantusDB), with a dev issuer beside it. A district admin imports a small roster (not
killed: the results need their students), then posts a CSV of RESULTS rows. The service is
SIGKILLed as soon as a worker has claimed the job (inside the validate phase if it is still
there), restarted, and SIGKILLed again once a tenth of the results are stored. Then the
checker counts: the import finished once (the report accepts every row, none unchanged or
rejected; one stored result and one outbox record per row), every result event is on the
broker by event id, no event id carries two payloads, no result is under two event ids,
and nothing is left pending in the outbox. Copies of one event id are allowed (the relay
re-sending from its checkpoint) and printed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aptt_contracts.data import AssessmentResultRecorded
from aptt_local.oneroster import build_package, generated_roster
from aptt_local.process import ServerStartError
from aptt_local.servers import LocalStack
from aptt_local.service_process import TEST_ENV, DevIssuerProcess, ServiceProcess
from aptt_local.testing import eventually
from aptt_platform.devissuer import DevIssuer
from pymongo import AsyncMongoClient

from .conftest import FIGURES
from .test_import_kill import Subject, _pending, _read_broker

pytestmark = pytest.mark.chaos

STUDENTS = 100
SKILLS = ("orf", "math-facts")
DAYS = 15  # results per student and skill, five days apart
RESULTS = STUDENTS * len(SKILLS) * DAYS
DATABASE = "chaos_results"
RESULT_TYPE = AssessmentResultRecorded.event_type


def _results_csv() -> tuple[bytes, set[tuple[str, str, str]]]:
    """The upload, and the (student, skill, day) of each of its rows."""
    rows = ["student_sourced_id,skill_code,score,assessed_on"]
    keys = set()
    for s in range(STUDENTS):
        for skill in SKILLS:
            for d in range(DAYS):
                day = (date(2026, 9, 1) + timedelta(days=5 * d)).isoformat()
                rows.append(f"s{s},{skill},{(s + 7 * d) % 100},{day}")
                keys.add((f"s{s}", skill, day))
    return ("\n".join(rows) + "\n").encode(), keys


def _by_result(headers: dict[str, bytes], value: bytes) -> Subject:
    """A result event's entity is its result (its CloudEvents subject is the student)."""
    return headers["ce_type"].decode(), str(json.loads(value)["result_id"])


@pytest.mark.timeout(360)
async def test_a_results_import_killed_twice_finishes_once_and_loses_no_event(
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
        # Sixty chunks of results, so the second kill lands between two of them even on a
        # quiet machine where the whole apply takes a second or two; short leases, so the
        # restarted process takes over the job and the relay in seconds.
        "APTT_IMPORT_CHUNK_SIZE": "50",
        "APTT_IMPORT_LEASE_SECONDS": "2",
        "APTT_RELAY_LEASE_SECONDS": "2",
    }
    data = ServiceProcess("data", tmp_path, env=env)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.mongo_url, serverSelectionTimeoutMS=30_000
    )
    db = mongo[DATABASE]
    upload, keys = _results_csv()
    kills: list[str] = []
    recoveries: list[tuple[str, float]] = []
    try:
        await asyncio.to_thread(issuer_process.start)
        data.env["APTT_OIDC_ISSUER"] = issuer_process.url  # its port is settled once it runs
        issuer = DevIssuer(issuer_process.url, issuer_process.key_file)
        token = issuer.mint(subject="admin-1", district_id=district, roles=["district_admin"])
        headers = {"Authorization": f"Bearer {token}"}
        await asyncio.to_thread(data.start)

        async with httpx.AsyncClient(timeout=60) as client:

            async def finished(location: str) -> dict[str, Any]:
                report: dict[str, Any] = {}

                async def ended() -> bool:
                    nonlocal report
                    report = (await client.get(location, headers=headers)).json()
                    return report["status"] in ("done", "failed")

                await eventually(ended, timeout=150, what=f"{location} to end")
                return report

            roster = await client.post(
                f"{data.url}/v1/roster/imports",
                headers=headers,
                files={
                    "file": (
                        "roster.zip",
                        build_package(generated_roster(district, STUDENTS)),
                        "application/zip",
                    )
                },
                data={"mode": "bulk"},
            )
            assert roster.status_code == 202, roster.text
            imported = await finished(f"{data.url}{roster.headers['location']}")
            assert imported["status"] == "done", imported

            async def job() -> dict[str, Any]:
                found = await db["imports"].find_one({"district_id": district, "kind": "results"})
                assert found is not None
                return found

            async def stored() -> int:
                return await db["results"].count_documents({"district_id": district})

            async def kill(what: str) -> tuple[float, tuple[Any, ...]]:
                """SIGKILL and note where the job was when the process died."""
                pid = data.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                killed = time.monotonic()
                await asyncio.to_thread(data.stop)
                state = await job()
                at = (state["status"], state["phase"], state.get("checkpoint"))
                progress = state.get("progress", {})
                kills.append(
                    f"{what}: status {at[0]}, phase {at[1]}, checkpoint {at[2]},"
                    f" {progress.get('rows_read', 0)} rows read,"
                    f" {await stored()}/{RESULTS} results stored,"
                    f" attempt {state.get('attempts', 0)}"
                )
                assert state["status"] != "done", f"the kill came after the import: {kills}"
                return killed, at

            posted = await client.post(
                f"{data.url}/v1/assessments/imports",
                headers=headers,
                files={"file": ("results.csv", upload, "text/csv")},
            )
            assert posted.status_code == 202, posted.text

            async def claimed() -> bool:
                return (await job())["status"] != "queued"

            await eventually(claimed, timeout=60, what="a worker to claim the job")
            first_kill, _ = await kill("once the job is claimed")

            # The restarted process takes the job over before it answers /readyz, and on a
            # quiet machine applies every chunk by then: the results are watched while it
            # starts, without pause, and it is killed once a tenth of them are stored.
            restarting = asyncio.create_task(asyncio.to_thread(data.start))
            deadline = time.monotonic() + 120
            while await stored() < RESULTS // 10:
                if restarting.done():
                    restarting.result()  # a start that failed by itself fails the test
                assert time.monotonic() < deadline, f"no results stored after 120 s: {kills}"
            recoveries.append(("the first kill to a tenth stored", time.monotonic() - first_kill))
            last_kill, at = await kill("mid-apply")
            with contextlib.suppress(ServerStartError):  # killed before it was ready
                await restarting
            await asyncio.to_thread(data.stop)
            await asyncio.to_thread(data.start)

            async def moved() -> bool:
                state = await job()
                return (state["status"], state["phase"], state.get("checkpoint")) != at

            await eventually(moved, timeout=90, what="the import to move after mid-apply")
            recoveries.append(("SIGKILL of data mid-apply", time.monotonic() - last_kill))
            report = await finished(f"{data.url}{posted.headers['location']}")
            done = time.monotonic()
            recoveries.append(("the first kill to import done", done - first_kill))
            recoveries.append(("the mid-apply kill to import done", done - last_kill))

        assert report["status"] == "done", report
        results = await db["results"].find({"district_id": district}).to_list()
        kept = collections.Counter(
            (d["student_id"], d["skill_code"], d["assessed_on"]) for d in results
        )
        outbox = {
            d["event_id"]: json.loads(d["value"])["result_id"]
            async for d in db["outbox"].find({"district_id": district, "type": RESULT_TYPE})
        }
        expected: set[Subject] = {(RESULT_TYPE, d["result_id"]) for d in results}
        records, on_broker, by_result = await _read_broker(
            stack.kafka_bootstrap,
            district,
            set(outbox),
            expected,
            topics=[AssessmentResultRecorded.topic],
            entity_of=_by_result,
        )
        pending = await _pending(db, district, data.url)
        lost = len(keys - set(kept)) + len(expected - set(by_result))
        lines = [
            f"results import: rows in the upload:     {RESULTS}",
            f"results import: report accepted:        {report['counts']['accepted']},"
            f" unchanged {report['counts']['unchanged']},"
            f" rejected {report.get('rejected_count', 0)}",
            f"results import: results stored:         {len(kept)}"
            f" ({sum(kept.values()) - len(kept)} twice)",
            f"results import: outbox records:         {len(outbox)}"
            f" for {len(set(outbox.values()))} results",
            f"results import: events found (by id):   {len(on_broker)}",
            f"results import: lost:                   {lost}",
            f"results import: re-sent duplicates:     {records - len(on_broker)} (allowed:"
            " consumers dedupe by event id)",
            f"results import: ids with two payloads:  "
            f"{sum(len(v) > 1 for v in on_broker.values())}",
            f"results import: results under two ids:  "
            f"{sum(len(v) > 1 for v in by_result.values())}",
            f"results import: outbox pending at the end: {pending}",
        ]
        lines += [f"results import: killed {where}" for where in kills]
        lines += [f"recovered from {what:<28} in {s:5.1f} s" for what, s in recoveries]
        FIGURES.extend(lines)
        message = "\n".join(lines)
        # Applied exactly once: every row accepted once, one result and one event per row.
        assert report["counts"] == {"accepted": RESULTS, "unchanged": 0}, message
        assert not report.get("rejected_count"), message
        assert set(kept) == keys, message
        assert all(n == 1 for n in kept.values()), message
        assert len(outbox) == RESULTS == len(set(outbox.values())), message
        # At least once on the broker, never two payloads under one id or two ids for a result.
        assert lost == 0, message
        assert set(outbox) <= set(on_broker), message
        assert all(len(payloads) == 1 for payloads in on_broker.values()), message
        assert all(len(ids) == 1 for ids in by_result.values()), message
        assert pending == 0, message
    finally:
        await mongo.close()
        await asyncio.to_thread(data.stop)
        await asyncio.to_thread(issuer_process.stop)
        await asyncio.to_thread(stack.stop)
