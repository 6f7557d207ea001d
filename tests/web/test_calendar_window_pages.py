"""Changing a window of a school's calendar, and a teacher reading it, in a real browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, signed_in
from .test_calendar_pages import NEXT_YEAR, PRINCIPAL, TEACHER, _, _csrf, _scheduling

FIRST = NEXT_YEAR[:4]


def _next_years_calendar(site: Site) -> str:
    """Lincoln's calendar of next school year (the built-in Oakland one), applied if need be."""
    answer = _scheduling(site).post(
        "/v1/schools/sch-lincoln/engagement-calendars",
        json={"template_id": "builtin-oakland", "school_year": NEXT_YEAR},
    )
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["calendar_id"])


async def _reading_window(page: Page, site: Site, language: str = "en") -> None:
    await page.goto(f"{site.url}/school/calendars/sch-lincoln?lang={language}")
    next_year = page.get_by_role("region", name=f"{_('Meeting windows', language)} {NEXT_YEAR}")
    row = next_year.get_by_role("row").filter(has_text="Reading team meeting")
    await row.get_by_role("link").click()


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_principal_moves_a_window_and_a_wrong_date_reads_on_the_form(
    browser: Browser, site: Site, language: str
) -> None:
    _next_years_calendar(site)
    context, page = await signed_in(browser, site, PRINCIPAL)
    await _reading_window(page, site, language)
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Reading team meeting")
    first, last = page.locator("#win-starts"), page.locator("#win-ends")
    assert (await first.input_value()).startswith(f"{FIRST}-10-")

    await first.fill(f"{FIRST}-10-20")
    await last.fill(f"{FIRST}-10-10")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.get_by_role("button", name=_("Save the dates", language)).click()
    assert (await posted.value).status == 422
    await expect(page.get_by_role("alert")).to_contain_text(
        _("The last day cannot come before the first day.", language)
    )
    assert await last.get_attribute("aria-invalid") == "true"
    await expect(first).to_have_value(f"{FIRST}-10-20")
    assert await accessibility_violations(page) == []

    await first.fill(f"{FIRST}-10-05")
    await last.fill(f"{FIRST}-11-20")
    await page.get_by_role("button", name=_("Save the dates", language)).click()
    await expect(page.get_by_role("status")).to_contain_text(
        _("The window's new dates are saved for every classroom of the school.", language)
    )
    row = page.get_by_role("row").filter(has_text="Reading team meeting")
    cell = row.get_by_role("cell").first
    await expect(cell).to_contain_text(FIRST)
    assert "20" in (await cell.inner_text())
    await context.close()


async def test_a_window_over_another_of_its_kind_is_refused_on_the_form(
    browser: Browser, site: Site
) -> None:
    _next_years_calendar(site)
    context, page = await signed_in(browser, site, PRINCIPAL)
    await _reading_window(page, site)
    await page.locator("#win-starts").fill(f"{FIRST}-10-01")
    await page.locator("#win-ends").fill(f"{int(FIRST) + 1}-02-15")  # into the math meeting
    await page.get_by_role("button", name="Save the dates").click()
    await expect(page.locator("#win-starts-error")).to_have_text(
        "These dates overlap another window of the same kind."
    )
    await context.close()


async def test_a_teacher_reads_the_schools_calendar_from_teach_and_cannot_change_it(
    browser: Browser, site: Site
) -> None:
    calendar_id = _next_years_calendar(site)
    context, page = await signed_in(browser, site, TEACHER)
    await page.goto(site.url + "/teach")
    await page.get_by_role("link", name="School calendar: Lincoln Elementary").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Lincoln Elementary")
    next_year = page.get_by_role("region", name=f"Meeting windows {NEXT_YEAR}")
    reading = next_year.get_by_role("row").filter(has_text="Reading team meeting")
    await expect(reading).to_contain_text("Grade 3 Room 12")
    await expect(page.get_by_role("link", name="Change the dates")).to_have_count(0)
    assert await accessibility_violations(page) == []

    edit = f"/school/calendars/sch-lincoln/{calendar_id}/windows/2"
    answer = await page.goto(site.url + edit)
    assert answer is not None
    assert answer.status == 404
    await page.goto(site.url + "/teach")
    refused = await page.request.post(
        site.url + edit,
        form={
            "csrf": await _csrf(page),
            "starts_on": f"{FIRST}-10-02",
            "ends_on": f"{FIRST}-10-30",
        },
    )
    assert refused.status == 404  # the site's "not found" for what the user may not reach
    await context.close()
    windows = _scheduling(site).get(
        f"/v1/schools/sch-lincoln/engagement-calendars/{calendar_id}/windows"
    )
    assert windows.json()["items"][1]["starts_on"] != f"{FIRST}-10-02"

    # A teacher of another school reads nothing of Lincoln's calendar.
    context, page = await signed_in(browser, site, "t-okafor")
    answer = await page.goto(site.url + "/teach/calendars/sch-lincoln")
    assert answer is not None
    assert answer.status == 404
    await page.goto(site.url + "/teach")
    await expect(
        page.get_by_role("link", name="School calendar: Garfield Elementary")
    ).to_be_visible()
    await context.close()
