"""The web's catalogues: every text of the pages in every language's file, and all ten
languages translated in full (Arabic's pages right to left; docs/decisions/0600)."""

from __future__ import annotations

import re

import pytest
from aptt_web.catalogue import messages
from aptt_web.i18n import CATALOGUES, direction

COMPLETE = ("en", "es", "ar", "zh", "vi", "pt", "ru", "ht", "so", "tl")
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w*\}")


def test_every_catalogue_holds_every_text_of_the_pages() -> None:
    wanted = set(messages())
    assert len(wanted) > 100
    for language in CATALOGUES.languages:
        held = {m.id for m in CATALOGUES.catalogue(language) if m.id}
        assert held == wanted, (language, sorted(wanted - held)[:5], sorted(held - wanted)[:5])


@pytest.mark.parametrize("language", COMPLETE)
def test_the_complete_languages_are_translated_in_full(language: str) -> None:
    catalogue = CATALOGUES.catalogue(language)
    for message in catalogue:
        if not message.id:
            continue
        assert message.string, (language, message.id)
        assert sorted(PLACEHOLDER.findall(str(message.string))) == sorted(
            PLACEHOLDER.findall(str(message.id))
        ), (language, message.id)
    if language != "en":
        assert CATALOGUES.gettext("My children", language) != "My children"


def test_arabic_reads_right_to_left() -> None:
    assert direction("ar") == "rtl"
    assert direction("es") == "ltr"
