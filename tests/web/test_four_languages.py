"""A family reads every page it reaches in Russian, Haitian Creole, Somali and Tagalog: in that
language, and on a phone's width without sideways scrolling (their words run longer than
English). The axe crawl of test_journeys covers English, Spanish and Arabic."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from .conftest import Site, accessibility_violations, overflows_sideways, signed_in

FAMILY = "g-c-lincoln-3a-4"  # Ben Smith, whose messages go out in English
MY_CHILDREN = {
    "ru": "Мои дети",
    "ht": "Pitit mwen yo",
    "so": "Carruurtayda",
    "tl": "Aking mga anak",
}
MAX_PAGES = 20


async def _family_pages(page: Page, origin: str) -> list[str]:
    seen: list[str] = []
    queue = [origin + "/family"]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        answer = await page.goto(url)
        assert answer is not None
        assert answer.status == 200, (url, answer.status)
        seen.append(url)
        hrefs: list[str] = await page.eval_on_selector_all(
            "main a[href^='/'], nav a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
        )
        queue += [
            origin + h.split("#")[0]
            for h in hrefs
            if not h.startswith(("/static/", "/signin")) and not h.split("?")[0].endswith(".csv")
        ]
    return seen


@pytest.mark.parametrize("language", sorted(MY_CHILDREN))
async def test_a_family_reads_its_pages_in_the_language_and_they_fit_a_phone(
    browser: Browser, site: Site, language: str
) -> None:
    context, page = await signed_in(browser, site, FAMILY, phone=True)
    await page.goto(f"{site.url}/?lang={language}")
    await page.goto(site.url + "/family")
    await expect(page.get_by_role("heading", name=MY_CHILDREN[language])).to_be_visible()
    assert await accessibility_violations(page) == []

    urls = await _family_pages(page, site.url)
    assert len(urls) >= 3, urls
    crowded: dict[str, list[int]] = {}
    for url in urls:
        await page.goto(url)
        assert await page.get_attribute("html", "lang") == language
        assert await page.get_attribute("html", "dir") == "ltr"
        for width in (320, 640):
            await page.set_viewport_size({"width": width, "height": 800})
            if await overflows_sideways(page):
                crowded.setdefault(url.removeprefix(site.url), []).append(width)
        await page.set_viewport_size({"width": 360, "height": 740})
    assert not crowded, crowded
    await context.close()
