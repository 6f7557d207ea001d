"""Imports as jobs on the real broker and database: a large district in chunks with bounded
memory, a worker killed mid-way whose job another one finishes (every row applied once, every
event published once), re-imports and deltas, and who may see a job."""

from __future__ import annotations

import collections
import dataclasses
import os
import resource
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aptt_data.main import Settings, build_app
from aptt_local.oneroster import (
    Guardian,
    Student,
    build_package,
    generated_roster,
    results_csv,
)
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, random_id, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .conftest import DataService, finished_job

# The normal suite imports a few hundred students in several chunks; `-m bench` imports
# larger districts (APTT_IMPORT_BENCH_SIZES, default 3,000 and 20,000 students).
SUITE_SIZE = 300
BENCH_SIZES = [int(n) for n in os.environ.get("APTT_IMPORT_BENCH_SIZES", "3000,20000").split(",")]


@dataclasses.dataclass
class Deployment:
    """The data service as pods would run it: started and stopped at will on one database."""

    stack: LocalStack
    issuer: DevIssuer
    database: str
    db: AsyncDatabase[dict[str, Any]]

    def settings(self, **extra: Any) -> Settings:
        return Settings(
            **service_settings(
                self.stack,
                "data",
                self.issuer.issuer,
                mongo_database=self.database,
                import_lease_seconds=2.0,
                **extra,
            )
        )

    def admin(self, district: str) -> dict[str, str]:
        token = self.issuer.mint(subject="admin-1", district_id=district, roles=["district_admin"])
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def deployment(local_stack: LocalStack, dev_issuer: DevIssuer) -> AsyncIterator[Deployment]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        local_stack.mongo_url, tz_aware=True
    )
    database = f"test_data_{random_id('jobs').replace('-', '_')}"
    try:
        yield Deployment(local_stack, dev_issuer, database, client[database])
    finally:
        await client.close()


async def events_by_subject(
    db: AsyncDatabase[dict[str, Any]], district: str
) -> collections.Counter:
    """(event type, aggregate id) -> how many times the service committed it to the outbox."""
    docs = await db["outbox"].find({"district_id": district}, {"type": 1, "headers": 1}).to_list()
    return collections.Counter((d["type"], d["headers"]["ce_subject"]) for d in docs)


