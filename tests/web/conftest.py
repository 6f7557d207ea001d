"""The whole system as `make up` runs it, demo data and the web pages, and a real browser
(Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import contextlib
import os
import random
import string
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aptt_local import demo
from aptt_local.servers import LocalStack
from aptt_local.service_process import TEST_ENV, WebProcess, running_services
from aptt_local.testing import zone_at_local_hour
from aptt_platform.devissuer import DevIssuer, DevUser
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = os.environ.get("APTT_CHROMIUM", "/usr/bin/chromium")
# Chromium on a machine with a closed network: no background calls, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# People of another district, and a principal of the district's other school, to try this
# district's pages with.
OUTSIDERS = [
    DevUser(
        subject="p-garfield",
        name="Principal of Garfield",
        district_id=demo.DISTRICT,
        roles=["school_admin"],
        school_ids=["sch-garfield"],
    ),
    DevUser(
        subject="e-garfield",
        name="Educator of Garfield",
        district_id=demo.DISTRICT,
        roles=["educator"],
        school_ids=["sch-garfield"],
    ),
    DevUser(
        subject="g-elsewhere",
        name="Guardian in another district",
        district_id="other-district",
        roles=["guardian"],
        school_ids=[],
    ),
    DevUser(
        subject="t-elsewhere",
        name="Teacher in another district",
        district_id="other-district",
        roles=["teacher"],
        school_ids=["sch-lincoln"],
    ),
    DevUser(
        subject="a-elsewhere",
        name="Admin in another district",
        district_id="other-district",
        roles=["district_admin"],
        school_ids=[],
    ),
]
# A guardian the demo roster does not have: test_conference_pages imports it, with a child in
# each of the district's schools, into a district of its own.
TWO_SCHOOLS_FAMILY = DevUser(
    subject="g-two-schools",
    name="Kim Park (family, two schools)",
    district_id=demo.DISTRICT,
    roles=["guardian"],
    school_ids=[],
    language="en",
)
# axe-core's rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE = Axe()


async def accessibility_violations(page: Page) -> list[str]:
    """What axe-core finds against WCAG 2.2 AA on the page as it is now, one line each."""
    results = await AXE.run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    )
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


async def overflows_sideways(page: Page) -> bool:
    """True when the page needs sideways scrolling at the current width (WCAG 1.4.10)."""
    width: bool = await page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    )
    return width


@dataclass
class Site:
    url: str
    issuer: DevIssuer
    services: dict[str, str]
    walkthrough: str
    log: Path


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One demo district for the web modules of a test process: starting it is the slow part.
    A module whose tests need the district as seeded overrides this with `site_of_its_own`."""
    with site_of_its_own(tmp_path_factory) as started:
        yield started


@contextlib.contextmanager
def site_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site on servers of its own. Its four services stay up while other modules run their
    own services: on the session's shared broker they would join the same consumer groups
    (aptt-<service>) and take half of every topic's partitions from them."""
    stack = LocalStack(tmp_path_factory.mktemp("web-stack"), broker_storage="memory")
    stack.start()
    try:
        with fresh_site(stack, tmp_path_factory) as started:
            yield started
    finally:
        stack.stop()


@contextlib.contextmanager
def fresh_site(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The four services and the web, with the demo district seeded, in their own databases."""
    state = tmp_path_factory.mktemp("web")
    run = "".join(random.choices(string.ascii_lowercase, k=6))
    with running_services(
        state,
        local_stack.env(),
        database_prefix=f"web_{run}",
        users=[*demo.demo_users(demo.demo_roster()), *OUTSIDERS, TWO_SCHOOLS_FAMILY],
    ) as (issuer, processes):
        urls = {s: p.url for s, p in processes.items()}
        walkthrough = demo.seed(
            urls,
            issuer_key=issuer.key_file,
            issuer_url=issuer.url,
            stack=local_stack,
            timezone=ZoneInfo(zone_at_local_hour(13)),
        )
        web = WebProcess(
            state,
            env={
                **local_stack.env(),
                **TEST_ENV,
                "APTT_OIDC_ISSUER": issuer.url,
                "APTT_MONGO_DATABASE": f"web_{run}_web",
            },
            service_urls=urls,
        )
        web.start()
        try:
            yield Site(
                web.url, DevIssuer(issuer.url, issuer.key_file), urls, walkthrough, web.log_path
            )
        finally:
            web.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


async def signed_in(
    browser: Browser, site: Site, who: str, *, phone: bool = False, locale: str = "en-US"
) -> tuple[BrowserContext, Page]:
    """A fresh browser (a phone's screen if asked) signed in as a demo user."""
    context = await browser.new_context(
        locale=locale,
        viewport={"width": 360, "height": 740} if phone else {"width": 1280, "height": 800},
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
    )
    page = await context.new_page()
    await page.goto(site.url + "/")
    await page.locator("a[href='/signin']").click()
    await page.locator(f"button[value='{who}']").click()
    await page.wait_for_url(site.url + "/**")
    return context, page
