"""Helpers for the data service's tests: a running service per module, tokens, rosters,
packages to spoil, and the events the service published."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from aptt_data.main import Settings, build_app
from aptt_local.kafkatools import read_topic
from aptt_local.oneroster import (
    Classroom,
    Guardian,
    Roster,
    School,
    Student,
    Teacher,
)
from aptt_local.servers import LocalStack
from aptt_local.testing import eventually, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from aptt_platform.events import header_dict
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

UPLOAD_LIMIT = 256 * 1024


@dataclass
class DataService:
    url: str
    issuer: DevIssuer
    bootstrap: str
    db: AsyncDatabase[dict[str, Any]]

    async def outbox_count(self, district: str) -> int:
        """Events the service committed for a district (written with the state they report)."""
        return await self.db["outbox"].count_documents({"district_id": district})

    def token(
        self,
        district: str,
        role: str,
        *,
        subject: str = "someone",
        schools: list[str] | None = None,
        students: list[str] | None = None,
    ) -> dict[str, str]:
        token = self.issuer.mint(
            subject=subject,
            district_id=district,
            roles=[role],
            school_ids=schools,
            student_ids=students,
        )
        return {"Authorization": f"Bearer {token}"}

    def admin(self, district: str) -> dict[str, str]:
        return self.token(district, "district_admin", subject="admin-1")

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30.0)

    async def import_roster(
        self, district: str, package: bytes, *, mode: str = "bulk", name: str = "roster.zip"
    ) -> httpx.Response:
        """Post a package and wait for its job: the job's final state (status done, with
        the report), or the refusal when the upload was not accepted (413, 422...)."""
        async with self.client() as client:
            posted = await client.post(
                "/v1/roster/imports",
                headers=self.admin(district),
                files={"file": (name, package, "application/zip")},
                data={"mode": mode},
            )
            return await finished_job(client, posted, self.admin(district))

    async def import_results(
        self,
        district: str,
        content: bytes,
        *,
        name: str = "results.csv",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        async with self.client() as client:
            posted = await client.post(
                "/v1/assessments/imports",
                headers=headers or self.admin(district),
                files={"file": (name, content, "text/csv")},
            )
            return await finished_job(client, posted, headers or self.admin(district))

    async def events(self, district: str, topic: str) -> list[tuple[str, dict[str, Any]]]:
        """(type, payload) of what the service published for a district, in topic order."""
        found = []
        for record in await read_topic(self.bootstrap, topic):
            headers = header_dict(record.headers)
            if headers.get("ce_district", b"").decode() == district:
                found.append((headers["ce_type"].decode(), json.loads(record.value or b"{}")))
        return found

    async def wait_for_events(
        self, district: str, topic: str, check: Callable[[list[tuple[str, dict[str, Any]]]], bool]
    ) -> list[tuple[str, dict[str, Any]]]:
        seen: list[tuple[str, dict[str, Any]]] = []

        async def arrived() -> bool:
            nonlocal seen
            seen = await self.events(district, topic)
            return check(seen)

        await eventually(arrived, timeout=30, what=f"events on {topic}")
        return seen


async def finished_job(
    client: httpx.AsyncClient, posted: httpx.Response, headers: dict[str, str], timeout: float = 120
) -> httpx.Response:
    """Follow a posted import (202 and its Location) until it is done or failed."""
    if posted.status_code != 202:
        return posted
    location = posted.headers["location"]
    assert posted.json()["status"] == "queued"
    last = posted

    async def ended() -> bool:
        nonlocal last
        last = await client.get(location, headers=headers)
        return last.status_code != 200 or last.json()["status"] in ("done", "failed")

    await eventually(ended, timeout=timeout, what=f"import {location}")
    return last


@asynccontextmanager
async def started_data_service(
    local_stack: LocalStack, dev_issuer: DevIssuer, **overrides: Any
) -> AsyncIterator[DataService]:
    """The data service on the real broker and database, with the tests' upload limits and
    any other settings a test module needs changed."""
    settings = Settings(
        **service_settings(
            local_stack,
            "data",
            dev_issuer.issuer,
            max_upload_bytes=overrides.pop("max_upload_bytes", UPLOAD_LIMIT),
            max_unzipped_bytes=overrides.pop("max_unzipped_bytes", 4 * UPLOAD_LIMIT),
            **overrides,
        )
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        local_stack.mongo_url, tz_aware=True
    )
    try:
        async with running_app(build_app(settings)) as url:
            yield DataService(
                url=url,
                issuer=dev_issuer,
                bootstrap=local_stack.kafka_bootstrap,
                db=client[settings.database_name],
            )
    finally:
        await client.close()


@pytest.fixture(scope="module")
async def data_service(
    local_stack: LocalStack, dev_issuer: DevIssuer
) -> AsyncIterator[DataService]:
    """The data service, once per test module."""
    async with started_data_service(local_stack, dev_issuer) as service:
        yield service


def district_roster(district: str, *, per_class: int = 6) -> Roster:
    """Two schools, one classroom each, `per_class` students, a guardian per student
    (languages en/es/vi in turn) and one guardian of two children across both schools."""
    schools = [School("sch1", "Lincoln Elementary"), School("sch2", "Garfield Elementary")]
    teachers = [
        Teacher("t1", "Ana", "Ruiz", "ana.ruiz@example.org", "sch1"),
        Teacher("t2", "Ben", "Okafor", "ben.okafor@example.org", "sch2"),
    ]
    classrooms = [
        Classroom("c1", "sch1", "Room 3A", 3, "t1"),
        Classroom("c2", "sch2", "Room 2B", 2, "t2"),
    ]
    students: list[Student] = []
    guardians: list[Guardian] = []
    languages = ("en", "es", "vi")
    for room, school, grade in (("c1", "sch1", 3), ("c2", "sch2", 2)):
        for i in range(1, per_class + 1):
            student_id = f"{room}-s{i}"
            students.append(Student(student_id, "Kid", f"{room.upper()}{i}", grade, school, [room]))
            guardians.append(
                Guardian(
                    f"{room}-g{i}",
                    "Parent",
                    f"{room.upper()}{i}",
                    f"{room}.g{i}@example.org",
                    f"(510) 555-{i:04d}",
                    languages[i % 3],
                    "parent",
                    [student_id],
                )
            )
    guardians.append(
        Guardian(
            "gboth",
            "Rosa",
            "Diaz",
            None,
            "+1 415 555 0199",
            "es-MX",
            "guardian",
            ["c1-s1", "c2-s1"],
        )
    )
    return Roster(
        district_id=district,
        district_name="Test Unified",
        schools=schools,
        teachers=teachers,
        classrooms=classrooms,
        students=students,
        guardians=guardians,
        school_year_start=date(2026, 8, 1),
    )


def unzip_files(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def edit_csv(package: bytes, name: str, edit: Callable[[str], str]) -> bytes:
    """The package with one CSV file's text changed."""
    files = unzip_files(package)
    files[name] = edit(files[name].decode()).encode()
    return zip_bytes(files)
