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


NEW_FAMILY = "g-c-lincoln-3a-1"
NEW_CHILD = "s-c-lincoln-3a-1"


async def test_the_pair_proposes_times_to_a_family_waiting_and_another_school_is_refused(
    browser: Browser, site: Site
) -> None:
    """After the test above: the pair opted in, the class invited. A third family says yes."""
    async with httpx.AsyncClient(base_url=site.services["scheduling"], timeout=30) as api:
        guardian = _headers(site, NEW_FAMILY, "guardian")
        mine = await api.get("/v1/me/visit-invitations", headers=guardian)
        [invitation] = [i for i in mine.json()["items"] if i["student_id"] == NEW_CHILD]
        said = await api.put(
            f"/v1/visit-invitations/{invitation['invitation_id']}/answer",
            json={"answer": "yes"},
            headers=guardian,
        )
        assert said.status_code == 200, said.text

    context, page = await signed_in(browser, site, PAIR[0])
    waiting = page.get_by_role("region", name="Families waiting for a visit")
    # The families with a visit pending are not listed again.
    await expect(waiting.get_by_role("row").filter(has_text="s-c-lincoln-3a-")).to_have_count(1)
    row = waiting.get_by_role("row").filter(has_text=NEW_CHILD)
    assert await accessibility_violations(page) == []
    await row.get_by_role("link", name="Propose times").click()
    await expect(
        page.get_by_role("heading", name=f"Propose times: Student {NEW_CHILD}")
    ).to_be_visible()
    assert await accessibility_violations(page) == []
    await page.get_by_label("Your partner for the visit").select_option(PAIR[1])
    await page.get_by_label("First time").fill(_local(18, 17))
    await page.get_by_label("Second time").fill(_local(19, 17))
    await page.get_by_role("button", name="Propose these times").click()
    await expect(page.locator("dl")).to_contain_text("waiting for the family")
    await expect(page.locator("dl")).to_contain_text(PAIR[1])
    visit_id = page.url.rsplit("/", 1)[-1]
    propose_page = f"{site.url}/visits/propose/{invitation['invitation_id']}?school_id=sch-lincoln"
    await page.goto(site.url + "/visits")
    await expect(page.get_by_text("Families waiting for a visit")).to_have_count(0)
    await context.close()

    # The family picks one of the pair's times (in its own language: the form, not its words).
    context, page = await signed_in(browser, site, NEW_FAMILY, phone=True)
    await page.goto(f"{site.url}/family/home-visits/{visit_id}")
    await expect(page.get_by_role("radio")).to_have_count(2)
    await page.get_by_role("radio").first.check()
    await page.locator(f"form[action='/family/home-visits/{visit_id}'] button.big").click()
    await page.wait_for_url(f"**/family/home-visits/{visit_id}?chosen=1")
    await context.close()
    visit = await _status(site, visit_id)
    assert (visit["status"], visit["educator_ids"]) == ("scheduled", PAIR)

    # An educator of another school reaches neither the list nor the form.
    context, page = await signed_in(browser, site, "e-garfield")
    await expect(page.get_by_text("Families waiting for a visit")).to_have_count(0)
    answer = await page.goto(propose_page)
    assert answer is not None
    assert answer.status == 404
    posted = await _post_form(
        page,
        f"/visits/propose/{invitation['invitation_id']}?school_id=sch-lincoln",
        {
            "partner": PAIR[1],
            "time-1": _local(22, 17),
            "time-2": _local(23, 17),
            "once": "crafted-one-time-token",
        },
    )
    assert posted.status == 404
    await context.close()
