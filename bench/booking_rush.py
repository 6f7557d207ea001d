"""The evening a district opens conference sign-ups: 500 families booking 300 slots at once.

The scheduling service runs on the local servers; several worker processes are the
families' browsers, all pressing at once through the HTTP API. A family whose slot was taken
tries another, up to three. Printed: bookings accepted, double bookings found in the database
(must be 0), p50/p99 latency, accepted bookings per second, and the raw unique-index insert
rate of the same database measured right before, with the ratio of the two.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from aptt_contracts.data import ClassroomUpserted, SchoolUpserted, StudentUpserted
from aptt_local.kafkatools import publish
from aptt_local.process import free_port
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from aptt_platform.schoolyear import school_year_of
from aptt_scheduling.main import build_app
from aptt_scheduling.settings import Settings
from pymongo import AsyncMongoClient

from bench.figures import Figures, timed
from bench.raw import unique_inserts

FAMILIES = 500
CLASSROOMS = 10
SLOTS_PER_CLASSROOM = 30  # 300 slots of 10 minutes, 09:00-14:00
WORKERS = 4
TRIES = 3
ZONE = "America/Los_Angeles"

# (slot ids to try in order, student id, bearer token)
Family = tuple[list[str], str, str]


def _families_press(url: str, families: list[Family]) -> list[tuple[int, float]]:
    """One worker process: its families all press at once; (status, seconds) per request."""

    async def press() -> list[tuple[int, float]]:
        results: list[tuple[int, float]] = []
        limits = httpx.Limits(max_connections=len(families))
        async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:

            async def family(slots: list[str], student: str, token: str) -> None:
                for slot in slots:
                    started = time.perf_counter()
                    answer = await client.post(
                        f"/v1/conference-slots/{slot}/booking",
                        json={"student_id": student},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    results.append((answer.status_code, time.perf_counter() - started))
                    if answer.status_code == 201 or "student-already-booked" in answer.text:
                        return

            await asyncio.gather(*(family(*f) for f in families))
        return results

    return asyncio.run(press())


async def _district(
    stack: LocalStack, client: httpx.AsyncClient, issuer: DevIssuer, db: Any
) -> tuple[str, list[tuple[str, str, str]]]:
    """A school of ten classrooms of 50 families and a conference evening for all of them;
    returns (district, families as (classroom, student, token))."""
    district, school = f"d-{uuid.uuid4().hex[:8]}", "sch-bench"
    per_class = FAMILIES // CLASSROOMS
    classrooms = {
        f"cls-{c:02d}": [(f"stu-{c:02d}-{i:03d}", f"gdn-{c:02d}-{i:03d}") for i in range(per_class)]
        for c in range(CLASSROOMS)
    }
    await publish(
        stack.kafka_bootstrap,
        SchoolUpserted(district_id=district, school_id=school, timezone=ZONE),
        *(
            StudentUpserted(district_id=district, student_id=s, school_id=school, guardian_ids=[g])
            for members in classrooms.values()
            for s, g in members
        ),
        *(
            ClassroomUpserted(
                district_id=district,
                classroom_id=c,
                school_id=school,
                grade=3,
                teacher_ids=[f"tch-{c}"],
                student_ids=[s for s, _ in members],
            )
            for c, members in classrooms.items()
        ),
    )

    async def roster_arrived() -> bool:
        students = await db["students"].count_documents({"district_id": district})
        rooms = await db["classrooms"].count_documents({"district_id": district})
        return bool(students == FAMILIES and rooms == CLASSROOMS)

    await eventually(roster_arrived, timeout=120, what="the roster in scheduling")
    admin = {
        "Authorization": "Bearer "
        + issuer.mint(subject="bench-admin", district_id=district, roles=["district_admin"])
    }
    now = datetime.now(UTC).astimezone(ZoneInfo(ZONE))
    template = await client.post(
        "/v1/calendar-templates",
        json={
            "name": f"bench {uuid.uuid4().hex[:6]}",
            "windows": [{"kind": "conference", "month": now.month, "span_months": 1}],
        },
        headers=admin,
    )
    template.raise_for_status()
    applied = await client.post(
        f"/v1/schools/{school}/engagement-calendars",
        json={
            "template_id": template.json()["template_id"],
            "school_year": school_year_of(now.date()),
        },
        headers=admin,
    )
    applied.raise_for_status()
    day = (now + timedelta(days=2)).date()
    if day.month != now.month:  # the window is this month; the last days book its first day
        day = now.date() + timedelta(days=1)
    evening = await client.post(
        f"/v1/schools/{school}/conference-evenings",
        json={
            "days": [{"day": day.isoformat(), "starts": "09:00", "ends": "14:00"}],
            "place": "Classrooms",
            "slot_minutes": 10,
            "signup_opens_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "signup_closes_at": (datetime.now(UTC) + timedelta(hours=12)).isoformat(),
        },
        headers=admin,
    )
    evening.raise_for_status()
    families = [
        (c, s, issuer.mint(subject=g, district_id=district, roles=["guardian"]))
        for c, members in classrooms.items()
        for s, g in members
    ]
    return district, families


async def run(stack: LocalStack, figures: Figures, state: Path) -> None:
    port = free_port()
    issuer = DevIssuer(f"http://127.0.0.1:{port}", state / "bench-issuer.pem")
    issuer_server = uvicorn.Server(
        uvicorn.Config(issuer.app(), host="127.0.0.1", port=port, log_config=None)
    )
    issuer_task = asyncio.create_task(issuer_server.serve())
    settings = Settings(**service_settings(stack, "scheduling", issuer.issuer, log_level="WARNING"))
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    db = mongo[settings.database_name]
    try:
        async with (
            running_app(build_app(settings)) as url,
            httpx.AsyncClient(base_url=url, timeout=60) as client,
        ):
            district, families = await _district(stack, client, issuer, db)
            by_class = await _slots_by_classroom(db, district)
            plans: list[Family] = []
            for i, (classroom, student, token) in enumerate(families):
                mine = by_class[classroom]
                plans.append(
                    ([mine[(i * 7 + k) % len(mine)] for k in range(TRIES)], student, token)
                )
            raw_rate = await unique_inserts(mongo["bench_rush_raw_" + uuid.uuid4().hex[:6]])
            figures.raw_rate("unique-index insert (before the rush)", raw_rate, "docs/s")
            chunks = [plans[w::WORKERS] for w in range(WORKERS)]
            loop = asyncio.get_running_loop()
            with (
                multiprocessing.get_context("spawn").Pool(WORKERS) as pool,
                timed() as t,
            ):
                pending = [
                    loop.run_in_executor(None, pool.apply, _families_press, (url, chunk))
                    for chunk in chunks
                ]
                results = [r for chunk in await asyncio.gather(*pending) for r in chunk]
            await _report(db, district, results, t[0], figures)
    finally:
        await mongo.drop_database(settings.database_name)
        await mongo.close()
        issuer_server.should_exit = True
        await issuer_task


async def _slots_by_classroom(db: Any, district: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    async for slot in db["conference_slots"].find({"district_id": district}).sort("starts_at"):
        found.setdefault(slot["classroom_id"], []).append(slot["slot_id"])
    return found


async def _report(
    db: Any, district: str, results: list[tuple[int, float]], seconds: float, figures: Figures
) -> None:
    accepted = sum(1 for status, _ in results if status == 201)
    errors = sum(1 for status, _ in results if status not in (201, 409))
    cursor = await db["conference_bookings"].aggregate(
        [
            {"$match": {"district_id": district, "status": "booked"}},
            {"$group": {"_id": "$slot_id", "n": {"$sum": 1}}},
            {"$match": {"n": {"$gt": 1}}},
        ]
    )
    doubled = await cursor.to_list(None)
    stored = await db["conference_bookings"].count_documents(
        {"district_id": district, "status": "booked"}
    )
    latencies = sorted(latency for _, latency in results)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    figures.note(
        "booking rush",
        f"{FAMILIES} families, {CLASSROOMS * SLOTS_PER_CLASSROOM} slots, {WORKERS} client "
        f"processes, {len(results)} requests in {seconds:,.1f} s, {errors} errors",
    )
    figures.note("bookings accepted (stored)", f"{accepted} ({stored} in the database)")
    figures.note("double bookings found", f"{len(doubled)} (must be 0)")
    figures.note("latency p50 / p99", f"{p50:,.0f} ms / {p99:,.0f} ms (aim p99 < 500 ms)")
    figures.rate(
        "accepted bookings",
        accepted / seconds,
        "bookings/s",
        against="unique-index insert (before the rush)",
        aim=0.5,
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aptt-bench-rush-") as state:
        stack = LocalStack(state)
        stack.start()
        try:
            asyncio.run(run(stack, Figures(), Path(state)))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
