"""The main journeys, in a real browser against the running system."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aptt_local import demo
from aptt_local.oneroster import build_package, results_csv
from aptt_platform.schoolyear import school_year_of
from playwright.async_api import Browser, Page, Request, expect

from .conftest import Site, accessibility_violations, overflows_sideways, signed_in

ROSTER = demo.demo_roster()
FAMILY = "g-c-lincoln-3a-4"  # Ben Smith, English, child s-c-lincoln-3a-4
CHILD = "s-c-lincoln-3a-4"
OTHER_CHILD = "s-c-lincoln-3a-5"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MEETING_DAY = (date.today() + timedelta(days=14)).isoformat()
# A school day inside the demo's conference window (this month and the next).
CONFERENCE_DAY = (date.today() + timedelta(days=12)).isoformat()


async def test_a_guardian_rsvps_finds_the_number_sets_a_goal_and_logs_practice(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await expect(page.get_by_role("heading", name="My children")).to_be_visible()
    await page.get_by_role("link", name="Are you coming?").first.click()
    await page.get_by_label("Yes, I am coming").check()
    await page.get_by_label("Children who need childcare during the meeting").fill("2")
    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_role("status")).to_contain_text("your answer is saved")
    await expect(page.get_by_label("Children who need childcare during the meeting")).to_have_value(
        "2"
    )

    await page.goto(site.url + "/family")
    await page.get_by_role("link", name="Class chart and my number").first.click()
    number = await page.locator(".number strong").inner_text()
    assert number.isdigit()
    # The chart the family sees is the class's anonymous chart, with the number on it.
    await expect(page.locator("figure.chart svg")).to_contain_text(number)

    # Another family's child: refused in the browser as in the API.
    answer = await page.goto(f"{site.url}/family/meetings/x/{OTHER_CHILD}/chart")
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await context.close()


async def test_a_teacher_schedules_projects_the_chart_and_takes_attendance(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, "t-reyes")
    await page.get_by_role("link", name="Grade 3 Room 12").click()
    await expect(page.get_by_role("table")).to_contain_text("Lopez")
    await page.get_by_text("Schedule a team meeting").click()
    await page.get_by_label("Date", exact=True).fill(MEETING_DAY)
    await page.get_by_role("button", name="Schedule the meeting").click()
    await expect(page.get_by_role("status")).to_contain_text("The meeting is scheduled")
    await page.goto(site.url + "/teach/classes/c-lincoln-3a")
    await page.locator("ul.list a[href^='/teach/meetings/']").first.click()
    await page.get_by_role("link", name="Show the class chart").click()
    await expect(page.locator("figure.chart svg")).to_be_visible()
    await page.screenshot(path="docs/screenshots/teacher-projector.png")
    await page.get_by_role("link", name="Back to the meeting").click()
    tap = page.locator(f"#g-{CHILD}-{FAMILY} button")
    await tap.click()
    await expect(page.locator(f"#g-{CHILD}-{FAMILY} button")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.locator("text=Families here")).to_contain_text("1")
    # Another teacher's class.
    answer = await page.goto(site.url + "/teach/classes/c-garfield-2b")
    assert answer is not None
    assert answer.status == 404
    await context.close()


async def goal_setting_opened(site: Site, guardian: str, student: str) -> None:
    """Attendance reaches the goals service through Kafka; wait for it there, and say what
    the service answers if it never opens."""
    token = site.issuer.mint(subject=guardian, district_id=demo.DISTRICT, roles=["guardian"])
    last: object = None
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for _ in range(120):
            answer = await client.get(
                f"{site.services['goals']}/v1/students/{student}/goal-setting"
            )
            last = (answer.status_code, answer.text[:300])
            if answer.status_code == 200 and answer.json()["open"]:
                return
            await asyncio.sleep(1)
    raise AssertionError(f"goal setting did not open for {guardian}: {last}")


async def test_after_the_meeting_the_guardian_sets_a_goal_and_logs_practice(
    browser: Browser, site: Site
) -> None:
    """Attendance (the teacher's test above) opens goal setting for the family."""
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await goal_setting_opened(site, FAMILY, CHILD)
    await page.goto(f"{site.url}/family/children/{CHILD}/goals")
    await page.get_by_label("Score to reach in 60 days").fill("1000")
    await page.get_by_role("button", name="Check my goal").click()
    await expect(page.locator("#smart-check")).to_contain_text("needs a change")
    realistic = await page.locator("#smart-check li.todo").all_inner_texts()
    assert realistic, "the check names what to change"
    baseline = float(
        re.sub(
            r"[^0-9.]", "", await page.locator("text=Latest score").locator("strong").inner_text()
        )
    )
    await page.get_by_label("Score to reach in 60 days").fill(str(int(baseline) + 8))
    await page.get_by_role("button", name="Set this goal").click()
    await expect(page.get_by_role("status")).to_contain_text("Your goal is set")
    await page.get_by_role("button", name="15 minutes").click()
    await expect(page.get_by_role("status")).to_contain_text("Practice saved")
    await expect(page.locator("text=Practice so far")).to_contain_text("15")
    await page.screenshot(path="docs/screenshots/family-phone.png", full_page=False)

    await context.close()


async def test_the_teacher_ends_the_meeting_and_the_family_answers_its_survey(
    browser: Browser, site: Site
) -> None:
    """After the attendance above: the teacher ends the meeting, the family that came finds
    the survey on its page and answers it once."""
    teacher, page = await signed_in(browser, site, "t-reyes")
    await page.goto(site.url + "/teach/classes/c-lincoln-3a")
    await page.locator("ul.list a[href^='/teach/meetings/']").first.click()
    await page.get_by_role("button", name="The meeting is over").click()
    await expect(page.get_by_role("status")).to_contain_text("on their way")
    await teacher.close()

    context, family = await signed_in(browser, site, FAMILY, phone=True)
    survey = family.get_by_role("link", name="Tell us about the meeting")
    for _ in range(90):  # the survey is made when notify hears of the attendance
        if await survey.count():
            break
        await family.wait_for_timeout(1000)
        await family.reload()
    await survey.first.click()
    await family.get_by_role("button", name="Send my answers").click()
    await expect(family.get_by_role("alert")).to_contain_text("Answer at least one question")
    for group in await family.locator("fieldset").all():
        await group.get_by_label("4").check()
    await family.get_by_label("Anything else").fill("Thank you, the games were fun.")
    await family.get_by_role("button", name="Send my answers").click()
    await expect(family.get_by_role("status")).to_contain_text("Thank you for your answers")
    await expect(family.get_by_role("link", name="Tell us about the meeting")).to_have_count(0)
    await context.close()


async def test_a_teacher_sends_a_note_the_family_reads_in_its_language(
    browser: Browser, site: Site
) -> None:
    teacher, page = await signed_in(browser, site, "t-reyes")
    await page.goto(site.url + "/teach/classes/c-lincoln-3a")
    spanish = "g-c-lincoln-3a-1"  # Maya Lopez reads Spanish
    [child] = [s for s in ROSTER.students if s.sourced_id == "s-c-lincoln-3a-1"]
    await page.get_by_role("link", name=f"{child.given_name} {child.family_name}").click()
    await page.get_by_role("button", name="Send the note").click()
    await expect(page.get_by_role("alert")).to_contain_text("Choose at least one sentence")
    [chosen] = await page.get_by_label("What went well").select_option(index=1)
    await page.get_by_label("Something to do at home").select_option(index=1)
    await page.get_by_role("button", name="Send the note").click()
    await expect(page.get_by_role("status")).to_contain_text("Your note is on its way")
    # A child of another teacher's class.
    answer = await page.goto(site.url + "/teach/classes/c-garfield-2b/notes/s-c-garfield-2b-1")
    assert answer is not None
    assert answer.status == 404
    await teacher.close()

    token = site.issuer.mint(
        subject="t-reyes", district_id=demo.DISTRICT, roles=["teacher"], school_ids=["sch-lincoln"]
    )
    async with httpx.AsyncClient(timeout=30) as client:
        book = await client.get(
            f"{site.services['notify']}/v1/notes/phrases",
            params={"language": "es"},
            headers={"Authorization": f"Bearer {token}"},
        )
    [in_spanish] = [
        p["text"] for p in book.json()["parts"]["went_well"] if p["phrase_id"] == chosen
    ]
    context, family = await signed_in(browser, site, spanish, phone=True)
    await family.goto(site.url + "/family/messages")
    for _ in range(60):  # notify writes the note for each guardian a moment later
        if await family.get_by_text(in_spanish[:30]).count():
            break
        await family.wait_for_timeout(1000)
        await family.reload()
    await expect(family.locator("main")).to_contain_text(in_spanish[:30])
    assert await family.get_attribute("html", "lang") == "es"
    await context.close()


async def test_an_admin_imports_a_roster_and_reads_the_refused_rows(
    browser: Browser, site: Site, tmp_path: object
) -> None:
    context, page = await signed_in(browser, site, "demo-admin")
    await page.goto(site.url + "/school/imports")
    package = build_package(ROSTER)
    import io
    import zipfile

    spoiled = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as original, zipfile.ZipFile(spoiled, "w") as out:
        for name in original.namelist():
            content = original.read(name)
            if name == "users.csv":
                lines = content.decode().splitlines()
                lines.append(
                    lines[-1]
                    .replace(lines[-1].split(",")[0], "broken-user", 1)
                    .replace("guardian", "wizard")
                )
                content = ("\n".join(lines) + "\n").encode()
            out.writestr(name, content)
    await page.set_input_files(
        "#roster-file",
        files=[{"name": "roster.zip", "mimeType": "application/zip", "buffer": spoiled.getvalue()}],
    )
    await page.get_by_label("Changes only (delta)").check()
    await page.get_by_role("button", name="Import the roster").click()
    await expect(page.get_by_role("heading", name="Import report")).to_be_visible()
    for _ in range(60):
        if await page.locator(".status-done, .status-failed").count():
            break
        await page.wait_for_timeout(1000)
        await page.reload()
    await expect(page.get_by_role("region", name="Refused rows")).to_contain_text("users.csv")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download as CSV").click()
    path = await (await download.value).path()
    assert "users.csv" in Path(path).read_text()  # noqa: ASYNC240
    await context.close()

    family, page = await signed_in(browser, site, FAMILY)
    answer = await page.goto(site.url + "/school/imports")
    assert answer is not None
    assert answer.status == 404
    await family.close()


async def test_a_family_books_a_conference_and_the_teacher_reads_the_day_sheet(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.get_by_role("link", name="Book a conference").first.click()
    await expect(page.get_by_role("heading", name="Book a conference")).to_be_visible()
    chosen = await page.locator("input[name='slot_id']:checked").locator("..").inner_text()
    await page.get_by_role("button", name="Book this time").click()
    await expect(page.get_by_role("status")).to_contain_text("Your conference is booked")
    mine = page.get_by_role("listitem").filter(has_text="Cancel this conference")
    await expect(mine).to_contain_text(chosen.strip().rsplit(", ", 1)[-1])

    teacher, sheet = await signed_in(browser, site, "t-reyes")
    await sheet.goto(site.url + "/teach/classes/c-lincoln-3a")
    await expect(sheet.get_by_text("1 / 8 times booked")).to_be_visible()
    await sheet.get_by_text("1 / 8 times booked").locator("..").get_by_role("link").click()
    await expect(sheet.get_by_role("table")).to_contain_text("Smith")
    await expect(sheet.get_by_role("list").last).not_to_contain_text("B. Jr Smith")
    # The teacher offers a second evening from the class page.
    await sheet.goto(site.url + "/teach/classes/c-lincoln-3a")
    await sheet.get_by_text("Offer conference hours").click()
    await sheet.get_by_label("Conference date").fill(CONFERENCE_DAY)
    await sheet.get_by_role("button", name="Offer these hours").click()
    await expect(sheet.get_by_role("heading", name="Conferences")).to_be_visible()
    await expect(sheet.get_by_role("table")).to_contain_text("free")

    await mine.get_by_role("button", name="Cancel this conference").click()
    await expect(page.get_by_role("status")).to_contain_text("Your conference is cancelled")
    await sheet.goto(site.url + "/teach/classes/c-lincoln-3a")
    await expect(sheet.get_by_text("1 / 8 times booked")).to_have_count(0)
    await expect(sheet.get_by_text("0 / 8 times booked")).to_have_count(2)
    await teacher.close()
    await context.close()


async def test_a_family_says_yes_to_a_home_visit_and_chooses_the_time(
    browser: Browser, site: Site
) -> None:
    scheduling = site.services["scheduling"]
    year = school_year_of(date.today())

    def headers(subject: str, role: str) -> dict[str, str]:
        token = site.issuer.mint(
            subject=subject, district_id=demo.DISTRICT, roles=[role], school_ids=["sch-lincoln"]
        )
        return {"Authorization": f"Bearer {token}"}

    educators = ["edu-web-1", "edu-web-2"]
    async with httpx.AsyncClient(base_url=scheduling, timeout=30) as api:
        for educator in educators:
            opted = await api.post(
                "/v1/schools/sch-lincoln/visit-educators",
                json={
                    "school_year": year,
                    "trained_on": (date.today() - timedelta(days=30)).isoformat(),
                },
                headers=headers(educator, "educator"),
            )
            assert opted.status_code == 201, opted.text
        invited = await api.post(
            "/v1/classrooms/c-lincoln-3a/visit-invitations",
            json={"school_year": year},
            headers=headers("demo-principal", "school_admin"),
        )
        assert invited.status_code == 201, invited.text
        [invitation] = [i for i in invited.json()["invited"] if i["student_id"] == CHILD]

        context, page = await signed_in(browser, site, FAMILY, phone=True)
        await page.get_by_role("button", name="Yes, we would like a visit").click()
        await expect(page.get_by_role("status")).to_contain_text("Thank you!")

        soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        proposed = await api.post(
            "/v1/home-visits",
            json={
                "invitation_id": invitation["invitation_id"],
                "educator_ids": educators,
                "times": [(soon + timedelta(days=d, hours=1)).isoformat() for d in (3, 4)],
                "duration_minutes": 60,
            },
            headers=headers(educators[0], "educator"),
        )
        assert proposed.status_code == 201, proposed.text
    await page.goto(site.url + "/family")
    await page.get_by_role("link", name="Choose a time for the visit").click()
    offered = (await page.locator("label.choice").first.inner_text()).strip()
    await page.get_by_label("Where shall we meet?").select_option("library")
    await page.get_by_role("button", name="Choose this time").click()
    await expect(page.get_by_role("status")).to_contain_text("Your visit is set")
    # The time offered is the time set, as the school's clock reads both (not UTC).
    await expect(page.get_by_role("status").locator("strong")).to_have_text(offered)
    visit_page = page.url
    await context.close()

    # Another family of the class: refused in the browser as in the API.
    other, page = await signed_in(browser, site, "g-c-lincoln-3a-2")
    answer = await page.goto(visit_page)
    assert answer is not None
    assert answer.status == 404
    await other.close()


# The pages each person reaches by following links from their start page, checked in the
# three languages the issue names: English, Spanish and Arabic (right to left). One person of
# each role of the demo: a family, a teacher, a district admin, a school admin (Garfield's,
# from the home-visit coordinator's pages, which a district admin's first pages do not
# reach) and a home-visit educator.
CRAWLED = {
    FAMILY: "/family",
    "t-reyes": "/teach",
    "demo-admin": "/school",
    "p-garfield": "/school/visits",
    "e-lincoln-1": "/visits",
}
LANGUAGES = ("en", "es", "ar")
MAX_PAGES = 25


async def _links(page: Page, origin: str) -> list[str]:
    hrefs: list[str] = await page.eval_on_selector_all(
        "main a[href^='/'], nav a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    return [
        origin + h.split("#")[0]
        for h in hrefs
        if not h.startswith(("/static/", "/signin")) and not h.split("?")[0].endswith(".csv")
    ]


async def _crawl(page: Page, start: str, origin: str) -> list[str]:
    seen: list[str] = []
    queue = [origin + start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        answer = await page.goto(url)
        assert answer is not None
        assert answer.status == 200, (url, answer.status)
        seen.append(url)
        queue += [u for u in await _links(page, origin) if u not in seen]
    return seen


@pytest.mark.timeout(1800)  # some 300 pages, each checked by axe at three widths
async def test_every_page_meets_wcag_aa_in_english_spanish_and_arabic_and_reflows(
    browser: Browser, site: Site
) -> None:
    """axe-core on every page each person reaches, in three languages; at 320 px wide and
    at 200% zoom (a 1280 px window zoomed to 200% lays out as 640 CSS pixels) nothing needs
    sideways scrolling. Runs after the journeys, so goals and an import report exist."""
    found: dict[str, list[str]] = {}
    visitor = await browser.new_context()
    page = await visitor.new_page()
    for language in LANGUAGES:
        await page.goto(f"{site.url}/?lang={language}")
        found[f"welcome ({language})"] = await accessibility_violations(page)
        await page.goto(f"{site.url}/no-such-page")
        found[f"not found ({language})"] = await accessibility_violations(page)
    await visitor.close()

    pages = 0
    for who, start in CRAWLED.items():
        # The links are the same in every language: crawl once, check each page in all three.
        context, page = await signed_in(browser, site, who)
        urls = await _crawl(page, start, site.url)
        if who == "demo-admin":
            urls.append(await _an_import_report(page, site))
        # An educator's visits depend on the pairs a coordinator proposed (tests/web/
        # test_visit_pages.py checks those pages): their start page may be all they reach.
        assert urls[0] == site.url + start
        assert len(urls) >= (1 if who == "e-lincoln-1" else 3), urls
        await context.close()
        for language in LANGUAGES:
            context, page = await signed_in(browser, site, who)
            await page.goto(f"{site.url}/?lang={language}")
            for url in urls:
                await page.set_viewport_size({"width": 1280, "height": 800})
                await page.goto(url)
                assert await page.get_attribute("html", "lang") == language
                assert await page.get_attribute("html", "dir") == (
                    "rtl" if language == "ar" else "ltr"
                )
                problems = await accessibility_violations(page)
                for width in (320, 640):
                    await page.set_viewport_size({"width": width, "height": 800})
                    if await overflows_sideways(page):
                        problems.append(f"needs sideways scrolling at {width} px")
                found[f"{who} {url.removeprefix(site.url)} ({language})"] = problems
                pages += 1
            await context.close()
    failing = {where: problems for where, problems in found.items() if problems}
    assert not failing, failing
    assert pages >= 3 * 12, f"only {pages} pages were reached"


async def _an_import_report(page: Page, site: Site) -> str:
    await page.goto(site.url + "/school/imports")
    await page.set_input_files(
        "#results-file",
        files=[
            {
                "name": "results.csv",
                "mimeType": "text/csv",
                "buffer": results_csv([("no-such-student", "orf", 80.0, date(2026, 10, 1))]),
            }
        ],
    )
    await page.locator("form[action='/school/imports/results'] button").click()
    await page.wait_for_url(re.compile(r".*/school/imports/results/.+"))
    return page.url


async def test_a_family_reads_its_pages_in_its_own_language_and_can_switch(
    browser: Browser, site: Site
) -> None:
    spanish = "g-c-lincoln-3a-1"  # Maya Lopez: her messages go out in Spanish
    context, page = await signed_in(browser, site, spanish, phone=True)
    await expect(page.get_by_role("heading", name="Mis hijos")).to_be_visible()
    assert await page.get_attribute("html", "lang") == "es"
    await page.get_by_label("Idioma").select_option("ar")
    await page.get_by_role("button", name="Cambiar").click()
    await expect(page.get_by_role("heading", name="أطفالي")).to_be_visible()
    assert await page.get_attribute("html", "dir") == "rtl"
    await page.goto(site.url + "/family/preferences")
    await expect(page.get_by_role("heading", name="كيف نتواصل معك")).to_be_visible()
    await context.close()


async def test_a_family_reads_its_home_page_in_portuguese(browser: Browser, site: Site) -> None:
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.goto(f"{site.url}/?lang=pt")
    await page.goto(site.url + "/family")
    await expect(page.get_by_role("heading", name="Meus filhos")).to_be_visible()
    await expect(page.get_by_role("button", name="Sair")).to_be_visible()
    assert await page.get_attribute("html", "lang") == "pt"
    assert await page.get_attribute("html", "dir") == "ltr"
    assert await accessibility_violations(page) == []
    await context.close()


async def test_people_of_another_district_are_refused_this_districts_pages(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, "g-elsewhere")
    await expect(page.get_by_text("Your school has not linked a child to you yet.")).to_be_visible()
    for path in (f"/family/children/{CHILD}/goals", f"/family/meetings/x/{CHILD}/chart"):
        answer = await page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 404, path
    await context.close()
    context, page = await signed_in(browser, site, "t-elsewhere")
    answer = await page.goto(site.url + "/teach/classes/c-lincoln-3a")
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await context.close()


async def test_a_principal_reads_their_schools_family_events_and_no_other(
    browser: Browser, site: Site
) -> None:
    context, page = await signed_in(browser, site, "demo-principal")
    await page.goto(site.url + "/school")
    await page.get_by_role("link", name="Family events").click()
    await expect(page.get_by_role("heading", level=2)).to_have_count(1)  # Lincoln only
    await expect(page.locator("figure.chart svg")).to_be_visible()
    answer = await page.goto(site.url + "/school/events/sch-garfield.csv")
    assert answer is not None
    assert answer.status == 404
    await context.close()


async def test_a_familys_first_page_on_a_phone_stays_small(browser: Browser, site: Site) -> None:
    """What a phone downloads for the family's first page, everything included: a family on a
    slow connection or a small data plan waits for every byte (aim: under 100 KB)."""
    context, _ = await signed_in(browser, site, FAMILY, phone=True)
    page = await context.new_page()
    devtools = await context.new_cdp_session(page)
    await devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})  # a first visit
    finished: list[Request] = []

    def done(request: Request) -> None:
        finished.append(request)

    page.on("requestfinished", done)
    await page.goto(site.url + "/family")
    await page.wait_for_load_state("networkidle")
    assert len(finished) >= 2  # the page and its stylesheet at least
    sizes = {r.url: await r.sizes() for r in finished}
    transferred = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes.values())
    assert transferred < 100_000, sizes
    await context.close()


async def test_a_body_over_its_limit_is_refused_before_it_is_read(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
        form = await client.post(
            "/family/preferences", content=b"x" * (2 * 1024 * 1024), headers=FORM
        )
        assert form.status_code == 413
        assert form.json()["type"].endswith("/payload-too-large")


async def test_the_web_logs_name_no_child_family_or_class(site: Site) -> None:
    """Run last: every journey above has been logged by then."""
    logged = site.log.read_text(encoding="utf-8")
    assert "GET /" not in logged  # no access log lines with paths
    for student in ROSTER.students:
        assert student.sourced_id not in logged
        assert student.family_name not in logged
    for guardian in ROSTER.guardians:
        assert guardian.sourced_id not in logged
    assert "c-lincoln-3a" not in logged
