"""A large district's roster import, then its results import, as a district admin runs
them, through the data service.

The data service runs on the local servers with its relay; a generated OneRoster package of
`APTT_BENCH_IMPORT_STUDENTS` students (3,000 by default, one guardian each, classes of 25) is
posted, and the job is followed until it is done, then until its relay has published every
event; then a results file of two scores a student (oral reading fluency and math facts)
the same way. Printed for each: rows applied per second against the raw insert_many rate,
and the import's events per second, from the upload to the last one on the broker, against
the raw produce rate; both raw rates are measured earlier in the same run.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aptt_data.main import Settings, build_app
from aptt_local.imports import post_import, wait_for_import
from aptt_local.oneroster import build_package, generated_roster, results_csv
from aptt_local.process import free_port
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

from bench.figures import Figures, timed

STUDENTS = int(os.environ.get("APTT_BENCH_IMPORT_STUDENTS", "3000"))
ASSESSED_ON = date(2026, 10, 1)


async def run(stack: LocalStack, figures: Figures, state: Path) -> None:
    port = free_port()
    issuer = DevIssuer(f"http://127.0.0.1:{port}", state / "bench-import-issuer.pem")
    issuer_server = uvicorn.Server(
        uvicorn.Config(issuer.app(), host="127.0.0.1", port=port, log_config=None)
    )
    issuer_task = asyncio.create_task(issuer_server.serve())
    settings = Settings(
        **service_settings(stack, "data", issuer.issuer, log_level="WARNING", import_chunk_size=500)
    )
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    db = mongo[settings.database_name]
    district = f"d-bench-{uuid.uuid4().hex[:6]}"
    roster = generated_roster(district, STUDENTS)
    package = build_package(roster)
    token = issuer.mint(subject="bench-admin", district_id=district, roles=["district_admin"])
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with running_app(build_app(settings)) as url:

            async def timed_import(kind: str, upload: tuple[str, bytes, str]) -> None:
                before = _published_by_data()
                outbox_before = await db["outbox"].count_documents({"district_id": district})

                def imported() -> dict[str, Any]:
                    with httpx.Client(timeout=300) as http:
                        posted = post_import(http, url, headers, kind, upload)
                        return dict(wait_for_import(http, url, headers, posted))

                with timed() as applying:
                    job = await asyncio.to_thread(imported)
                if job["status"] != "done":
                    raise RuntimeError(f"the benchmark's {kind} import ended {job['status']}")
                events = (
                    await db["outbox"].count_documents({"district_id": district}) - outbox_before
                )

                async def published() -> bool:
                    # Outbox records keep their status; the relay's own counter says what went.
                    return _published_by_data() - before >= events

                with timed() as relaying:
                    await eventually(published, timeout=3600, what=f"the {kind} events published")
                rows = _rows(job)
                figures.note(
                    f"{kind} import of {STUDENTS:,} students",
                    f"{applying[0]:6.1f} s to done, {len(upload[1]) / 1e6:.1f} MB, "
                    f"{rows:,} rows, {events:,} events",
                )
                figures.rate(
                    f"{kind} import rows applied",
                    rows / applying[0],
                    "rows/s",
                    against="insert_many",
                )
                figures.rate(
                    "its events, posted to the last one published",
                    events / (applying[0] + relaying[0]),
                    "msg/s",
                    against="produce",
                )

            await timed_import("roster", ("roster.zip", package, "application/zip"))
            scores = results_csv(
                [
                    (student.sourced_id, skill, base + n % 9 * 5, ASSESSED_ON)
                    for n, student in enumerate(roster.students)
                    for skill, base in (("orf", 60.0), ("math-facts", 15.0))
                ]
            )
            await timed_import("results", ("results.csv", scores, "text/csv"))
    finally:
        await mongo.drop_database(settings.database_name)
        await mongo.close()
        issuer_server.should_exit = True
        await issuer_task


def _rows(job: dict[str, Any]) -> int:
    """Rows the job wrote: a roster job counts per kind, a results job in total."""
    if job.get("by_kind"):
        return sum(
            counts.get("created", 0) + counts.get("updated", 0)
            for counts in job["by_kind"].values()
        )
    return int(job["counts"]["accepted"])


def _published_by_data() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "aptt_events_published"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("app") == "data"
    )
