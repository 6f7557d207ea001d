"""Goals, reach and growth outcome pages in a real browser: the figures the data service
gives for the same scope, withheld ones in words, and no one else's school."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from aptt_local import demo
from aptt_platform.schoolyear import school_year_of
from aptt_web.i18n import CATALOGUES
from aptt_web.pages.outcome_pages import verdict
from babel.numbers import format_decimal
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, overflows_sideways, signed_in

PRINCIPAL = "demo-principal"  # Lincoln's school admin
ADMIN = "demo-admin"  # the district's admin
TEACHER = "t-reyes"
FAMILY = "g-c-lincoln-3a-4"
TOO_FEW = "too few to show"


async def _data(site: Site, path: str, *, subject: str, **params: Any) -> Any:
    """The data service's own answer for the same person and scope."""
    roles, schools = (
        (["district_admin"], []) if subject == ADMIN else (["school_admin"], ["sch-lincoln"])
    )
    token = site.issuer.mint(
        subject=subject, district_id=demo.DISTRICT, roles=roles, school_ids=schools
    )
    async with httpx.AsyncClient(base_url=site.services["data"], timeout=30) as api:
        found = await api.get(
            path,
            params={"school_year": school_year_of(date.today()), **params},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert found.status_code == 200, found.text
    return found.json()


def _fig(value: int | float | None) -> str:
    return TOO_FEW if value is None else format_decimal(value, format="#,##0.##", locale="en")


def _pct(value: float | None) -> str:
    return TOO_FEW if value is None else _fig(value * 100) + "%"


async def _cells(page: Page, row_name: str) -> list[str]:
    row = page.get_by_role("row").filter(has_text=row_name)
    return [c.strip() for c in await row.get_by_role("cell").all_inner_texts()]


async def test_a_principal_reads_the_schools_goals_as_the_data_service_gives_them(
    browser: Browser, site: Site
) -> None:
    school = await _data(site, "/v1/schools/sch-lincoln/outcomes/goals", subject=PRINCIPAL)
    room = await _data(site, "/v1/classrooms/c-lincoln-3a/outcomes/goals", subject=PRINCIPAL)
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Goals families set").click()
    await page.get_by_role("link", name="Lincoln").click()
    await expect(page.get_by_role("heading", name="Goals families set")).to_be_visible()
    main = await page.locator("main").inner_text()
    assert f"Goals set: {_fig(school['goals_set'])}" in main
    assert f"Goals finished: {_fig(school['goals_closed'])}" in main
    met = _fig(school["goals_met"])
    if school["met_rate"] is not None:
        met += f" ({_pct(school['met_rate'])} of the finished goals)"
    assert f"Goals met: {met}\n" in main
    assert await _cells(page, "Grade 3 Room 12") == [
        _fig(room["goals_set"]),
        _fig(room["goals_closed"]),
        _fig(room["goals_met"]),
        _pct(room["met_rate"]),
    ]
    meetings = page.get_by_role("region", name="Families with a goal after each meeting")
    rows = meetings.get_by_role("row")
    assert await rows.count() == 1 + max(1, len(school["meetings"]))
    for n, meeting in enumerate(school["meetings"], start=1):
        cells = await rows.nth(n).get_by_role("cell").all_inner_texts()
        assert [c.strip() for c in cells] == [
            _fig(meeting["families_attended"]),
            _fig(meeting["families_with_goal"]),
        ]
    # A class of the demo's size is under the district's minimum: words, never a 0.
    assert school["goals_met"] is None
    assert TOO_FEW in main
    await context.close()


async def test_a_principal_reads_the_schools_reach_as_the_data_service_gives_it(
    browser: Browser, site: Site
) -> None:
    school = await _data(site, "/v1/schools/sch-lincoln/outcomes/reach", subject=PRINCIPAL)
    room = await _data(site, "/v1/classrooms/c-lincoln-3a/outcomes/reach", subject=PRINCIPAL)
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school/outcomes")
    await page.get_by_role("link", name="Families visited at home").click()
    await page.get_by_role("link", name="Lincoln").click()
    main = await page.locator("main").inner_text()
    assert f"Families: {_fig(school['families'])}" in main
    visited = _fig(school["visited"])
    if school["visited_share"] is not None:
        visited += f" ({_pct(school['visited_share'])})"
    assert f"Visited at home at least once: {visited}\n" in main
    assert f"Visited twice or more: {_fig(school['visited_twice'])}" in main
    assert await _cells(page, "Grade 3 Room 12") == [
        _fig(room["families"]),
        _fig(room["visited"]),
        _pct(room["visited_share"]),
        _fig(room["visited_twice"]),
    ]
    assert school["visited"] is None
    assert TOO_FEW in main
    # Notes, meetings and booked conferences are counted now, on the one reach page per
    # school that notify measures: this page says so and leads there.
    assert "not counted yet" not in main
    assert "This page counts home visits over the school year." in main
    await page.get_by_role("link", name="Families and personal contact").click()
    await page.wait_for_url(site.url + "/school/contact/sch-lincoln")
    await expect(page.get_by_role("heading", name="Families and personal contact")).to_be_visible()
    await context.close()


async def test_no_one_reads_another_schools_outcomes_and_only_district_admins_read_growth(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, PRINCIPAL)
    for path in ("/school/goals/sch-garfield", "/school/reach/sch-garfield", "/school/growth"):
        answer = await page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 404, path
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await page.goto(site.url + "/school/goals")
    assert await page.get_by_role("link", name="Garfield").count() == 0
    await context.close()
    for who, phone in ((TEACHER, False), (FAMILY, True)):
        context, page = await signed_in(browser, site, who, phone=phone)
        for path in (
            "/school/goals",
            "/school/goals/sch-lincoln",
            "/school/reach",
            "/school/reach/sch-lincoln",
            "/school/growth",
        ):
            answer = await page.goto(site.url + path)
            assert answer is not None
            assert answer.status == 404, (who, path)
        await context.close()


async def test_a_district_admin_reads_growth_in_plain_words(browser: Browser, site: Site) -> None:
    context, page = await signed_in(browser, site, ADMIN)
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Growth on a skill").click()
    await page.get_by_label("Skill", exact=True).select_option("orf")
    await page.get_by_label("Grade", exact=True).select_option("3")
    await page.get_by_role("button", name="Show").click()
    report = await _data(
        site, "/v1/district/outcomes/growth", subject=ADMIN, skill_code="orf", grade=3
    )
    for name, group, classes in (
        ("APTT classrooms", "aptt", "aptt_classrooms"),
        ("Comparison classrooms", "comparison", "comparison_classrooms"),
    ):
        assert await _cells(page, name) == [
            _fig(report[classes]),
            _fig(report[group]["n"]),
            _fig(report[group]["mean"]),
        ]
    # One class of a grade in the demo: too few students for the method to say anything.
    assert report["suppressed"]
    await expect(page.get_by_text("Too few students with two results")).to_be_visible()
    # Both district schools are the admin's to read.
    await page.goto(site.url + "/school/goals")
    for name in ("Lincoln", "Garfield"):
        await expect(page.get_by_role("link", name=name)).to_be_visible()
    await context.close()


async def test_the_outcome_pages_pass_axe_and_fit_a_narrow_phone(
    browser: Browser, site: Site
) -> None:
    CATALOGUES.load()
    pages = {
        PRINCIPAL: ["/school/goals", "/school/goals/sch-lincoln", "/school/reach/sch-lincoln"],
        ADMIN: ["/school/growth?skill_code=orf&grade=3", "/school/reach/sch-garfield"],
    }
    for who, paths in pages.items():
        context, page = await signed_in(browser, site, who)
        await page.set_viewport_size({"width": 320, "height": 740})
        for path in paths:
            for language in ("en", "es", "ar"):
                glue = "&" if "?" in path else "?"
                answer = await page.goto(f"{site.url}{path}{glue}lang={language}")
                assert answer is not None
                assert answer.status == 200, (path, language)
                assert await accessibility_violations(page) == [], (path, language)
                assert not await overflows_sideways(page), (path, language)
        await context.close()


def _report(low: float | None, high: float | None, *, suppressed: bool = False) -> dict[str, Any]:
    difference = None if low is None or high is None else (low + high) / 2
    return {"suppressed": suppressed, "difference": difference, "ci_low": low, "ci_high": high}


def test_the_growth_verdict_says_only_what_the_method_allows() -> None:
    def said(report: dict[str, Any]) -> str:
        return verdict(lambda text: text, report)

    assert said(_report(None, None, suppressed=True)).startswith("Too few students")
    assert said(_report(-0.5, 2.0)).startswith("The range of likely differences includes zero")
    assert said(_report(0.0, 2.0)).startswith("The range of likely differences includes zero")
    grew_more = said(_report(0.4, 3.6))
    assert grew_more.startswith("Students in APTT classrooms grew more")
    assert "does not prove that APTT caused the difference" in grew_more
    assert said(_report(-3.6, -0.4)).startswith("Students in APTT classrooms grew less")
