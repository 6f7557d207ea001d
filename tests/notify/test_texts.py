"""The message catalogues: ten languages complete, same placeholders, short texts."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from aptt_contracts.skills import BUILT_IN_SKILLS
from aptt_notify.domain.model import Template
from aptt_notify.i18n import CATALOGUES, SUPPORTED_LANGUAGES, SkillWords, render, text_language
from aptt_platform.i18n import LANGUAGES
from aptt_platform.sms import count_segments

PLACEHOLDER = re.compile(r"\{(\w+)\}")
LA = ZoneInfo("America/Los_Angeles")
ORF = BUILT_IN_SKILLS["orf"]
SKILL = SkillWords(ORF.code, ORF.name, ORF.unit)
# Realistic facts with long values: the longest weekday and month names, a two-digit number.
PARAMS = {
    "starts_at": datetime(2026, 9, 30, 1, 30, tzinfo=UTC),  # Tue 29 Sep, 18:30 in LA
    "previous_starts_at": datetime(2026, 9, 23, 1, 30, tzinfo=UTC),
    "minutes": 75,
    "number": 23,
    "target": 112,
    "score": 97.5,
    "baseline": 83,
    "percent": 48,
    "ends_on": date(2026, 11, 28),
    "outcome": "not_met",
    "location": "Library, 2nd floor",
    "child": "Maximiliana",  # a child's first name, for the countdown to kindergarten
}


def test_no_catalogue_lacks_a_message() -> None:
    assert SUPPORTED_LANGUAGES == LANGUAGES
    assert CATALOGUES.missing() == {language: set() for language in CATALOGUES.languages}
    english = CATALOGUES.texts["en"]
    for language in LANGUAGES:
        assert set(CATALOGUES.texts[language]) == set(english), language


def test_every_template_part_has_a_message() -> None:
    for template in Template:
        parts = ("sms",) if template.is_reply else ("sms", "subject", "body")
        for part in parts:
            variants = [f"{template}.{part}"]
            if template is Template.GOAL_CLOSED:
                variants = [f"{template}.met.{part}", f"{template}.not-met.{part}"]
            for key in variants:
                assert CATALOGUES.has(key), key


def test_translations_keep_the_placeholders() -> None:
    english = CATALOGUES.texts["en"]
    for language in LANGUAGES:
        theirs = CATALOGUES.texts[language]
        for key, text in english.items():
            found = set(PLACEHOLDER.findall(theirs[key]))
            assert found == set(PLACEHOLDER.findall(text)), (language, key)


@pytest.mark.parametrize("template", list(Template))
@pytest.mark.parametrize("language", [*LANGUAGES, "es-MX"])
def test_every_template_renders_short_and_complete(template: Template, language: str) -> None:
    for outcome in ("met", "not_met"):
        rendered = render(
            template,
            language,
            {**PARAMS, "outcome": outcome},
            zone=LA,
            given_name="Ana",
            skill=SKILL,
        )
        texts = [rendered.short, rendered.subject, rendered.text]
        assert not any("{" in t or "}" in t for t in texts), "a placeholder was left unfilled"
        segments = count_segments(rendered.short)
        # GSM-7 texts fit two segments; accents and other scripts need UCS-2, which fits less
        # per segment.
        assert segments.count <= (2 if segments.encoding == "GSM-7" else 3), rendered.short
        assert "\u202f" not in rendered.short
        # A date that ends in an abbreviation's point ("set.") does not end a sentence twice.
        assert not any(re.search(r"(?<!\.)\.\.(?!\.)", t) for t in texts), texts


def test_english_texts_stay_in_the_cheaper_gsm_alphabet() -> None:
    for template in Template:
        rendered = render(template, "en", PARAMS, zone=LA, skill=SKILL)
        assert count_segments(rendered.short).encoding == "GSM-7", template


def test_dates_and_times_are_in_the_school_zone_and_the_guardians_words() -> None:
    english = render(Template.MEETING_INVITATION, "en", PARAMS, zone=LA, skill=SKILL)
    assert "Tue, Sep 29" in english.short
    assert "6:30 PM" in english.short
    spanish = render(Template.MEETING_INVITATION, "es", PARAMS, zone=LA, skill=SKILL)
    assert "mar, 29 sept" in spanish.short
    assert "18:30" in spanish.short
    assert "martes, 29 de septiembre de 2026" in spanish.text
    assert "lectura en voz alta" in spanish.short  # a plain name, not "fluidez lectora"


def test_the_place_is_named_when_known_and_left_out_cleanly_when_not() -> None:
    placed = render(Template.MEETING_REMINDER_2H, "es", PARAMS, zone=LA, skill=SKILL)
    assert "(mar, 29 sept), Library, 2nd floor. ¡Hasta pronto!" in placed.short
    assert "Dónde: Library, 2nd floor" in placed.text
    unplaced = render(
        Template.MEETING_REMINDER_2H, "en", {**PARAMS, "location": None}, zone=LA, skill=SKILL
    )
    assert "(Tue, Sep 29). See you soon!" in unplaced.short
    assert "Where:" not in unplaced.text
    assert "(75 minutes)\n\n" in unplaced.text


def test_other_languages_read_english_and_are_told_so_in_their_own_words() -> None:
    assert text_language("es-419") == "es"
    assert text_language("zh-Hans-CN") == "zh"
    french = render(Template.GOAL_MET, "fr-CA", PARAMS, zone=LA, skill=SKILL)
    assert french.language == "en"
    notice = "Nous n'avons pas encore de messages en français ; les voici en anglais."
    assert french.short.startswith(notice + "\n")
    assert french.text.startswith(notice + "\n\n")
    assert f'<p lang="fr" dir="ltr">{html.escape(notice)}</p>' in french.html
    assert "Goal met!" in french.short
    amharic = render(Template.GOAL_MET, "am", PARAMS, zone=LA, skill=SKILL)
    assert amharic.notice == (
        "We do not have messages in Amharic (አማርኛ) yet; here they are in English."
    )
    unknown = render(Template.GOAL_MET, "qq", PARAMS, zone=LA, skill=SKILL)
    assert (unknown.language, unknown.notice) == ("en", "")
    assert unknown.short.startswith("Goal met!")
    vietnamese = render(Template.GOAL_MET, "vi", PARAMS, zone=LA, skill=SKILL)
    assert (vietnamese.language, vietnamese.notice) == ("vi", "")
    assert vietnamese.short.startswith("Đạt mục tiêu!")


def test_an_arabic_email_is_right_to_left_and_other_languages_left_to_right() -> None:
    arabic = render(Template.MEETING_INVITATION, "ar", PARAMS, zone=LA, skill=SKILL)
    assert '<html lang="ar" dir="rtl">' in arabic.html
    assert "اجتماع العائلات" in arabic.html
    assert "الثلاثاء" in arabic.text  # Tuesday, in Babel's Arabic words
    chinese = render(Template.MEETING_INVITATION, "zh", PARAMS, zone=LA, skill=SKILL)
    assert '<html lang="zh" dir="ltr">' in chinese.html
    assert "9月29日" in chinese.short
    # Dates follow the words: an English text for a French family has English dates.
    invitation = render(Template.MEETING_INVITATION, "fr", PARAMS, zone=LA, skill=SKILL)
    assert "Tue, Sep 29" in invitation.short
    assert "mar." not in invitation.short


def test_email_has_a_greeting_a_plain_text_body_and_the_same_in_html() -> None:
    rendered = render(Template.PRIVATE_NUMBER, "es", PARAMS, zone=LA, given_name="Ana")
    assert rendered.text.startswith("Hola, Ana:")
    assert "23" in rendered.text
    assert "23" in rendered.html
    assert '<html lang="es" dir="ltr">' in rendered.html
    no_name = render(Template.PRIVATE_NUMBER, "en", PARAMS, zone=LA)
    assert no_name.text.startswith("Hello,\n")


def test_html_escapes_what_it_is_given() -> None:
    skill = SkillWords("x", {"en": "<b>Reading</b> & more"}, {"en": "wpm"})
    rendered = render(Template.GOAL_CONFIRMATION, "en", PARAMS, zone=LA, skill=skill)
    assert "&lt;b&gt;Reading&lt;/b&gt; &amp; more" in rendered.html
