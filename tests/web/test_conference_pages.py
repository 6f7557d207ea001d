"""Conference pages in a real browser: a guardian books all their children back to back,
and a school admin publishes one conference evening for every classroom of the school."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aptt_local import demo
from aptt_local.imports import post_import, wait_for_import
from aptt_local.oneroster import Guardian, build_package
from aptt_local.testing import eventually
from playwright.async_api import Browser, expect

from .conftest import (
    TWO_SCHOOLS_FAMILY,
    Site,
    accessibility_violations,
    overflows_sideways,
    signed_in,
    site_of_its_own,
)

FAMILY = TWO_SCHOOLS_FAMILY.subject
CHILDREN = ["s-c-lincoln-3a-7", "s-c-garfield-2b-7"]
OTHER_CHILD = "s-c-lincoln-3a-4"  # Ben Smith's


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Its own district: it adds a family and conference hours the shared one must not see."""
    with site_of_its_own(tmp_path_factory) as started:
        yield started


def _headers(site: Site, subject: str, role: str, schools: list[str]) -> dict[str, str]:
    token = site.issuer.mint(
        subject=subject, district_id=demo.DISTRICT, roles=[role], school_ids=schools
    )
    return {"Authorization": f"Bearer {token}"}


def _import_the_family(site: Site) -> None:
    """The demo roster again, with one guardian of a child in each school."""
    roster = demo.demo_roster()
    both = Guardian(FAMILY, "Kim", "Park", None, "+14155550199", "en", "parent", CHILDREN)
    roster = dataclasses.replace(roster, guardians=[*roster.guardians, both])
    admin = _headers(site, "demo-admin", "district_admin", [])
    with httpx.Client(timeout=60) as http:
        posted = post_import(
            http,
            site.services["data"],
            admin,
            "roster",
            ("roster.zip", build_package(roster), "application/zip"),
            mode="bulk",
        )
        job = wait_for_import(http, site.services["data"], admin, posted, timeout=300)
        assert job["status"] == "done", job


async def _lincoln_evening(http: httpx.AsyncClient, site: Site) -> dict[str, Any]:
    """The demo's conference hours of Lincoln's classroom (an evening ten days ahead)."""
    teacher = _headers(site, "t-reyes", "teacher", ["sch-lincoln"])
    found = await http.get(
        f"{site.services['scheduling']}/v1/classrooms/c-lincoln-3a/conference-availability",
        headers=teacher,
    )
    found.raise_for_status()
    return dict(found.json()["items"][0])


async def test_a_guardian_books_two_children_back_to_back(browser: Browser, site: Site) -> None:
    await asyncio.to_thread(_import_the_family, site)
    scheduling = site.services["scheduling"]
    async with httpx.AsyncClient(timeout=30) as http:
        lincoln = await _lincoln_evening(http, site)
        zone = lincoln["timezone"]
        day = datetime.fromisoformat(lincoln["slots"][0]["starts_at"]).astimezone(ZoneInfo(zone))
        # Garfield's teacher offers the same evening: the children's teachers are in two
        # buildings.
        garfield = await http.post(
            f"{scheduling}/v1/conference-availability",
            headers=_headers(site, "t-okafor", "teacher", ["sch-garfield"]),
            json={
                "classroom_id": "c-garfield-2b",
                "days": [{"day": day.date().isoformat(), "starts": "16:00", "ends": "18:00"}],
                "place": "Room 4",
                "slot_minutes": 15,
                "signup_opens_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            },
        )
        assert garfield.status_code == 201, garfield.text
        family = _headers(site, FAMILY, "guardian", [])

        async def scheduling_knows_the_family() -> bool:
            answer = await http.get(
                f"{scheduling}/v1/classrooms/c-garfield-2b/conference-availability",
                headers=family,
            )
            return answer.status_code == 200

        await eventually(scheduling_knows_the_family, timeout=120, what="the family's roster")

    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.get_by_role("link", name="Book all my children one after another").click()
    await expect(
        page.get_by_role("heading", name="All my children, one after another")
    ).to_be_visible()
    assert await accessibility_violations(page) == []
    assert not await overflows_sideways(page)

    # Another family's child slipped into the form: "Not found", nothing held.
    await page.locator("input[name='student_id']").first.evaluate(
        f"box => box.value = '{OTHER_CHILD}'"
    )
    async with page.expect_response(lambda r: r.request.method == "POST") as refused:
        await page.get_by_role("button", name="Find times one after another").click()
    assert (await refused.value).status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()

    async def propose() -> list[str]:
        await page.goto(site.url + "/family/conferences/together")
        await page.get_by_label("Day").fill(day.date().isoformat())
        await page.get_by_label("From").fill("16:00")
        await page.get_by_label("To", exact=True).fill("18:00")
        await page.get_by_role("button", name="Find times one after another").click()
        await expect(
            page.get_by_role("heading", name="These times are held for you until")
        ).to_be_visible()
        planned = page.locator("ol.list > li")
        await expect(planned).to_have_count(2)
        return [t.split("\n")[0].strip() for t in await planned.all_inner_texts()]

    # A range with no time: said in plain words, with the nearest times that fit.
    await page.goto(site.url + "/family/conferences/together")
    await page.get_by_label("Day").fill(day.date().isoformat())
    await page.get_by_label("From").fill("06:00")
    await page.get_by_label("To", exact=True).fill("07:00")
    await page.get_by_role("button", name="Find times one after another").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "A teacher has no free time left in this range"
    )
    nearest = page.get_by_role("region", name="Times that fit, near what you asked")
    await expect(nearest.get_by_role("listitem").first).to_contain_text("→")
    assert await accessibility_violations(page) == []

    await propose()
    assert await accessibility_violations(page) == []
    # Another family's child in the booking form: "Not found", nothing booked.
    await page.locator("form[action$='/booking'] input[name='student_id']").first.evaluate(
        f"field => field.value = '{OTHER_CHILD}'"
    )
    await page.get_by_role("button", name="Book all these times").click()
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()

    # The page in Spanish and Arabic (right to left), as a family's phone shows it.
    for language in ("es", "ar"):
        await page.goto(f"{site.url}/family/conferences/together?lang={language}")
        assert await page.get_attribute("html", "lang") == language
        assert await accessibility_violations(page) == []
        assert not await overflows_sideways(page)
    await page.goto(f"{site.url}/?lang=en")
    times = await propose()
    await page.get_by_role("button", name="Book all these times").click()
    await expect(page.get_by_role("status")).to_contain_text("Your conferences are booked")
    mine = page.get_by_role("listitem").filter(has_text="Cancel this conference")
    await expect(mine).to_have_count(2)
    for when in times:
        await expect(mine.filter(has_text=when)).to_have_count(1)
    await context.close()

    async with httpx.AsyncClient(timeout=30) as http:
        booked = await http.get(
            f"{scheduling}/v1/me/conference-bookings",
            headers=_headers(site, FAMILY, "guardian", []),
        )
    items = sorted(booked.json()["items"], key=lambda b: b["starts_at"])
    assert sorted(b["student_id"] for b in items) == sorted(CHILDREN)
    # Back to back: the second conference starts as the first ends.
    assert items[0]["ends_at"] == items[1]["starts_at"]
    assert {b["school_id"] for b in items} == {"sch-lincoln", "sch-garfield"}


