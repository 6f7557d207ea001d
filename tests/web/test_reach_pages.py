"""Reach of personal contact and survey results in a real browser: the class list as notify
sees it, the walk from one family not reached to the next, the school's counts, results
withheld under the minimum, and nobody else's class, meeting or school."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from aptt_local import demo
from babel.dates import format_date
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, overflows_sideways, signed_in

TEACHER = "t-reyes"
CLASS = "c-lincoln-3a"
OTHER_CLASS = "c-garfield-2b"
PRINCIPAL = "demo-principal"  # Lincoln's school admin
ROLES = {
    TEACHER: (["teacher"], ["sch-lincoln"]),
    "t-okafor": (["teacher"], ["sch-garfield"]),
    PRINCIPAL: (["school_admin"], ["sch-lincoln"]),
    "p-garfield": (["school_admin"], ["sch-garfield"]),
}


async def _api(site: Site, service: str, path: str, *, subject: str, **params: Any) -> Any:
    """A service's own answer for the same person."""
    roles, schools = ROLES[subject]
    token = site.issuer.mint(
        subject=subject, district_id=demo.DISTRICT, roles=roles, school_ids=schools
    )
    async with httpx.AsyncClient(base_url=site.services[service], timeout=30) as api:
        found = await api.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200, found.text
    return found.json()


async def _not_reached(site: Site, days: int = 30) -> list[str]:
    """The families of the class without a personal contact, in the class list's order."""
    roster = await _api(site, "data", f"/v1/classrooms/{CLASS}/class-list", subject=TEACHER)
    reach = await _api(site, "notify", "/v1/reach", subject=TEACHER, classroom_id=CLASS, days=days)
    waiting = set(reach["not_reached"])
    return [s["student_id"] for s in roster["students"] if s["student_id"] in waiting]


def _note_page(site: Site, student_id: str, days: int = 30) -> str:
    return f"{site.url}/teach/classes/{CLASS}/notes/{student_id}?walk={days}"


async def _row(page: Page, name: str) -> list[str]:
    row = page.get_by_role("row").filter(has_text=name)
    return [c.strip() for c in await row.get_by_role("cell").all_inner_texts()]


async def test_a_teacher_walks_from_one_family_not_reached_to_the_next(
    browser: Browser, site: Site
) -> None:
    roster = await _api(site, "data", f"/v1/classrooms/{CLASS}/class-list", subject=TEACHER)
    names = {s["student_id"]: f"{s['given_name']} {s['family_name']}" for s in roster["students"]}
    waiting = await _not_reached(site)
    assert len(waiting) >= 3, "the demo class needs three families not reached"
    before = await _api(site, "notify", "/v1/reach", subject=TEACHER, classroom_id=CLASS, days=30)
    context, page = await signed_in(browser, site, TEACHER)
    await page.goto(f"{site.url}/teach/classes/{CLASS}")
    await page.get_by_role("link", name="Families and personal contact").click()
    await expect(page.get_by_role("heading", name="Families and personal contact")).to_be_visible()
    # The families not reached come first, in the class list's order, and say so.
    rows = page.get_by_role("region", name="Families").get_by_role("row")
    first_names = [
        (await rows.nth(i + 1).get_by_role("rowheader").inner_text()).strip()
        for i in range(len(waiting))
    ]
    assert first_names == [names[s] for s in waiting]
    assert (await _row(page, names[waiting[0]]))[-1] == "not in 30 days"
    reached = f"Reached in the last 30 days: {before['reached']} of {before['families']} families"
    await expect(page.locator("main")).to_contain_text(reached)

    await page.get_by_role("link", name="Write notes to the families not reached").click()
    assert page.url == _note_page(site, waiting[0])
    [chosen] = await page.get_by_label("What went well").select_option(index=1)
    await page.get_by_role("button", name="Preview").click()
    # The preview is notify's, in each guardian's language, and the choice is kept.
    preview = await _preview(site, waiting[0], chosen)
    section = page.get_by_role("region", name="What the family will read")
    for item in preview:
        await expect(section).to_contain_text(item["text"])
    assert await page.get_by_label("What went well").input_value() == chosen
    await page.get_by_role("button", name="Send the note").click()
    await page.wait_for_url(_note_page(site, waiting[1]) + "&noted=1")
    await expect(page.get_by_role("status")).to_contain_text("Your note is on its way")
    await page.get_by_role("link", name="Skip: next family").click()
    await page.wait_for_url(_note_page(site, waiting[2]))

    # Back on the list: the family written to has today's date and counts as reached.
    await page.get_by_role("link", name="Back to the list").click()
    today = format_date(date.today(), format="full", locale="en")
    assert (await _row(page, names[waiting[0]]))[-2:] == [f"{today} · a note", "yes"]
    assert (await _row(page, names[waiting[1]]))[-1] == "not in 30 days"
    after = f"Reached in the last 30 days: {before['reached'] + 1} of {before['families']}"
    await expect(page.locator("main")).to_contain_text(after)
    assert await _not_reached(site) == [s for s in waiting if s != waiting[0]]
    await context.close()


