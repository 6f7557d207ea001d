"""Staff and family pages beyond the main journeys: what a browser user sees at the edges."""

from __future__ import annotations

import httpx
import pytest
from aptt_web.i18n import CATALOGUES
from playwright.async_api import Browser

from .conftest import Site, accessibility_violations, signed_in

FAMILY = "g-c-lincoln-3a-4"
# Twice the web's body limit of 1 MiB: refused, yet small enough to be drained and answered.
OVERSIZED = 2 * 1024 * 1024


@pytest.mark.parametrize("language", ["en", "es", "ar"])
async def test_a_browser_that_sends_too_much_gets_a_page_in_its_language(
    browser: Browser, site: Site, language: str
) -> None:
    CATALOGUES.load()
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.goto(site.url + f"/family/preferences?lang={language}")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.evaluate(
            """size => {
                const form = document.querySelector("form[method=post]");
                const field = document.createElement("input");
                field.type = "hidden"; field.name = "padding"; field.value = "x".repeat(size);
                form.appendChild(field);
                form.submit();
            }""",
            OVERSIZED,
        )
    answer = await posted.value
    assert answer.status == 413
    await page.wait_for_load_state()
    heading = await page.locator("h1").inner_text()
    assert heading == CATALOGUES.gettext("Too large to send", language)
    assert await page.locator("html").get_attribute("lang") == language
    if language == "ar":
        assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await accessibility_violations(page) == []
    await context.close()


async def test_a_client_that_asks_for_no_page_still_gets_problem_details(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
        answer = await client.post(
            "/family/preferences",
            content=b"x" * OVERSIZED,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["limit_bytes"] == 1024 * 1024