async def test_a_school_admin_publishes_an_evening_for_every_classroom(
    browser: Browser, site: Site
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        lincoln = await _lincoln_evening(http, site)
    zone = ZoneInfo(lincoln["timezone"])
    day = (datetime.fromisoformat(lincoln["slots"][0]["starts_at"]).astimezone(zone)).date()
    evening = (day + timedelta(days=1)).isoformat()

    context, page = await signed_in(browser, site, "demo-principal")
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Conference evenings").click()
    await page.get_by_role("link", name="Lincoln Elementary").click()
    await expect(page.get_by_role("heading", name="Conference evenings: Lincoln")).to_be_visible()
    await page.get_by_label("Conference date").fill(evening)
    await page.get_by_label("From").fill("17:00")
    await page.get_by_label("To", exact=True).fill("18:00")
    await page.get_by_label("Minutes for each family").fill("20")
    await page.get_by_role("button", name="Publish the evening").click()
    await expect(page.get_by_role("status")).to_contain_text("Classrooms: 1")
    # What was created: the classroom's evening, three times of twenty minutes, in the
    # teacher's room (the classroom's own name).
    created = page.get_by_role("region", name="Conference hours of each classroom")
    await expect(created.locator("li li").filter(has_text="3 times, 0 booked")).to_contain_text(
        "Grade 3 Room 12"
    )
    assert await accessibility_violations(page) == []
    assert not await overflows_sideways(page)

    # The same hours again: refused in plain words, nothing published twice.
    await page.get_by_label("Conference date").fill(evening)
    await page.get_by_label("From").fill("17:00")
    await page.get_by_label("To", exact=True).fill("18:00")
    await page.get_by_label("Minutes for each family").fill("20")
    await page.get_by_role("button", name="Publish the evening").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "A classroom already has conference hours at that time"
    )
    assert await accessibility_violations(page) == []
    await context.close()

    # A family of the classroom sees the evening's times.
    family, page = await signed_in(browser, site, "g-c-lincoln-3a-4", phone=True)
    await expect(page.get_by_role("link", name="Book a conference")).to_have_count(2)
    async with httpx.AsyncClient(timeout=30) as http:
        listed = await http.get(
            f"{site.services['scheduling']}/v1/classrooms/c-lincoln-3a/conference-availability",
            headers=_headers(site, "t-reyes", "teacher", ["sch-lincoln"]),
        )
    new = next(a for a in listed.json()["items"] if a["slot_minutes"] == 20)
    await page.goto(f"{site.url}/family/conferences/{new['availability_id']}/s-c-lincoln-3a-4")
    await expect(page.locator("input[name='slot_id']")).to_have_count(3)
    await family.close()

    # An admin of another school, and a teacher: "Not found".
    for who in ("p-garfield", "t-reyes"):
        other, page = await signed_in(browser, site, who)
        answer = await page.goto(site.url + "/school/conference-evenings/sch-lincoln")
        assert answer is not None
        assert answer.status == 404
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        await other.close()
