"""The home-visit coordinator's pages in a real browser, against the real services:
educators opt in, the coordinator invites a class (a random draw, then everyone), records
answers given by phone and on paper, proposes times, approves a pay period and downloads it;
an educator and coordinators of another school or district are refused every page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from aptt_local import demo
from aptt_platform.schoolyear import school_year_of
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, overflows_sideways, signed_in, site_of_its_own


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Its own district: invitations and visits would change other modules' counts."""
    with site_of_its_own(tmp_path_factory) as started:
        yield started


PAIR = ["e-lincoln-1", "e-lincoln-2"]
CLASS = "/school/visits/classes/c-lincoln-3a"
LANGUAGES = ("en", "es", "ar")


def _student(number: int) -> str:
    given, family = demo.FAMILIES[number - 1][:2]
    return f"{given[0]}. Jr {family}"


def _headers(site: Site, subject: str, role: str) -> dict[str, str]:
    token = site.issuer.mint(
        subject=subject,
        district_id=demo.DISTRICT,
        roles=[role],
        school_ids=[] if role == "guardian" else ["sch-lincoln"],
    )
    return {"Authorization": f"Bearer {token}"}


async def _axe(page: Page, url: str) -> None:
    for language in LANGUAGES:
        await page.goto(f"{url}{'&' if '?' in url else '?'}lang={language}")
        assert await accessibility_violations(page) == [], (url, language)
    await page.set_viewport_size({"width": 320, "height": 640})
    assert not await overflows_sideways(page), url
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{url}{'&' if '?' in url else '?'}lang=en")


