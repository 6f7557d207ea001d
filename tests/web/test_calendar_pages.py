"""School staff's pages for family events and engagement calendars, in a real browser."""

from __future__ import annotations

import csv
from datetime import date

import httpx
import pytest
from aptt_local import demo
from aptt_platform.schoolyear import school_year_of
from aptt_web.i18n import CATALOGUES
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, signed_in

PRINCIPAL = "demo-principal"  # school admin of Lincoln
FAMILY = "g-c-lincoln-3a-4"
TEACHER = "t-reyes"
THIS_YEAR = school_year_of(date.today())
NEXT_YEAR = f"{int(THIS_YEAR[:4]) + 1}-{int(THIS_YEAR[:4]) + 2}"


def _(message: str, language: str = "en") -> str:
    CATALOGUES.load()
    return CATALOGUES.gettext(message, language)


async def _csrf(page: Page) -> str:
    token = await page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    return token


def _scheduling(site: Site) -> httpx.Client:
    """Scheduling's API as the demo's district admin."""
    token = site.issuer.mint(
        subject="demo-admin", district_id=demo.DISTRICT, roles=["district_admin"]
    )
    return httpx.Client(
        base_url=site.services["scheduling"], headers={"Authorization": f"Bearer {token}"}
    )


def _garfield_event(site: Site, title: str) -> str:
    """An event of Garfield, recorded by the district admin through scheduling's API."""
    answer = _scheduling(site).post(
        "/v1/schools/sch-garfield/family-events",
        json={"title": title, "kind": "concert", "learning_linked": False, "on": str(date.today())},
    )
    answer.raise_for_status()
    return str(answer.json()["family_event_id"])


