"""Outcome pages for another school year, and their CSV downloads through the web."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
from aptt_local import demo
from aptt_platform.schoolyear import school_year_of
from playwright.async_api import Browser, expect

from .conftest import Site, accessibility_violations, signed_in
from .test_outcome_pages import PRINCIPAL, _data, _fig

THIS_YEAR = school_year_of(date.today())
LAST_YEAR = f"{int(THIS_YEAR[:4]) - 1}-{THIS_YEAR[:4]}"


def _lincoln_csv(site: Site, year: str) -> str:
    token = site.issuer.mint(
        subject=PRINCIPAL,
        district_id=demo.DISTRICT,
        roles=["school_admin"],
        school_ids=["sch-lincoln"],
    )
    found = httpx.get(
        site.services["data"] + "/v1/schools/sch-lincoln/outcomes/attendance.csv",
        params={"school_year": year},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert found.status_code == 200, found.text
    return found.text


async def test_a_principal_chooses_last_school_year_and_downloads_its_attendance(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school/outcomes")
    await expect(page.get_by_label("School year")).to_have_value(THIS_YEAR)
    await page.get_by_label("School year").select_option(LAST_YEAR)
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(f"{site.url}/school/outcomes?year={LAST_YEAR}")
    await expect(page.get_by_text(f"School year {LAST_YEAR}")).to_be_visible()
    assert await accessibility_violations(page) == []

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download as CSV").first.click()
    got = await download.value
    assert got.suggested_filename == f"attendance-school-{LAST_YEAR}.csv"
    with open(await got.path(), encoding="utf-8") as file:  # noqa: ASYNC230
        rows = list(csv.reader(file))
    assert rows == list(csv.reader(io.StringIO(_lincoln_csv(site, LAST_YEAR))))
    # This year's download is another file, with this year's rows.
    this_year = list(csv.reader(io.StringIO(_lincoln_csv(site, THIS_YEAR))))
    answer = await page.request.get(f"{site.url}/school/outcomes/school.csv?n=0&year={THIS_YEAR}")
    assert list(csv.reader(io.StringIO(await answer.text()))) == this_year
    assert "Bearer" not in await answer.text()
    await context.close()


async def test_the_reach_page_shows_the_year_chosen_as_the_data_service_gives_it(
    browser: Browser, site: Site
) -> None:
    school = await _data(
        site, "/v1/schools/sch-lincoln/outcomes/reach", subject=PRINCIPAL, school_year=LAST_YEAR
    )
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school/reach")
    await page.get_by_label("School year").select_option(LAST_YEAR)
    await page.get_by_role("button", name="Show").click()
    await page.get_by_role("link", name="Lincoln Elementary").click()
    await expect(page).to_have_url(f"{site.url}/school/reach/sch-lincoln?year={LAST_YEAR}")
    await expect(page.locator("p.muted").first).to_contain_text(f"School year {LAST_YEAR}")
    await expect(page.get_by_text("Families:", exact=False).first).to_contain_text(
        _fig(school["families"])
    )
    # A year the selector does not offer reads as this one, never as an error.
    await page.goto(site.url + "/school/reach/sch-lincoln?year=1990-1991")
    await expect(page.get_by_label("School year")).to_have_value(THIS_YEAR)
    await expect(page.locator("p.muted").first).to_contain_text(f"School year {THIS_YEAR}")
    await context.close()


async def test_a_schools_reach_and_goals_download_as_csv_for_the_year_chosen(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(f"{site.url}/school/reach/sch-lincoln?year={LAST_YEAR}")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download as CSV").click()
    got = await download.value
    assert got.suggested_filename == f"reach-sch-lincoln-{LAST_YEAR}.csv"
    with open(await got.path(), encoding="utf-8") as file:  # noqa: ASYNC230
        rows = list(csv.DictReader(file))
    reach = await _data(
        site, "/v1/schools/sch-lincoln/outcomes/reach", subject=PRINCIPAL, school_year=LAST_YEAR
    )
    assert [r["row"] for r in rows] == ["total"]
    assert rows[0]["families"] == str(reach["families"])

    answer = await page.request.get(
        f"{site.url}/school/goals/sch-lincoln/figures.csv?year={THIS_YEAR}"
    )
    assert answer.status == 200
    goals = await _data(site, "/v1/schools/sch-lincoln/outcomes/goals", subject=PRINCIPAL)
    rows = list(csv.DictReader(io.StringIO(await answer.text())))
    assert [r["row"] for r in rows] == [
        *(f"meeting:{m['meeting_id']}" for m in goals["meetings"]),
        "total",
    ]
    # Another school's figures are not found, as its page is.
    refused = await page.request.get(f"{site.url}/school/reach/sch-garfield/figures.csv")
    assert refused.status == 404
    await context.close()
