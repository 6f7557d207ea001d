"""Educators' home-visit pages in a real browser: the pair records a visit and its
reflection; another educator, and the family itself, are refused the pair's pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aptt_local import demo
from aptt_platform.schoolyear import school_year_of
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, overflows_sideways, signed_in, site_of_its_own


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Its own district: the coverage counts invitations and visits that other modules would
    add to the shared one."""
    with site_of_its_own(tmp_path_factory) as started:
        yield started


PAIR = ["e-lincoln-1", "e-lincoln-2"]
OUTSIDER = "e-lincoln-3"  # an educator of the same school, not on the visit
FAMILY = "g-c-lincoln-3a-4"
CHILD = "s-c-lincoln-3a-4"
OTHER_FAMILY = "g-c-lincoln-3a-2"


def _headers(site: Site, subject: str, role: str) -> dict[str, str]:
    token = site.issuer.mint(
        subject=subject,
        district_id=demo.DISTRICT,
        roles=[role],
        school_ids=[] if role == "guardian" else ["sch-lincoln"],
    )
    return {"Authorization": f"Bearer {token}"}


async def _visits(site: Site) -> dict[str, str]:
    """Through the scheduling API: the pair opts in, the class is invited, two families say
    yes; one visit is scheduled at a library, the other waits for the family's choice."""
    year = school_year_of(date.today())
    soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    made: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=site.services["scheduling"], timeout=30) as api:
        for educator in [*PAIR, OUTSIDER]:
            opted = await api.post(
                "/v1/schools/sch-lincoln/visit-educators",
                json={
                    "school_year": year,
                    "trained_on": (date.today() - timedelta(days=30)).isoformat(),
                },
                headers=_headers(site, educator, "educator"),
            )
            assert opted.status_code == 201, opted.text
        invited = await api.post(
            "/v1/classrooms/c-lincoln-3a/visit-invitations",
            json={"school_year": year},
            headers=_headers(site, "demo-principal", "school_admin"),
        )
        assert invited.status_code == 201, invited.text
        by_child = {i["student_id"]: i for i in invited.json()["invited"]}
        for guardian, days, key in ((FAMILY, (3, 4), "scheduled"), (OTHER_FAMILY, (6, 7), "open")):
            invitation = by_child[guardian.replace("g-", "s-", 1)]
            said = await api.put(
                f"/v1/visit-invitations/{invitation['invitation_id']}/answer",
                json={"answer": "yes"},
                headers=_headers(site, guardian, "guardian"),
            )
            assert said.status_code == 200, said.text
            times = [(soon + timedelta(days=d, hours=1)).isoformat() for d in days]
            proposed = await api.post(
                "/v1/home-visits",
                json={
                    "invitation_id": invitation["invitation_id"],
                    "educator_ids": PAIR,
                    "times": times,
                    "duration_minutes": 60,
                },
                headers=_headers(site, PAIR[0], "educator"),
            )
            assert proposed.status_code == 201, proposed.text
            made[key] = proposed.json()["visit_id"]
            if key == "scheduled":
                chosen = await api.post(
                    f"/v1/home-visits/{made[key]}/choose",
                    json={"starts_at": times[0], "place_kind": "library"},
                    headers=_headers(site, guardian, "guardian"),
                )
                assert chosen.status_code == 200, chosen.text
    return made


