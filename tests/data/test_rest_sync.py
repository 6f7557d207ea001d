"""OneRoster 1.2 REST sync against the local stand-in provider: a bulk sync, then a delta
that adds, changes and deletes; a sync stopped between pages and resumed by another worker
(every record fetched once, every event committed once); a refused secret; who may see a
sync."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aptt_data.main import Settings, build_app
from aptt_local.oneroster import Guardian, Roster, Student, build_package
from aptt_local.servers import LocalStack, OneRosterStandin
from aptt_local.testing import eventually, random_id, running_app, service_settings
from aptt_platform.devissuer import DevIssuer
from pymongo import AsyncMongoClient

from .conftest import DataService, district_roster, edit_csv


@pytest.fixture
async def standin_dir(tmp_path: Path) -> Path:
    return tmp_path


async def started(state_dir: Path, roster: Roster) -> OneRosterStandin:
    standin = OneRosterStandin(state_dir, build_package(roster))
    await asyncio.to_thread(standin.start)
    return standin


def provider_body(standin: OneRosterStandin, secret: str | None = None) -> dict[str, str]:
    return {
        "base_url": standin.base_url,
        "token_url": standin.token_url,
        "client_id": standin.client_id,
        "client_secret": secret or standin.client_secret,
    }


async def sync(
    client: httpx.AsyncClient, headers: dict[str, str], mode: str | None = None
) -> dict[str, Any]:
    """Start a sync and follow it to its end."""
    body = {"mode": mode} if mode else None
    posted = await client.post("/v1/roster/syncs", headers=headers, json=body)
    assert posted.status_code == 202, posted.text
    location = posted.headers["location"]
    last: dict[str, Any] = posted.json()

    async def ended() -> bool:
        nonlocal last
        answer = await client.get(location, headers=headers)
        assert answer.status_code == 200, answer.text
        last = answer.json()
        return last["status"] in ("done", "failed")

    await eventually(ended, timeout=120, what=f"sync {location}")
    return last


def changed_roster(roster: Roster) -> Roster:
    """The next day's roster: a new student and guardian, a student renamed, one gone, one
    moved to the other school (a new role there, the old one gone)."""
    renamed = dataclasses.replace(roster.students[0], family_name="Renamed")
    kept = [
        dataclasses.replace(s, school_id="sch1", classroom_ids=["c1"])
        if s.sourced_id == "c2-s3"
        else s
        for s in roster.students[1:]
        if s.sourced_id != "c1-s2"
    ]
    new = Student("c1-s9", "Kid", "New", 3, "sch1", ["c1"])
    guardians = [g for g in roster.guardians if g.sourced_id != "c1-g2"]
    guardians.append(
        Guardian("c1-g9", "Parent", "New", "c1.g9@example.org", None, "en", "parent", ["c1-s9"])
    )
    return dataclasses.replace(roster, students=[renamed, *kept, new], guardians=guardians)


async def test_a_bulk_sync_then_a_delta_that_adds_changes_and_deletes(
    data_service: DataService, standin_dir: Path
) -> None:
    district = random_id("d")
    roster = district_roster(district)
    standin = await started(standin_dir, roster)
    admin = data_service.admin(district)
    try:
        async with data_service.client() as client:
            put = await client.put(
                "/v1/district/oneroster-provider", headers=admin, json=provider_body(standin)
            )
            assert put.status_code == 200, put.text
            shown = await client.get("/v1/district/oneroster-provider", headers=admin)
            assert shown.status_code == 200
            assert shown.json()["base_url"] == standin.base_url
            assert standin.client_secret not in shown.text
            assert "client_secret" not in shown.json()

            bulk = await sync(client, admin)
            assert bulk["status"] == "done", bulk.get("error")
            assert bulk["mode"] == "bulk"
            assert bulk["rejected_count"] == 0, bulk["rejected"]
            assert bulk["by_kind"]["students"]["created"] == len(roster.students)
            assert bulk["by_kind"]["guardians"]["created"] == len(roster.guardians)
            assert bulk["by_kind"]["classrooms"]["created"] == len(roster.classrooms)
            assert bulk["by_kind"]["schools"]["created"] == len(roster.schools)
            # The same package imported as CSV gives the same report.
            other = random_id("d")
            csv_import = await data_service.import_roster(other, build_package(roster))
            assert csv_import.json()["by_kind"] == bulk["by_kind"]

            counts = await asyncio.to_thread(
                standin.replace_package, build_package(changed_roster(roster))
            )
            assert counts["deleted"] > 0
            assert counts["added"] > 0
            assert counts["changed"] > 0
            delta = await sync(client, admin)
            # A bulk sync asked for again finds the roster as the delta left it.
            again = await sync(client, admin, mode="bulk")
    finally:
        await asyncio.to_thread(standin.stop)
    assert delta["status"] == "done", delta
    assert delta["mode"] == "delta"
    assert delta["sync"]["since"] is not None
    assert delta["rejected_count"] == 0, delta["rejected"]
    students = delta["by_kind"]["students"]
    assert (students["created"], students["updated"], students["deleted"]) == (1, 2, 1)
    guardians = delta["by_kind"]["guardians"]
    assert (guardians["created"], guardians["deleted"]) == (1, 1)
    # Only what changed was fetched: the renamed, new and deleted users, not the others.
    assert delta["sync"]["records_fetched"] < bulk["sync"]["records_fetched"] / 2
    stored = {
        d["student_id"]: d
        async for d in data_service.db["students"].find({"district_id": district})
    }
    assert "c1-s2" not in stored
    assert "c1-s9" in stored
    assert len(stored) == len(roster.students)
    assert stored["c2-s3"]["school_id"] == "sch1"
    assert again["mode"] == "bulk"
    assert again["status"] == "done", again.get("error")
    assert again["sync"]["since"] is None
    assert again["counts"]["created"] == again["counts"]["deleted"] == 0
    assert again["counts"]["updated"] == 0
    roles = data_service.db["roster_records"].find({"district_id": district, "file": "roles.csv"})
    moved = [
        r["fields"]["orgSourcedId"] async for r in roles if r["sourced_id"].startswith("c2-s3~")
    ]
    assert moved == ["sch1"]


async def test_a_sync_refuses_and_warns_as_the_csv_import_does(
    data_service: DataService, standin_dir: Path
) -> None:
    district = random_id("d")
    package = build_package(district_roster(district, per_class=2))
    # A student in a grade OneRoster does not know; a guardian phone without +country.
    package = edit_csv(package, "users.csv", lambda text: text.replace(",03,", ",99,", 1))
    package = edit_csv(
        package, "users.csv", lambda text: text.replace("(510) 555-0001", "5105550001")
    )
    standin = OneRosterStandin(standin_dir, package)
    await asyncio.to_thread(standin.start)
    admin = data_service.admin(district)
    try:
        async with data_service.client() as client:
            put = await client.put(
                "/v1/district/oneroster-provider", headers=admin, json=provider_body(standin)
            )
            assert put.status_code == 200, put.text
            synced = await sync(client, admin)
    finally:
        await asyncio.to_thread(standin.stop)
    imported = (await data_service.import_roster(random_id("d"), package)).json()
    assert synced["status"] == imported["status"] == "done"

    def found(report: dict[str, Any], key: str) -> set[tuple[str, str | None, str]]:
        """What was refused or read leniently, and why; the lines differ (a sync's package
        is written in sourcedId order)."""
        return {
            (r["file"], r["column"], re.sub(r"lines? [0-9, ]+", "", r["reason"]))
            for r in report[key]
        }

    assert synced["rejected_count"] > 0
    assert found(synced, "rejected") == found(imported, "rejected")
    assert synced["warnings_count"] > 0
    assert found(synced, "warnings") == found(imported, "warnings")
    assert synced["by_kind"] == imported["by_kind"]


async def test_a_wrong_secret_fails_the_sync_clearly(
    data_service: DataService, standin_dir: Path
) -> None:
    district = random_id("d")
    standin = await started(standin_dir, district_roster(district, per_class=1))
    admin = data_service.admin(district)
    try:
        async with data_service.client() as client:
            body = provider_body(standin, secret="not-the-secret")
            put = await client.put("/v1/district/oneroster-provider", headers=admin, json=body)
            assert put.status_code == 200, put.text
            failed = await sync(client, admin)
            # Nothing synced yet: a delta has no time to start from.
            first_delta = await client.post(
                "/v1/roster/syncs", headers=admin, json={"mode": "delta"}
            )
            assert first_delta.status_code == 409
            assert first_delta.json()["type"].endswith("/no-sync-yet")
    finally:
        await asyncio.to_thread(standin.stop)
    assert failed["status"] == "failed"
    assert "refused the client id and secret" in failed["error"]["reason"]
    assert "not-the-secret" not in str(failed)
    assert await data_service.db["students"].count_documents({"district_id": district}) == 0


async def test_a_sync_is_seen_only_in_its_district(
    data_service: DataService, standin_dir: Path
) -> None:
    district, other = random_id("d"), random_id("d")
    standin = await started(standin_dir, district_roster(district, per_class=1))
    try:
        async with data_service.client() as client:
            await client.put(
                "/v1/district/oneroster-provider",
                headers=data_service.admin(district),
                json=provider_body(standin),
            )
            # The provider holds every page: the sync stays under way.
            await asyncio.to_thread(standin.hold, 0)
            posted = await client.post("/v1/roster/syncs", headers=data_service.admin(district))
            assert posted.status_code == 202
            location = posted.headers["location"]
            again = await client.post("/v1/roster/syncs", headers=data_service.admin(district))
            assert again.status_code == 409
            assert again.json()["type"].endswith("/sync-running")
            await asyncio.to_thread(standin.hold, None)
            assert (
                await client.get(location, headers=data_service.admin(other))
            ).status_code == 404
            teacher = data_service.token(district, "teacher")
            assert (await client.get(location, headers=teacher)).status_code == 403
            none = await client.get(
                "/v1/district/oneroster-provider", headers=data_service.admin(other)
            )
            assert none.status_code == 404
            unset = await client.post("/v1/roster/syncs", headers=data_service.admin(other))
            assert unset.status_code == 409
            assert unset.json()["type"].endswith("/no-provider")
            bad = await client.put(
                "/v1/district/oneroster-provider",
                headers=data_service.admin(other),
                json={**provider_body(standin), "base_url": "x" * 600},
            )
            assert bad.status_code == 422
            assert "x" * 600 not in bad.text
            await eventually(
                lambda: _ended(client, location, data_service.admin(district)),
                timeout=60,
                what="the sync",
            )
    finally:
        await asyncio.to_thread(standin.stop)


async def _ended(client: httpx.AsyncClient, location: str, headers: dict[str, str]) -> bool:
    answer = await client.get(location, headers=headers)
    return bool(answer.json()["status"] in ("done", "failed"))


async def test_the_schedule_syncs_every_district_with_a_provider(
    local_stack: LocalStack, dev_issuer: DevIssuer, database: Any, standin_dir: Path
) -> None:
    name, db = database
    district = random_id("d")
    standin = await started(standin_dir, district_roster(district, per_class=1))
    settings = Settings(
        **service_settings(
            local_stack,
            "data",
            dev_issuer.issuer,
            mongo_database=name,
            roster_sync_interval_seconds=0.5,
        )
    )
    token = dev_issuer.mint(subject="admin-1", district_id=district, roles=["district_admin"])
    admin = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            running_app(build_app(settings)) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            put = await client.put(
                "/v1/district/oneroster-provider", headers=admin, json=provider_body(standin)
            )
            assert put.status_code == 200, put.text
            seen: list[dict[str, Any]] = []

            async def two_syncs_done() -> bool:
                nonlocal seen
                jobs = db["imports"].find({"district_id": district}).sort("created_at", 1)
                seen = [job async for job in jobs]
                return len(seen) >= 2 and all(j["status"] == "done" for j in seen[:2])

            await eventually(two_syncs_done, timeout=60, what="two scheduled syncs")
    finally:
        await asyncio.to_thread(standin.stop)
    assert [j["sync"]["origin"] for j in seen[:2]] == ["schedule", "schedule"]
    assert [j["mode"] for j in seen[:2]] == ["bulk", "delta"]
    assert seen[0]["by_kind"]["students"]["created"] == 2
    # Never two at once: each was queued after the one before had ended.
    assert seen[1]["created_at"] >= seen[0]["updated_at"]


async def test_a_provider_that_does_not_answer_fails_the_sync_after_a_few_tries(
    local_stack: LocalStack, dev_issuer: DevIssuer, database: Any, standin_dir: Path
) -> None:
    name, _ = database
    district = random_id("d")
    standin = await started(standin_dir, district_roster(district, per_class=1))
    await asyncio.to_thread(standin.stop)  # configured, then gone
    settings = Settings(
        **service_settings(
            local_stack, "data", dev_issuer.issuer, mongo_database=name, import_lease_seconds=1.0
        )
    )
    token = dev_issuer.mint(subject="admin-1", district_id=district, roles=["district_admin"])
    admin = {"Authorization": f"Bearer {token}"}
    async with (
        running_app(build_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        put = await client.put(
            "/v1/district/oneroster-provider", headers=admin, json=provider_body(standin)
        )
        assert put.status_code == 200, put.text
        failed = await sync(client, admin)
    assert failed["status"] == "failed"
    assert failed["error"]["reason"] == "the token URL did not answer: ConnectError (tried 5 times)"


@pytest.fixture
async def database(local_stack: LocalStack) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        local_stack.mongo_url, tz_aware=True
    )
    name = f"test_data_{random_id('sync').replace('-', '_')}"
    try:
        yield name, client[name]
    finally:
        await client.close()


@pytest.mark.timeout(300)
async def test_a_sync_stopped_between_pages_resumes_and_applies_everything_once(
    local_stack: LocalStack, dev_issuer: DevIssuer, database: Any, standin_dir: Path
) -> None:
    name, db = database
    district = random_id("d")
    roster = district_roster(district)
    standin = await started(standin_dir, roster)

    def settings() -> Settings:
        return Settings(
            **service_settings(
                local_stack,
                "data",
                dev_issuer.issuer,
                mongo_database=name,
                import_lease_seconds=2.0,
                roster_sync_page_size=5,
            )
        )

    token = dev_issuer.mint(subject="admin-1", district_id=district, roles=["district_admin"])
    admin = {"Authorization": f"Bearer {token}"}
    try:
        # Sessions, orgs, courses, classes and two pages of users pass; the next one waits.
        await asyncio.to_thread(standin.hold, 6)
        async with (
            running_app(build_app(settings())) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            await client.put(
                "/v1/district/oneroster-provider", headers=admin, json=provider_body(standin)
            )
            posted = await client.post("/v1/roster/syncs", headers=admin)
            assert posted.status_code == 202, posted.text
            sync_id = posted.json()["import_id"]

            async def six_pages() -> bool:
                job = await db["imports"].find_one({"import_id": sync_id})
                return bool(job and job["sync"]["pages_fetched"] == 6)

            await eventually(six_pages, timeout=60, what="six pages fetched")
        # The pod is gone while it waited for the seventh page.
        stopped = await db["imports"].find_one({"import_id": sync_id})
        assert stopped is not None
        assert (stopped["sync"]["collection"], stopped["sync"]["offset"]) == ("users", 10)
        assert stopped["lease"] is not None
        assert await db["students"].count_documents({"district_id": district}) == 0
        await asyncio.to_thread(standin.hold, None)

        async with (
            running_app(build_app(settings())) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            done: dict[str, Any] = {}

            async def finished() -> bool:
                nonlocal done
                answer = await client.get(f"/v1/roster/syncs/{sync_id}", headers=admin)
                done = answer.json()
                return bool(done["status"] in ("done", "failed"))

            await eventually(finished, timeout=120, what="the sync taken over")
    finally:
        await asyncio.to_thread(standin.stop)
    assert done["status"] == "done", done
    job = await db["imports"].find_one({"import_id": sync_id})
    assert job is not None
    assert job["attempts"] == 2
    users = len(roster.students) + len(roster.guardians) + len(roster.teachers)
    enrollments = len(roster.students) + len(roster.classrooms)
    # Every record fetched once: 1 session, 3 orgs, 2 courses, 2 classes, the users, the
    # enrollments (a page kept twice would count twice).
    assert done["sync"]["records_fetched"] == 1 + 3 + 2 + 2 + users + enrollments
    assert done["rejected_count"] == 0, done["rejected"]
    docs = await db["outbox"].find({"district_id": district}, {"type": 1, "headers": 1}).to_list()
    events = collections.Counter((d["type"], d["headers"]["ce_subject"]) for d in docs)
    assert set(events.values()) == {1}
    by_type = collections.Counter(t for t, _ in events)
    assert by_type == {
        "org.aptt.data.school.upserted.v1": len(roster.schools),
        "org.aptt.data.student.upserted.v1": len(roster.students),
        "org.aptt.data.guardian-contact.updated.v1": len(roster.guardians),
        "org.aptt.data.classroom.upserted.v1": len(roster.classrooms),
    }
    assert await db["students"].count_documents({"district_id": district}) == len(roster.students)
    # Nothing of the sync's scratch data is left behind: its pages, its package.
    assert await db["roster_sync_pages"].count_documents({"district_id": district}) == 0
    assert await db["uploads.files"].count_documents({}) == 0