async def _preview(site: Site, student_id: str, phrase_id: str) -> list[dict[str, Any]]:
    token = site.issuer.mint(
        subject=TEACHER, district_id=demo.DISTRICT, roles=["teacher"], school_ids=["sch-lincoln"]
    )
    async with httpx.AsyncClient(base_url=site.services["notify"], timeout=30) as api:
        found = await api.post(
            "/v1/notes/preview",
            json={
                "student_id": student_id,
                "kind": "builder",
                "phrases": {"went_well": phrase_id},
                "skill_code": "orf",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    assert items
    return items


async def test_the_walk_ends_on_the_list_after_the_last_family(
    browser: Browser, site: Site
) -> None:
    waiting = await _not_reached(site, days=7)
    context, page = await signed_in(browser, site, TEACHER)
    await page.goto(_note_page(site, waiting[-1], days=7))
    await page.get_by_role("link", name="Skip: next family").click()
    await page.wait_for_url(f"{site.url}/teach/classes/{CLASS}/reach?days=7&done=1")
    await expect(page.get_by_role("status")).to_contain_text("end of the list")
    assert await page.get_by_label("No personal contact in").input_value() == "7"
    await context.close()


async def test_a_principal_reads_the_schools_reach_in_numbers_only(
    browser: Browser, site: Site
) -> None:
    school = await _api(site, "notify", "/v1/reach", subject=PRINCIPAL, school_id="sch-lincoln")
    room = await _api(site, "notify", "/v1/reach", subject=PRINCIPAL, classroom_id=CLASS)
    roster = await _api(site, "data", f"/v1/classrooms/{CLASS}/class-list", subject=TEACHER)
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Families and personal contact").click()
    await page.get_by_role("link", name="Lincoln").click()
    main = page.locator("main")
    await expect(main).to_contain_text(
        f"Reached in the last 30 days: {school['reached']} of {school['families']} families"
    )
    rate = "no families" if room["rate"] is None else f"{round(room['rate'] * 100, 2):g}%"
    assert await _row(page, "Grade 3 Room 12") == [
        str(room["families"]),
        str(room["reached"]),
        str(len(room["not_reached"])),
        rate,
    ]
    text = await main.inner_text()
    for student in roster["students"]:
        assert student["family_name"] not in text
        for guardian in student["guardians"]:
            assert guardian["family_name"] not in text
    assert await accessibility_violations(page) == []
    await context.close()


async def test_a_principal_reads_each_teachers_reach_as_notify_counts_it(
    browser: Browser, site: Site
) -> None:
    theirs = await _api(
        site,
        "notify",
        "/v1/reach",
        subject=PRINCIPAL,
        teacher_id=TEACHER,
        school_id="sch-lincoln",
        days=14,
    )
    assert not theirs["withheld"], "the demo teacher has more families than the minimum"
    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school/contact/sch-lincoln?days=14")
    by_teacher = page.get_by_role("region", name="Personal contact by teacher")
    rate = f"{round(theirs['rate'] * 100, 2):g}%"
    row = by_teacher.get_by_role("row").filter(has_text="Ana Reyes")
    assert [c.strip() for c in await row.get_by_role("cell").all_inner_texts()] == [
        str(theirs["families"]),
        str(theirs["reached"]),
        str(len(theirs["not_reached"])),
        rate,
    ]
    # Another school's teacher is not a row of this school.
    assert "Okafor" not in await by_teacher.inner_text()
    await context.close()

    # Garfield's principal reads Garfield's teacher, and neither Lincoln's page nor its
    # teacher's figures; a teacher reads no school's page.
    context, page = await signed_in(browser, site, "p-garfield")
    await page.goto(site.url + "/school/contact/sch-garfield")
    region = page.get_by_role("region", name="Personal contact by teacher")
    await expect(region).to_contain_text("Grace Okafor")
    assert "Reyes" not in await region.inner_text()
    answer = await page.goto(site.url + "/school/contact/sch-lincoln")
    assert answer is not None
    assert answer.status == 404
    await context.close()
    roles, schools = ROLES["p-garfield"]
    token = site.issuer.mint(
        subject="p-garfield", district_id=demo.DISTRICT, roles=roles, school_ids=schools
    )
    async with httpx.AsyncClient(base_url=site.services["notify"], timeout=30) as api:
        refused = await api.get(
            "/v1/reach",
            params={"teacher_id": TEACHER, "school_id": "sch-lincoln"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert refused.status_code == 403
    context, page = await signed_in(browser, site, "t-okafor")
    answer = await page.goto(site.url + "/school/contact/sch-garfield")
    assert answer is not None
    assert answer.status == 404
    await context.close()


async def test_survey_results_under_the_minimum_read_too_few_to_show(
    browser: Browser, site: Site
) -> None:
    found = await _api(site, "notify", "/v1/surveys/results", subject=TEACHER, classroom_id=CLASS)
    assert found["suppressed"], "the demo class has fewer answers than the minimum"
    meetings = await _api(
        site, "scheduling", f"/v1/classrooms/{CLASS}/team-meetings", subject=TEACHER
    )
    context, page = await signed_in(browser, site, TEACHER)
    await page.goto(f"{site.url}/teach/classes/{CLASS}")
    await page.get_by_role("link", name="Survey results").click()
    families = page.get_by_role("region", name="What families said")
    await expect(families).to_contain_text(
        f"too few to show: results show once at least {found['min_answers']} people"
    )
    assert "People who answered" not in await families.inner_text()
    await page.goto(f"{site.url}/teach/meetings/{meetings['items'][0]['meeting_id']}/surveys")
    await expect(page.get_by_role("heading", name="Families' comments")).to_be_visible()
    await expect(page.get_by_role("region", name="What families said")).to_contain_text(
        "too few to show"
    )
    await context.close()

    context, page = await signed_in(browser, site, PRINCIPAL)
    await page.goto(site.url + "/school/surveys/sch-lincoln")
    assert (await _row(page, "Grade 3 Room 12"))[0] == "too few to show"
    await context.close()


async def test_nobody_reads_another_class_meeting_or_school(browser: Browser, site: Site) -> None:
    theirs = await _api(
        site, "scheduling", f"/v1/classrooms/{OTHER_CLASS}/team-meetings", subject="t-okafor"
    )
    meeting = theirs["items"][0]["meeting_id"]
    other_student = f"s-{OTHER_CLASS}-1"
    others = [
        f"/teach/classes/{OTHER_CLASS}/reach",
        f"/teach/classes/{OTHER_CLASS}/reach/next?after={other_student}&days=30",
        f"/teach/classes/{OTHER_CLASS}/notes/{other_student}?walk=30",
        f"/teach/classes/{OTHER_CLASS}/surveys",
        f"/teach/meetings/{meeting}/surveys",
        "/school/contact/sch-lincoln",
        "/school/surveys/sch-lincoln",
        "/school/contact",
        "/school/surveys",
    ]
    context, page = await signed_in(browser, site, TEACHER)
    for path in others:
        answer = await page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 404, path
    await page.goto(f"{site.url}/teach/classes/{CLASS}/notes/s-{CLASS}-1")
    csrf = await page.locator("input[name=csrf]").first.input_value()
    for action in ("preview", ""):
        answer = await page.request.post(
            f"{site.url}/teach/classes/{OTHER_CLASS}/notes/{other_student}/{action}".rstrip("/"),
            form={"csrf": csrf, "once": "x" * 32, "note_id": "n" * 16, "went_well": "effort"},
            max_redirects=0,
        )
        assert answer.status == 404, action
    await context.close()

    context, page = await signed_in(browser, site, PRINCIPAL)
    for path in ("/school/contact/sch-garfield", "/school/surveys/sch-garfield"):
        answer = await page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 404, path
    await context.close()

    context, page = await signed_in(browser, site, "t-elsewhere")
    for path in (
        f"/teach/classes/{CLASS}/reach",
        f"/teach/classes/{CLASS}/surveys",
        f"/teach/classes/{CLASS}/notes/s-{CLASS}-1?walk=30",
    ):
        answer = await page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 404, path
    await context.close()
    context, page = await signed_in(browser, site, "a-elsewhere")
    for path in ("/school/contact/sch-lincoln", "/school/surveys/sch-lincoln"):
        answer = await page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 404, path
    await context.close()


async def test_the_new_pages_meet_wcag_aa_and_reflow(browser: Browser, site: Site) -> None:
    meetings = await _api(
        site, "scheduling", f"/v1/classrooms/{CLASS}/team-meetings", subject=TEACHER
    )
    pages = {
        TEACHER: [
            f"/teach/classes/{CLASS}/reach",
            _note_page(site, f"s-{CLASS}-2").removeprefix(site.url),
            f"/teach/classes/{CLASS}/surveys",
            f"/teach/meetings/{meetings['items'][0]['meeting_id']}/surveys",
        ],
        PRINCIPAL: [
            "/school/contact",
            "/school/contact/sch-lincoln",
            "/school/surveys",
            "/school/surveys/sch-lincoln",
        ],
    }
    found: dict[str, list[str]] = {}
    for who, paths in pages.items():
        for language in ("en", "es", "ar"):
            context, page = await signed_in(browser, site, who)
            await page.goto(f"{site.url}/?lang={language}")
            for path in paths:
                await page.set_viewport_size({"width": 1280, "height": 800})
                answer = await page.goto(site.url + path)
                assert answer is not None
                assert answer.status == 200, path
                problems = await accessibility_violations(page)
                await page.set_viewport_size({"width": 320, "height": 800})
                if await overflows_sideways(page):
                    problems.append("needs sideways scrolling at 320 px")
                found[f"{who} {path} ({language})"] = problems
            await context.close()
    failing = {where: problems for where, problems in found.items() if problems}
    assert not failing, failing