async def post(
    url: str, headers: dict[str, str], package: bytes, mode: str = "bulk"
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        return await client.post(
            "/v1/roster/imports",
            headers=headers,
            files={"file": ("roster.zip", package, "application/zip")},
            data={"mode": mode},
        )


@pytest.mark.timeout(900)
async def test_an_import_killed_mid_way_is_finished_by_another_worker_exactly_once(
    deployment: Deployment,
) -> None:
    district = random_id("d")
    roster = generated_roster(district, 100)
    package = build_package(roster)
    settings = deployment.settings(import_chunk_size=10)

    async with running_app(build_app(settings)) as url:
        posted = await post(url, deployment.admin(district), package)
        assert posted.status_code == 202, posted.text
        assert posted.headers["location"] == f"/v1/roster/imports/{posted.json()['import_id']}"
        import_id = posted.json()["import_id"]

        async def some_entities_applied() -> bool:
            job = await deployment.db["imports"].find_one({"import_id": import_id})
            # The phase goes through users.csv in sourcedId order: guardians come first.
            students = await deployment.db["students"].count_documents({"district_id": district})
            return bool(job and job["phase"] == "entities:students" and students > 0)

        await eventually(some_entities_applied, timeout=120, what="the first student chunks")
    # The pod is gone mid-import (its worker cancelled inside a chunk, its lease left behind).
    stopped = await deployment.db["imports"].find_one({"import_id": import_id})
    assert stopped is not None
    assert stopped["status"] == "applying"
    assert stopped["lease"] is not None
    half = await deployment.db["students"].count_documents({"district_id": district})
    assert 0 < half < 100

    async with (
        running_app(build_app(deployment.settings(import_chunk_size=10))) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as client,
    ):
        done = posted

        async def finished() -> bool:
            nonlocal done
            done = await client.get(posted.headers["location"], headers=deployment.admin(district))
            return bool(done.json()["status"] in ("done", "failed"))

        await eventually(finished, timeout=280, what="the import taken over")
    report = done.json()
    assert report["status"] == "done", report
    job = await deployment.db["imports"].find_one({"import_id": import_id})
    assert job is not None
    assert job["attempts"] == 2
    rooms, guardians = len(roster.classrooms), len(roster.guardians)
    assert report["by_kind"]["students"] == {
        "created": 100,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    assert report["by_kind"]["guardians"]["created"] == guardians
    assert report["by_kind"]["classrooms"]["created"] == rooms
    assert await deployment.db["students"].count_documents({"district_id": district}) == 100
    events = await events_by_subject(deployment.db, district)
    # One event per entity, none twice, none missing.
    assert set(events.values()) == {1}
    by_type = collections.Counter(t for t, _ in events)
    assert by_type == {
        "org.aptt.data.school.upserted.v1": len(roster.schools),
        "org.aptt.data.student.upserted.v1": 100,
        "org.aptt.data.guardian-contact.updated.v1": guardians,
        "org.aptt.data.classroom.upserted.v1": rooms,
    }
    # Nothing of the job's scratch data is left behind.
    assert await deployment.db["import_rows"].count_documents({"import_id": import_id}) == 0
    assert await deployment.db["uploads.files"].count_documents({}) == 0


def memory_now() -> tuple[int, int]:
    """(peak traced Python allocations, peak resident set of this process) in bytes."""
    _, peak = tracemalloc.get_traced_memory()
    return peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def bytes_per_student(db: AsyncDatabase[dict[str, Any]], students: int) -> float:
    stats = await db.command("dbStats")
    return float(stats.get("storageSize", 0) + stats.get("indexSize", 0)) / students


@pytest.mark.timeout(7200)
@pytest.mark.parametrize(
    "students", [SUITE_SIZE, *(pytest.param(n, marks=pytest.mark.bench) for n in BENCH_SIZES)]
)
async def test_a_large_district_imports_in_chunks_with_bounded_memory(
    deployment: Deployment, students: int
) -> None:
    district = random_id("d")
    roster = generated_roster(district, students)
    package = build_package(roster)
    settings = deployment.settings(import_chunk_size=100 if students <= SUITE_SIZE else 500)
    async with (
        running_app(build_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=120) as client,
    ):
        headers = deployment.admin(district)
        tracemalloc.start()
        started = time.monotonic()
        posted = await post(url, headers, package)
        first = await finished_job(client, posted, headers, timeout=3600)
        took = time.monotonic() - started
        traced, rss = memory_now()
        tracemalloc.stop()
        report = first.json()
        assert report["status"] == "done", report
        assert report["rejected"] == []
        assert report["by_kind"]["students"]["created"] == students
        assert report["by_kind"]["guardians"]["created"] == students
        assert report["progress"]["chunks_applied"] > 4  # it went in several transactions
        size = await bytes_per_student(deployment.db, students)
        print(
            f"\nimport of {students} students: {took:.1f} s, {len(package) / 1e6:.1f} MB zip, "
            f"peak traced Python memory {traced / 1e6:.1f} MB, peak RSS {rss / 1e6:.0f} MB, "
            f"database {size:,.0f} bytes per student"
        )
        published = await deployment.db["outbox"].count_documents({"district_id": district})

        started = time.monotonic()
        again = (await finished_job(client, await post(url, headers, package), headers)).json()
        print(f"the same {students} students again: {time.monotonic() - started:.1f} s")
        assert again["counts"]["created"] == again["counts"]["updated"] == 0
        assert again["counts"]["deleted"] == 0
        assert again["by_kind"]["students"]["unchanged"] == students
        assert await deployment.db["outbox"].count_documents({"district_id": district}) == (
            published
        )


async def test_a_delta_applies_exactly_its_rows(data_service: DataService) -> None:
    district = random_id("d")
    roster = generated_roster(district, 60)
    assert (await data_service.import_roster(district, build_package(roster))).json()["status"] == (
        "done"
    )
    before = await events_by_subject(data_service.db, district)
    newcomer = Student("s-new", "Kid", "New", 1, "sch0", ["c0"])
    parent = Guardian("g-new", "Parent", "New", "new@example.org", None, "vi", "parent", ["s-new"])
    delta = dataclasses.replace(
        roster,
        students=[newcomer],
        guardians=[parent],
        teachers=[t for t in roster.teachers if t.sourced_id == "t0"],
        classrooms=[c for c in roster.classrooms if c.sourced_id == "c0"],
    )
    package = build_package(delta, mode="delta")

    report = (await data_service.import_roster(district, package, mode="delta")).json()

    assert report["status"] == "done", report
    assert report["rejected"] == []
    assert report["by_kind"]["students"]["created"] == 1
    assert report["by_kind"]["guardians"]["created"] == 1
    assert report["by_kind"]["classrooms"]["updated"] == 1
    assert report["counts"]["deleted"] == 0
    after = await events_by_subject(data_service.db, district)
    assert after - before == collections.Counter(
        {
            ("org.aptt.data.student.upserted.v1", "s-new"): 1,
            ("org.aptt.data.guardian-contact.updated.v1", "g-new"): 1,
            ("org.aptt.data.classroom.upserted.v1", "c0"): 1,
        }
    )
    room = await data_service.db["classrooms"].find_one(
        {"district_id": district, "classroom_id": "c0"}
    )
    assert room is not None
    assert "s-new" in room["student_ids"]
    assert len(room["student_ids"]) == 1 + sum("c0" in s.classroom_ids for s in roster.students)


async def test_a_job_is_seen_only_in_its_district(data_service: DataService) -> None:
    district = random_id("d")
    async with data_service.client() as client:
        posted = await client.post(
            "/v1/assessments/imports",
            headers=data_service.admin(district),
            files={"file": ("r.csv", results_csv([]), "text/csv")},
        )
        assert posted.status_code == 202
        location = posted.headers["location"]
        assert location == f"/v1/assessments/imports/{posted.json()['import_id']}"
        elsewhere = await client.get(location, headers=data_service.admin(random_id("other")))
        assert elsewhere.status_code == 404
        assert elsewhere.headers["content-type"] == "application/problem+json"
        roster_route = location.replace("/assessments/", "/roster/")
        # A result import is not a roster import either.
        assert (
            await client.get(roster_route, headers=data_service.admin(district))
        ).status_code == 404
        done = await finished_job(client, posted, data_service.admin(district))
        assert done.json()["status"] == "done"
        assert done.json()["counts"] == {"accepted": 0, "unchanged": 0}


async def test_the_openapi_documents_the_job_answers(data_service: DataService) -> None:
    async with data_service.client() as client:
        spec = (await client.get("/openapi.json")).json()
    for path in ("/v1/roster/imports", "/v1/assessments/imports"):
        answers = spec["paths"][path]["post"]["responses"]
        assert {"202", "413", "422"} <= set(answers), path
        assert "application/problem+json" in answers["413"]["content"]
