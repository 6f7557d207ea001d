"""Ten languages in every service: every catalogue holds every message, with the same
placeholders, and readers of other languages are told they read English."""

from __future__ import annotations

import string

import pytest
from aptt_data.i18n import CATALOGUES as DATA
from aptt_goals.i18n import CATALOGUES as GOALS
from aptt_notify.i18n import CATALOGUES as NOTIFY
from aptt_platform.i18n import (
    LANGUAGES,
    NOTICES,
    Catalogues,
    direction,
    fallback_notice,
    language_name,
)
from aptt_scheduling.i18n import CATALOGUES as SCHEDULING

EVERY_SERVICE = {"data": DATA, "goals": GOALS, "notify": NOTIFY, "scheduling": SCHEDULING}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_ten_languages_are_the_most_common_home_languages_of_english_learners() -> None:
    assert LANGUAGES == ("en", "es", "zh", "vi", "ar", "pt", "so", "ru", "ht", "tl")


@pytest.mark.parametrize("service", [*EVERY_SERVICE, "platform"])
def test_every_catalogue_of_every_service_has_every_message_and_its_placeholders(
    service: str,
) -> None:
    catalogues: Catalogues = EVERY_SERVICE.get(service, NOTICES)
    assert set(LANGUAGES) <= set(catalogues.languages)
    english = catalogues.texts["en"]
    assert english, "the English catalogue is the list of message ids"
    for language in catalogues.languages:
        theirs = catalogues.texts[language]
        assert set(english) - set(theirs) == set(), (service, language, "missing")
        assert set(theirs) - set(english) == set(), (service, language, "not in English")
        for msgid, text in english.items():
            assert placeholders(theirs[msgid]) == placeholders(text), (service, language, msgid)


def test_arabic_is_written_right_to_left_and_the_others_left_to_right() -> None:
    assert direction("ar") == "rtl"
    assert direction("ar-EG") == "rtl"
    assert [language for language in LANGUAGES if direction(language) == "rtl"] == ["ar"]


def test_a_reader_of_another_language_is_told_in_it_when_we_can_say_it() -> None:
    assert fallback_notice("fr", NOTIFY) == (
        "Nous n'avons pas encore de messages en français ; les voici en anglais.",
        "fr",
    )
    assert fallback_notice("ko-KR", NOTIFY) == (
        "아직 한국어 메시지가 없습니다. 영어로 보내 드립니다.",
        "ko",
    )
    # Babel knows Amharic's name but we cannot write the sentence in it: English, named twice.
    assert fallback_notice("am", NOTIFY) == (
        "We do not have messages in Amharic (አማርኛ) yet; here they are in English.",
        "en",
    )
    assert fallback_notice("hmn", NOTIFY) == (
        "We do not have messages in Hmong yet; here they are in English.",
        "en",
    )
    assert fallback_notice("qq", NOTIFY) is None  # a language nobody can name: no claim
    assert fallback_notice("es-MX", NOTIFY) is None
    assert fallback_notice(None, NOTIFY) is None
    assert language_name("so", in_language="so") == "Soomaali"