async def test_a_principal_records_an_event_and_its_turnout_and_sees_it_in_the_year(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school/events")
    await page.get_by_role("link", name="The school's events, and record one").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Lincoln Elementary")
    await page.get_by_label("Name of the event").fill("Family reading night")
    await page.get_by_label("Date").fill(str(date.today()))
    await page.get_by_label("Kind of event").select_option("literacy-night")
    await page.get_by_label("Yes, linked to learning").check()
    await page.get_by_role("button", name="Record the event").click()
    await expect(page.get_by_role("status")).to_contain_text("The event is recorded.")
    row = page.get_by_role("row").filter(has_text="Family reading night")
    await expect(row).to_contain_text("Yes")

    await row.get_by_role("link", name="Record the turnout").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Family reading night")
    await page.get_by_label("Families who came").fill("14")
    await page.get_by_label("Mothers").fill("10")
    await page.get_by_label("Fathers").fill("7")
    await page.get_by_role("button", name="Record the turnout").click()
    await expect(page.get_by_role("status")).to_contain_text("The turnout is recorded.")
    row = page.get_by_role("row").filter(has_text="Family reading night")
    await expect(row).to_contain_text("14")
    await expect(row.get_by_role("link", name="Change the turnout")).to_be_visible()

    # The consolidated year, as the school downloads it, holds the event and its families.
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download as CSV").click()
    path = await (await download.value).path()
    with open(path, newline="", encoding="utf-8") as file:  # noqa: ASYNC230
        rows = [r for r in csv.DictReader(file) if "Family reading night" in r.values()]
    assert len(rows) == 1
    assert "14" in rows[0].values()

    # Changing the turnout later shows what was recorded.
    await page.get_by_role("link", name="Change the turnout").click()
    await expect(page.get_by_label("Families who came")).to_have_value("14")
    await expect(page.get_by_label("Fathers")).to_have_value("7")
    await context.close()


@pytest.mark.parametrize("language", ["en", "es", "ar"])
async def test_an_empty_name_and_a_date_that_does_not_exist_show_on_the_form(
    browser: Browser, site: Site, language: str
) -> None:
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(f"{site.url}/school/events/sch-lincoln?lang={language}")
    await page.locator("#ev-title").fill("   ")
    # A browser without a date picker sends what was typed.
    await page.locator("#ev-on").evaluate("field => { field.type = 'text'; }")
    await page.locator("#ev-on").fill("2026-02-30")
    await page.locator("#ev-kind").select_option("math-night")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.locator("form[method=post][action='/school/events/sch-lincoln'] button").click()
    assert (await posted.value).status == 422
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text(_("Please check the form", language))
    for field, message in (
        ("#ev-title", "Give the event a name (up to 120 characters)."),
        ("#ev-on", "Give a date that exists, for example 2026-10-14."),
    ):
        described = await page.locator(field).get_attribute("aria-describedby")
        await expect(page.locator(f"#{described}")).to_have_text(_(message, language))
        assert await page.locator(field).get_attribute("aria-invalid") == "true"
    await expect(summary).to_contain_text(
        _("Say whether the event is linked to learning.", language)
    )
    # What was typed comes back to correct (a date picker shows an impossible date empty).
    assert await page.locator("#ev-on").get_attribute("value") == "2026-02-30"
    await expect(page.locator("#ev-kind")).to_have_value("math-night")
    assert await accessibility_violations(page) == []
    await context.close()


async def test_a_turnout_with_fewer_guardians_than_families_is_refused_on_the_form(
    browser: Browser, site: Site
) -> None:
    event_id = _garfield_event(site, "Winter concert")
    context, page = await signed_in(browser, site, "demo-admin", locale="es-ES")
    await page.goto(f"{site.url}/school/events/sch-garfield/{event_id}?lang=es")
    await page.locator("#families").fill("12")
    await page.locator("#counted-mother").fill("5")
    record = page.get_by_role("button", name=_("Record the turnout", "es"))
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await record.click()
    assert (await posted.value).status == 422
    await expect(page.get_by_role("alert")).to_contain_text(
        _(
            "The guardians counted add up to fewer than the families who came: "
            "every family sends at least one.",
            "es",
        )
    )
    await expect(page.locator("#families")).to_have_value("12")
    await expect(page.locator("#counted-mother")).to_have_value("5")
    await page.locator("#families").fill("many")
    await page.locator("#counted-mother").fill("")
    await record.click()
    await expect(page.locator("#families-error")).to_have_text(
        _("Give the number of families who came: a whole number, 0 or more.", "es")
    )
    assert await accessibility_violations(page) == []
    await context.close()


async def test_a_principal_applies_a_template_for_next_year_and_reads_its_windows(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Engagement calendars").click()
    await page.get_by_role("link", name="Lincoln Elementary").click()
    # The demo gave the school this year's calendar: its conference window is listed.
    this_year = page.get_by_role("region", name=f"School year {THIS_YEAR}", exact=True)
    await expect(this_year).to_contain_text("Demo conferences")
    await expect(
        this_year.get_by_role("cell", name="One-to-one conferences", exact=True)
    ).to_be_visible()

    # Another template for the same year is refused, with the choice kept.
    await page.get_by_label("Oakland: five touch points").check()
    await page.get_by_label("School year", exact=True).select_option(THIS_YEAR)
    await page.get_by_role("button", name="Apply the template").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "The school already follows another calendar in that school year."
    )
    await expect(page.get_by_label("Oakland: five touch points")).to_be_checked()

    await page.get_by_label("School year", exact=True).select_option(NEXT_YEAR)
    await page.get_by_role("button", name="Apply the template").click()
    await expect(page.get_by_role("status")).to_contain_text("The calendar is applied")
    await expect(page.get_by_role("heading", name=f"School year {NEXT_YEAR}")).to_be_visible()
    next_year = page.get_by_role("region", name=f"School year {NEXT_YEAR}", exact=True)
    await expect(next_year).to_contain_text("Oakland: five touch points")
    reading = next_year.get_by_role("row").filter(has_text="Reading team meeting")
    first_year = NEXT_YEAR[:4]
    await expect(reading.get_by_role("cell").first).to_have_text(f"Oct 1 \u2013 31, {first_year}")
    await expect(reading.get_by_role("cell").nth(2)).to_have_text("75")

    # The same template again duplicates nothing.
    await page.get_by_label("Oakland: five touch points").check()
    await page.get_by_label("School year", exact=True).select_option(NEXT_YEAR)
    await page.get_by_role("button", name="Apply the template").click()
    await expect(page.get_by_role("status")).to_contain_text("already had this calendar")
    await expect(page.get_by_role("heading", name=f"School year {NEXT_YEAR}")).to_have_count(1)
    assert await accessibility_violations(page) == []
    await context.close()


async def test_staff_of_another_school_or_district_are_refused_that_schools_pages(
    browser: Browser, site: Site
) -> None:
    event_id = _garfield_event(site, "Spring fair")
    for who in (PRINCIPAL, "a-elsewhere"):
        context, page = await signed_in(browser, site, who)
        for path in (
            "/school/events/sch-garfield",
            f"/school/events/sch-garfield/{event_id}",
            f"/school/events/sch-lincoln/{event_id}",  # Garfield's event under Lincoln
            "/school/calendars/sch-garfield",
        ):
            answer = await page.goto(site.url + path)
            assert answer is not None
            assert answer.status == 404, (who, path)
        await page.goto(site.url + "/school/events")
        csrf = await _csrf(page)
        posts = {
            "/school/events/sch-garfield": {
                "once": "a-fresh-one-time-token-of-this-page",
                "title": "Not ours",
                "kind": "other",
                "learning_linked": "no",
                "on": str(date.today()),
            },
            f"/school/events/sch-garfield/{event_id}/turnout": {"families_attending": "3"},
            "/school/calendars/sch-garfield": {
                "template_id": "builtin-oakland",
                "school_year": NEXT_YEAR,
            },
        }
        for path, form in posts.items():
            answer = await page.request.post(site.url + path, form={"csrf": csrf, **form})
            assert answer.status == 404, (who, path)
        await context.close()

    # Nothing of theirs reached Garfield's year.
    events = _scheduling(site).get(
        "/v1/schools/sch-garfield/family-events", params={"school_year": THIS_YEAR}
    )
    by_title = {e["title"]: e for e in events.json()["items"]}
    assert "Not ours" not in by_title
    assert by_title["Spring fair"]["families_attending"] is None
    context, page = await signed_in(browser, site, "demo-admin")
    await page.goto(site.url + "/school/calendars/sch-garfield")
    await expect(page.get_by_role("heading", name=f"School year {NEXT_YEAR}")).to_have_count(0)
    await context.close()


async def test_a_guardian_or_a_teacher_cannot_open_these_pages(
    browser: Browser, site: Site
) -> None:
    for who in (FAMILY, TEACHER):
        context, page = await signed_in(browser, site, who)
        for path in (
            "/school/events/sch-lincoln",
            "/school/calendars",
            "/school/calendars/sch-lincoln",
        ):
            answer = await page.goto(site.url + path)
            assert answer is not None
            assert answer.status == 404, (who, path)
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        await context.close()


async def test_in_arabic_the_school_year_is_isolated_from_the_right_to_left_text(
    browser: Browser, site: Site
) -> None:
    """Inside right-to-left text a bare 2026-2027 can read as 2027-2026: every page that
    names the school year sets it apart as a left-to-right `bdi` (the `ltr` filter), the
    coordinator's and the educator's home-visit pages as much as the outcome pages."""
    pages = {
        PRINCIPAL: (
            "/school/events",
            "/school/events/sch-lincoln",
            "/school/calendars/sch-lincoln",
            "/school/outcomes",
            "/school/goals/sch-lincoln",
            "/school/reach/sch-lincoln",
            "/school/visits",
            "/school/visits/classes/c-lincoln-3a",
        ),
        "e-lincoln-3": ("/visits",),
    }
    for who, paths in pages.items():
        context, page = await signed_in(browser, site, who)
        for path in paths:
            answer = await page.goto(f"{site.url}{path}?lang=ar")
            assert answer is not None
            assert answer.status == 200, path
            assert await page.locator("html").get_attribute("dir") == "rtl"
            years = page.locator("main bdi[dir=ltr]", has_text=THIS_YEAR)
            assert await years.count() >= 1, path
            # Laid out left to right, in order, inside the right-to-left page.
            direction = await years.first.evaluate("e => getComputedStyle(e).direction")
            assert (direction, (await years.first.inner_text()).strip()) == ("ltr", THIS_YEAR)
        await context.close()


async def test_the_same_event_form_posted_twice_records_one_event(
    browser: Browser, site: Site
) -> None:
    """A second tap on the button, or the browser resubmitting, sends the same page's form
    again: the second POST goes where the first went, and the year holds one event."""
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school/events/sch-lincoln")
    once = await page.locator("input[name=once]").first.get_attribute("value")
    assert once
    form = {
        "csrf": await _csrf(page),
        "once": once,
        "year": THIS_YEAR,
        "title": "Math games evening, posted twice",
        "kind": "literacy-night",
        "on": str(date.today()),
        "learning_linked": "yes",
    }
    places = []
    for _attempt in range(2):
        answer = await page.request.post(
            site.url + "/school/events/sch-lincoln", form=form, max_redirects=0
        )
        assert answer.status == 303, await answer.text()
        places.append(answer.headers["location"])
    assert places[0] == places[1]
    await page.goto(site.url + "/school/events/sch-lincoln")
    rows = page.get_by_role("row").filter(has_text="Math games evening, posted twice")
    await expect(rows).to_have_count(1)
    # The next page's form has a new token: the principal can record another event.
    assert await page.locator("input[name=once]").first.get_attribute("value") != once
    await context.close()
