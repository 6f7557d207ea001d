"""Moving a home visit from the pages, in a real browser (decision 0326): the family says it
cannot make the time, the pair offers new times, the family picks one; the family offers its
own time and the pair takes it; another family and another educator are refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, signed_in, site_of_its_own
from .test_visit_pages import FAMILY, OTHER_FAMILY, OUTSIDER, PAIR, _headers, _post_form, _visits


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site_of_its_own(tmp_path_factory) as started:
        yield started


def _local(days: int, hour: int) -> str:
    """A datetime-local value on the school's clock, `days` from today."""
    return f"{(date.today() + timedelta(days=days)).isoformat()}T{hour:02d}:00"


async def _status(site: Site, visit_id: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=site.services["scheduling"], timeout=30) as api:
        seen = await api.get(
            f"/v1/home-visits/{visit_id}", headers=_headers(site, PAIR[0], "educator")
        )
        assert seen.status_code == 200, seen.text
        found: dict[str, object] = seen.json()
        return found


async def _open_move(page: Page) -> None:
    await page.get_by_text("I can't make this time").click()


async def test_the_family_asks_for_new_times_the_pair_offers_them_and_the_family_picks_one(
    browser: Browser, site: Site
) -> None:
    made = await _visits(site)
    visit_id = made["scheduled"]
    family_page = f"{site.url}/family/home-visits/{visit_id}"

    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.goto(family_page)
    await expect(page.get_by_role("status")).to_contain_text("Your visit is set")
    await _open_move(page)
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="Ask for new times").click()
    await expect(page.get_by_role("status")).to_contain_text("Thank you for letting us know")
    await expect(page.locator("main")).to_contain_text("You asked for new times")
    await context.close()
    assert (await _status(site, visit_id))["status"] == "times_requested"

    # The pair sees the family's request and offers two new times.
    context, page = await signed_in(browser, site, PAIR[1])
    await page.goto(f"{site.url}/visits/{visit_id}")
    await expect(page.locator("dl")).to_contain_text("The family asked for new times")
    assert await accessibility_violations(page) == []
    await page.get_by_label("First time").fill(_local(12, 17))
    await page.get_by_label("Second time").fill(_local(13, 18))
    await page.get_by_role("button", name="Send the new times").click()
    await expect(page.get_by_role("status")).to_contain_text("The new times are sent")
    await expect(page.locator("dl")).to_contain_text("waiting for the family")
    await context.close()

    # The family picks the second of the new times, at the same place as before.
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.goto(family_page)
    choices = page.get_by_role("radio")
    await expect(choices).to_have_count(2)
    await expect(page.get_by_label("Where shall we meet?")).to_have_value("library")
    await choices.nth(1).check()
    await page.get_by_role("button", name="Choose this time").click()
    await expect(page.get_by_role("status")).to_contain_text("Your visit is set")
    await context.close()
    visit = await _status(site, visit_id)
    assert (visit["status"], visit["moves"], visit["place_kind"]) == ("scheduled", 2, "library")
    assert str(visit["local_starts_at"]).startswith(_local(13, 18))

    # The family offers a time of its own this time; the pair takes it.
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.goto(family_page)
    await _open_move(page)
    await page.get_by_label("A time that suits us").fill(_local(15, 16))
    await page.get_by_role("button", name="Send these times").click()
    await expect(page.locator("main")).to_contain_text("You offered these times")
    await context.close()
    context, page = await signed_in(browser, site, PAIR[0])
    await page.goto(f"{site.url}/visits/{visit_id}")
    await expect(page.locator("dl")).to_contain_text("Times the family offered")
    await page.get_by_role("button", name="Take the family's time").click()
    await expect(page.get_by_role("status")).to_contain_text("The family's time is confirmed")
    await context.close()
    visit = await _status(site, visit_id)
    assert visit["status"] == "scheduled"
    assert str(visit["local_starts_at"]).startswith(_local(15, 16))

    # Another family and an educator not on the visit reach neither page nor action.
    context, page = await signed_in(browser, site, OTHER_FAMILY, phone=True)
    answer = await page.goto(family_page)
    assert answer is not None
    assert answer.status == 404
    posted = await _post_form(page, f"/family/home-visits/{visit_id}/move", {"ask": "new"})
    assert posted.status == 404
    await context.close()
    context, page = await signed_in(browser, site, OUTSIDER)
    await page.goto(f"{site.url}/visits")
    posted = await _post_form(
        page, f"/visits/{visit_id}/move", {"time-1": _local(20, 17), "time-2": _local(21, 17)}
    )
    assert posted.status == 404
    await context.close()
    assert (await _status(site, visit_id))["moves"] == 3