async def _post_form(page: Page, action: str, fields: dict[str, str]) -> int:
    """Post a form with the page's CSRF token and a fresh one-time token, as a crafted page
    in the browser would."""
    async with page.expect_navigation() as posted:
        await page.evaluate(
            """([action, fields]) => {
                const form = document.createElement("form");
                form.method = "post"; form.action = action;
                const csrf = document.querySelector("input[name=csrf]").value;
                const once = "x".repeat(20) + Math.random().toString(36).slice(2);
                for (const [name, value] of Object.entries({...fields, csrf, once})) {
                    const field = document.createElement("input");
                    field.type = "hidden"; field.name = name; field.value = value;
                    form.appendChild(field);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [action, fields],
        )
    answer = await posted.value
    assert answer is not None
    return answer.status


async def test_educators_opt_in_and_the_coordinator_invites_and_proposes(
    browser: Browser, site: Site
) -> None:
    trained = (date.today() - timedelta(days=20)).isoformat()
    for educator in PAIR:
        context, page = await signed_in(browser, site, educator)
        await page.get_by_label("Day you finished the training").fill(trained)
        await page.get_by_role("button", name="Opt in for").click()
        await expect(page.get_by_role("status")).to_contain_text("You are opted in")
        if educator == PAIR[0]:
            await _axe(page, site.url + "/visits")
        await context.close()

    context, page = await signed_in(browser, site, "demo-principal")
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Home visits: educators, invitations, hours").click()
    educators = page.get_by_role("region", name="Educators opted in")
    for educator in PAIR:
        await expect(educators).to_contain_text(educator)
    await expect(educators).not_to_contain_text("e-lincoln-3")
    await _axe(page, site.url + "/school/visits")

    # A random draw of three, recorded with its seed; then every family left.
    await page.get_by_role("link", name="Grade 3 Room 12").click()
    await page.get_by_label("A random draw of families").check()
    await page.get_by_label("How many families to draw").fill("3")
    await page.get_by_role("button", name="Invite").click()
    notice = page.get_by_role("status")
    await expect(notice).to_contain_text("3 families invited; 0 were already invited.")
    await expect(notice).to_contain_text(f"3 of {len(demo.FAMILIES)} families, seed")
    table = page.get_by_role("region", name="Invitations and answers")
    await expect(table.get_by_role("row").filter(has_text="drawn")).to_have_count(3)
    await page.get_by_label("Every family of the class").check()
    await page.get_by_role("button", name="Invite").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"{len(demo.FAMILIES) - 3} families invited; 3 were already invited."
    )
    await expect(page.get_by_text("Every family of the class is invited.")).to_be_visible()
    await expect(table.get_by_role("row").filter(has_text="Not answered yet")).to_have_count(
        len(demo.FAMILIES)
    )

    # Answers given by phone and on paper.
    for number, channel in ((1, "By phone"), (2, "On paper"), (3, "By phone")):
        await page.get_by_text(f"{_student(number)}: Not answered yet").click()
        form = page.locator("details[open] form")
        await form.get_by_label(channel).check()
        await form.get_by_role("button", name="Record the answer").click()
        await expect(page.get_by_role("status")).to_contain_text("The family's answer is recorded")
    row = table.get_by_role("row").filter(has_text=_student(1))
    await expect(row).to_contain_text("Said yes")
    await expect(row).to_contain_text("by phone")
    await expect(table.get_by_role("row").filter(has_text=_student(2))).to_contain_text("on paper")
    await _axe(page, site.url + CLASS)

    # Two times on the school's clock, to the first family.
    await row.get_by_role("link", name="Propose times").click()
    propose_url = page.url
    await _axe(page, propose_url)
    day = date.today() + timedelta(days=5)
    await page.get_by_label("First time").fill(f"{day.isoformat()}T10:00")
    await page.get_by_label("Second time").fill(f"{(day + timedelta(days=1)).isoformat()}T16:30")
    await page.get_by_role("button", name="Propose these times").click()
    await page.wait_for_url(site.url + "/visits/hv-*")
    proposed = page.locator("dl")
    await expect(proposed).to_contain_text("Times proposed, waiting for the family")
    await expect(proposed).to_contain_text("10:00 AM")
    await expect(proposed).to_contain_text("4:30 PM")
    visit_id = page.url.rsplit("/", 1)[-1]
    await _family_chooses(site, visit_id)

    # The second family: the pair is busy at the time the first family chose; one educator
    # twice is no pair.
    await page.goto(site.url + CLASS)
    await table.get_by_role("row").filter(has_text=_student(2)).get_by_role("link").click()
    await page.get_by_label("First time").fill(f"{day.isoformat()}T10:00")
    await page.get_by_label("Second time").fill(f"{(day + timedelta(days=2)).isoformat()}T09:00")
    await page.get_by_role("button", name="Propose these times").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("An educator of the pair is on another visit")
    await expect(page.get_by_label("First time")).to_have_value(f"{day.isoformat()}T10:00")
    assert await accessibility_violations(page) == []
    await page.get_by_label("Second educator").select_option(PAIR[0])
    await page.get_by_role("button", name="Propose these times").click()
    await expect(page.get_by_role("alert")).to_contain_text("Choose two different educators")
    await context.close()

    await _hours(browser, site, visit_id, day)


async def _family_chooses(site: Site, visit_id: str) -> None:
    """The family takes the first proposed time (its own page, tested elsewhere)."""
    async with httpx.AsyncClient(base_url=site.services["scheduling"], timeout=30) as api:
        visit = (
            await api.get(
                f"/v1/home-visits/{visit_id}", headers=_headers(site, PAIR[0], "educator")
            )
        ).json()
        chosen = await api.post(
            f"/v1/home-visits/{visit_id}/choose",
            json={"starts_at": visit["proposed_times"][0], "place_kind": "library"},
            headers=_headers(site, visit["guardian_id"], "guardian"),
        )
        assert chosen.status_code == 200, chosen.text


async def _hours(browser: Browser, site: Site, visit_id: str, day: date) -> None:
    """The pair records the visit done; the coordinator approves the period and downloads it."""
    async with httpx.AsyncClient(base_url=site.services["scheduling"], timeout=30) as api:
        ended = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        done = await api.post(
            f"/v1/home-visits/{visit_id}/complete",
            json={
                "started_at": (ended - timedelta(minutes=60)).isoformat(),
                "ended_at": ended.isoformat(),
                "travel_minutes": 20,
            },
            headers=_headers(site, PAIR[0], "educator"),
        )
        assert done.status_code == 200, done.text

    context, page = await signed_in(browser, site, "demo-principal")
    await page.goto(site.url + "/school/visits")
    await page.get_by_role("link", name="Home-visit hours for payroll").click()
    today = date.today()
    await page.get_by_label("First day of the pay period").fill(
        (today - timedelta(days=3)).isoformat()
    )
    await page.get_by_label("Last day of the pay period").fill(
        (today + timedelta(days=1)).isoformat()
    )
    await page.get_by_role("button", name="Show").click()
    hours = page.get_by_role("region", name="Home-visit hours")
    for educator in PAIR:
        await expect(hours.get_by_role("row").filter(has_text=educator)).to_contain_text("60")
    await expect(page.get_by_role("link", name="Download the approved hours")).to_have_count(0)
    await _axe(page, page.url.split("&lang=")[0])
    await page.get_by_role("button", name="Approve this pay period").click()
    await expect(page.get_by_role("status")).to_contain_text("The pay period is approved")
    await expect(page.get_by_text("Approved by demo-principal")).to_be_visible()
    await expect(page.get_by_role("button", name="Approve this pay period")).to_have_count(0)
    link = page.get_by_role("link", name="Download the approved hours (CSV)")
    href = await link.get_attribute("href")
    assert href is not None
    csv = await page.request.get(site.url + href)
    assert csv.status == 200
    assert csv.headers["content-type"].startswith("text/csv")
    body = await csv.text()
    assert PAIR[0] in body
    assert PAIR[1] in body
    await context.close()


async def test_educators_and_other_coordinators_are_refused_every_coordinator_page(
    browser: Browser, site: Site
) -> None:
    """After the flow above: the class has invitations, one of them said yes."""
    async with httpx.AsyncClient(base_url=site.services["scheduling"], timeout=30) as api:
        found = await api.get(
            "/v1/classrooms/c-lincoln-3a/visit-invitations",
            params={"school_year": _year()},
            headers=_headers(site, "demo-principal", "school_admin"),
        )
    invitation = next(i for i in found.json()["items"] if i["status"] == "accepted")
    invitation_id, guardian = invitation["invitation_id"], invitation["guardian_ids"][0]
    period = f"school_id=sch-lincoln&first_day={date.today()}&last_day={date.today()}"
    pages = [
        "/school/visits?school_id=sch-lincoln",
        CLASS,
        f"{CLASS}/propose/{invitation_id}",
        f"/school/visits/hours?{period}",
        f"/school/visits/hours.csv?{period}",
    ]
    forms = {
        f"{CLASS}/invitations": {"who": "every"},
        f"{CLASS}/answers/{invitation_id}": {
            "guardian_id": guardian,
            "answer": "no",
            "channel": "phone",
        },
        f"{CLASS}/propose/{invitation_id}": {
            "first": PAIR[0],
            "second": PAIR[1],
            "time-1": f"{date.today() + timedelta(days=9)}T10:00",
            "time-2": f"{date.today() + timedelta(days=10)}T10:00",
        },
        "/school/visits/hours/approvals": {
            "school_id": "sch-lincoln",
            "first_day": str(date.today() - timedelta(days=30)),
            "last_day": str(date.today() - timedelta(days=20)),
        },
    }
    for who in (PAIR[0], "p-garfield", "a-elsewhere"):
        context, page = await signed_in(browser, site, who)
        for path in pages:
            answer = await page.goto(site.url + path)
            assert answer is not None
            assert answer.status == 404, (who, path)
            await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        for action, fields in forms.items():
            await page.goto(site.url + "/")
            assert await _post_form(page, action, fields) == 404, (who, action)
        await context.close()
    # Nothing of theirs changed the class: the family's yes stands.
    async with httpx.AsyncClient(base_url=site.services["scheduling"], timeout=30) as api:
        again = await api.get(
            "/v1/classrooms/c-lincoln-3a/visit-invitations",
            params={"school_year": _year()},
            headers=_headers(site, "demo-principal", "school_admin"),
        )
    still = next(i for i in again.json()["items"] if i["invitation_id"] == invitation_id)
    assert still["status"] == "accepted"


def _year() -> str:
    return school_year_of(date.today())
