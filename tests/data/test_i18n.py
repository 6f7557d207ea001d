"""The class chart's words come from the gettext catalogues, and every catalogue has them all."""

from __future__ import annotations

import string

import pytest
from aptt_data import i18n


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_of_the_chart_is_in_every_catalogue(language: str) -> None:
    texts = i18n.CATALOGUES.texts[language]
    missing = [msgid for msgid in i18n.MESSAGES if msgid not in texts]
    assert missing == []
    assert i18n.CATALOGUES.missing()[language] == set()
    unused = set(texts) - set(i18n.MESSAGES)
    assert unused == set()  # a stale message would hide a missing one under another id
    for msgid in i18n.MESSAGES:
        assert placeholders(texts[msgid]) == placeholders(msgid), (language, msgid)


def test_a_reader_gets_their_language_or_english_and_their_number_format() -> None:
    mexico = i18n.words_for("es-MX")
    assert mexico.language == "es"
    assert mexico.text(i18n.TITLE, skill="Lectura") == "Lectura: nuestra clase"
    assert mexico.number(1234.5) == "1,234.5"
    spain = i18n.words_for("es")
    assert spain.number(1234.5) == "1.234,5"
    assert spain.signed(2.5) == "+2,5"
    french = i18n.words_for("fr")
    assert french.language == "en"
    assert french.text(i18n.BANDS["at"]) == "At benchmark"
    assert french.number(1234.5) == "1,234.5"
    assert i18n.words_for("zh-Hans").text(i18n.KINDERGARTEN) == "幼儿园"
