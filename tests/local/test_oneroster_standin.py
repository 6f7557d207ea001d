"""The OneRoster 1.2 REST stand-in answers as the binding says a provider does: client
credentials, bearer tokens on every call, limit/offset paging with X-Total-Count, the
dateLastModified delta filter, and a replaced package seen as adds, changes and deletes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from aptt_local.oneroster import Roster, School, Student, build_package
from aptt_local.oneroster_standin import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ROSTERING,
    create_app,
)


def roster(students: int) -> Roster:
    return Roster(
        district_id="d1",
        district_name="Test Unified",
        schools=[School("sch1", "Lincoln Elementary")],
        teachers=[],
        classrooms=[],
        students=[Student(f"s{i}", "Kid", f"K{i}", 3, "sch1") for i in range(students)],
        guardians=[],
        school_year_start=date(2026, 8, 1),
    )


@pytest.fixture
async def provider() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(package=build_package(roster(5)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://provider") as client:
        yield client


async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer"
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_tokens_need_the_client_secret_and_calls_need_a_token(
    provider: httpx.AsyncClient,
) -> None:
    refused = await provider.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(DEFAULT_CLIENT_ID, "wrong")
    )
    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid_client"}
    # The credentials may come as form fields too.
    form = await provider.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
    )
    assert form.status_code == 200
    unauthorised = await provider.get(f"{ROSTERING}/users")
    assert unauthorised.status_code == 401
    assert unauthorised.json()["imsx_codeMajor"] == "failure"
    forged = await provider.get(f"{ROSTERING}/users", headers={"Authorization": "Bearer x"})
    assert forged.status_code == 401


async def test_pages_cover_the_collection_once_with_its_total(
    provider: httpx.AsyncClient,
) -> None:
    headers = await bearer(provider)
    seen: list[str] = []
    for offset in (0, 2, 4):
        page = await provider.get(
            f"{ROSTERING}/users", params={"limit": 2, "offset": offset}, headers=headers
        )
        assert page.headers["X-Total-Count"] == "5"
        seen += [user["sourcedId"] for user in page.json()["users"]]
    assert seen == [f"s{i}" for i in range(5)]
    student = (await provider.get(f"{ROSTERING}/users", headers=headers)).json()["users"][0]
    assert student["roles"][0]["role"] == "student"
    assert student["roles"][0]["org"]["sourcedId"] == "sch1"
    assert student["status"] == "active"


async def test_a_replaced_package_shows_as_a_delta(provider: httpx.AsyncClient) -> None:
    headers = await bearer(provider)
    users = (await provider.get(f"{ROSTERING}/users", headers=headers)).json()["users"]
    since = max(user["dateLastModified"] for user in users)
    changed = roster(5)
    changed = dataclasses.replace(
        changed,
        students=[
            dataclasses.replace(changed.students[0], family_name="Renamed"),
            *changed.students[1:4],  # s4 is gone
            Student("s9", "Kid", "New", 3, "sch1"),
        ],
    )
    replaced = await provider.put("/_standin/package", content=build_package(changed))
    assert replaced.json() == {"added": 1, "changed": 1, "deleted": 1}
    delta = await provider.get(
        f"{ROSTERING}/users",
        params={"filter": f"dateLastModified>'{since}'"},
        headers=headers,
    )
    assert delta.headers["X-Total-Count"] == "3"
    statuses = {user["sourcedId"]: user["status"] for user in delta.json()["users"]}
    assert statuses == {"s0": "active", "s4": "tobedeleted", "s9": "active"}
    bad = await provider.get(
        f"{ROSTERING}/users", params={"filter": "familyName='K1'"}, headers=headers
    )
    assert bad.status_code == 400