async def _post_form(page: Page, action: str, fields: dict[str, str]) -> Any:
    """Post a form with the page's own CSRF token, as a crafted page in the browser would."""
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.evaluate(
            """([action, fields]) => {
                const form = document.createElement("form");
                form.method = "post"; form.action = action;
                const csrf = document.querySelector("input[name=csrf]").value;
                for (const [name, value] of Object.entries({...fields, csrf})) {
                    const field = document.createElement("input");
                    field.type = "hidden"; field.name = name; field.value = value;
                    form.appendChild(field);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [action, fields],
        )
    return await posted.value


async def test_the_pair_records_a_visit_and_its_reflection_and_others_are_refused(
    browser: Browser, site: Site
) -> None:
    made = await _visits(site)
    context, page = await signed_in(browser, site, PAIR[0])
    await expect(page.get_by_role("heading", name="My home visits")).to_be_visible()
    coming = page.get_by_role("region", name="Coming up")
    row = coming.get_by_role("row").filter(has_text=CHILD)
    await expect(row).to_contain_text(PAIR[1])
    await expect(row).to_contain_text("At a library")
    await expect(row).to_contain_text("Scheduled")
    await expect(coming.get_by_role("row").filter(has_text="waiting for the family")).to_have_count(
        1
    )
    for language in ("en", "es", "ar"):
        await page.goto(f"{site.url}/visits?lang={language}")
        assert await accessibility_violations(page) == [], language
    await page.goto(f"{site.url}/visits?lang=en")

    await row.get_by_role("link").click()
    visit_page = f"{site.url}/visits/{made['scheduled']}"
    await page.wait_for_url(visit_page)
    for language in ("es", "ar", "en"):
        await page.goto(f"{visit_page}?lang={language}")
        assert await accessibility_violations(page) == [], language
    # A phone's 320 px: the tables scroll in their own region, the page never sideways.
    for path in ("/visits", f"/visits/{made['scheduled']}"):
        await page.set_viewport_size({"width": 320, "height": 640})
        await page.goto(site.url + path)
        assert not await overflows_sideways(page), path
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.get_by_label("Travel (minutes)").fill("20")
    await page.get_by_role("button", name="Record the visit as done").click()
    await expect(page.get_by_role("status")).to_contain_text("recorded as done")
    await expect(page.locator("dl")).to_contain_text("Took place")
    await page.get_by_label("What we learned about the family's hopes and dreams").fill(
        "Ben wants his son to love reading and to become a vet."
    )
    await page.get_by_label("What we will do in class").fill("Animal books in the reading corner")
    await page.get_by_label("The follow-up we promised").fill("A call after the team meeting")
    await page.get_by_role("button", name="Save the reflection").click()
    await expect(page.get_by_role("status")).to_contain_text("Your reflection is saved")
    await page.reload()
    await expect(page.get_by_label("What we will do in class")).to_have_value(
        "Animal books in the reading corner"
    )
    # A contact between the visits, logged on the visit before it.
    await page.get_by_label("How we kept in touch").select_option("call")
    await page.get_by_role("button", name="Log the contact").click()
    await expect(page.get_by_role("status")).to_contain_text("The contact is logged")
    await expect(page.locator("main ul.list")).to_contain_text("A phone call")
    assert await accessibility_violations(page) == []

    # A visit still waiting for the family's time: the pair cancels it, with a reason.
    await page.goto(f"{site.url}/visits/{made['open']}")
    await page.get_by_text("Cancel the visit").first.click()
    await page.get_by_label("Why").select_option("illness")
    await page.locator("form[action$='/cancel'] button").click()
    await expect(page.get_by_role("status")).to_contain_text("The visit is cancelled")
    await expect(page.locator("dl")).to_contain_text("Illness")
    await page.goto(site.url + "/visits")
    past = page.get_by_role("region", name="Past visits")
    await expect(past.get_by_role("row").filter(has_text=CHILD)).to_contain_text("Took place")
    await expect(past.get_by_role("row").filter(has_text="Cancelled")).to_have_count(1)
    await context.close()

    # The school's coordinator reads the visit and the reflection, without writing it.
    context, page = await signed_in(browser, site, "demo-principal")
    await page.goto(visit_page)
    await expect(page.locator("main")).to_contain_text("Animal books in the reading corner")
    await expect(page.get_by_role("button", name="Save the reflection")).to_have_count(0)
    await context.close()

    # Another educator of the school, not on the visit: neither the page nor its actions.
    context, page = await signed_in(browser, site, OUTSIDER)
    await expect(page.get_by_text("No visit coming up.")).to_be_visible()
    answer = await page.goto(visit_page)
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    posted = await _post_form(page, f"/visits/{made['scheduled']}/reflection", {"notes": "x"})
    assert posted.status == 404
    await context.close()

    # The family itself reaches its visit on its own pages, never the educators' ones.
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    for path in ("/visits", f"/visits/{made['scheduled']}"):
        answer = await page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 404, path
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await context.close()


async def test_the_coordinator_reads_each_class_coverage_in_plain_words(
    browser: Browser, site: Site
) -> None:
    """After the pair's visit above: one family of the class visited, two said yes."""
    context, page = await signed_in(browser, site, "demo-principal")
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Home-visit coverage").click()
    await page.get_by_label("Skill").select_option("orf")
    await page.get_by_role("button", name="Show").click()
    row = page.get_by_role("row").filter(has_text="Grade 3 Room 12")
    cells = await row.get_by_role("cell").all_inner_texts()
    families, invited, said_yes, once, twice, pattern = cells
    assert int(families) > 2
    assert (invited, said_yes, once, twice) == (families, "2", "1", "0")
    # One visited family is too few to compare with the class without singling it out.
    assert pattern.startswith("Too few students with results to compare")
    for language in ("en", "es", "ar"):
        await page.goto(f"{site.url}/school/visit-coverage?skill_code=orf&lang={language}")
        assert await accessibility_violations(page) == [], language
    await context.close()

    # The coverage is the coordinators'; an educator's page for it is "not found".
    context, page = await signed_in(browser, site, PAIR[0])
    answer = await page.goto(site.url + "/school/visit-coverage")
    assert answer is not None
    assert answer.status == 404
    await context.close()
