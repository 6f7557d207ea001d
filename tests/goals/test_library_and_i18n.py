"""The built-in activity library and the message catalogues, without any server."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest
from aptt_goals import i18n
from aptt_goals.domain import BUILT_IN_ACTIVITIES, BUILT_IN_SCALES, text
from aptt_platform.i18n import LANGUAGES
from babel.messages.extract import extract_from_dir

PACKAGE = Path(i18n.__file__).parent


@pytest.mark.parametrize("skill_code", ["orf", "math-facts"])
@pytest.mark.parametrize("grade", [1, 2, 3, 4, 5])
def test_every_grade_has_three_built_in_activities_per_skill(skill_code: str, grade: int) -> None:
    found = [a for a in BUILT_IN_ACTIVITIES if a.matches(skill_code=skill_code, grade=grade)]
    assert len(found) >= 3


@pytest.mark.parametrize("activity", BUILT_IN_ACTIVITIES, ids=lambda a: a.code)
def test_built_in_activities_are_short_in_english_and_spanish(activity: object) -> None:
    from aptt_goals.domain import LibraryActivity

    assert isinstance(activity, LibraryActivity)
    assert activity.skill_code in BUILT_IN_SCALES
    assert set(activity.languages) >= {"en", "es"}
    for language in ("en", "es"):
        assert len(activity.title[language]) <= 40
        # Short enough to read on a phone: two or three sentences.
        assert len(activity.instructions[language]) <= 200
    assert activity.times
    assert activity.per
    assert activity.minutes


def test_library_filters_by_skill_grade_and_language() -> None:
    word_cards = next(a for a in BUILT_IN_ACTIVITIES if a.code == "orf-word-cards")
    assert word_cards.matches(skill_code="orf", grade=1, lang="es")
    assert not word_cards.matches(grade=4)
    assert not word_cards.matches(skill_code="math-facts")
    assert not word_cards.matches(lang="vi")


def _messages_in_code() -> dict[str, str]:
    found = {}
    for filename, _, message, _, _ in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords={"text": None}
    ):
        found[message] = filename
    return found


def _placeholders(sentence: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}


@pytest.mark.parametrize("language", i18n.CATALOGUES.languages)
def test_every_message_is_in_every_catalogue_with_the_same_placeholders(language: str) -> None:
    texts = i18n.CATALOGUES.texts[language]
    messages = _messages_in_code()
    assert len(messages) > 50
    for msgid, where in messages.items():
        assert msgid in texts, f"no {language} text for {msgid!r} ({where})"
        assert _placeholders(texts[msgid]) == _placeholders(msgid), msgid
    assert i18n.CATALOGUES.missing()[language] == set()


def test_catalogues_hold_no_stale_messages() -> None:
    in_code = set(_messages_in_code())
    for language in i18n.CATALOGUES.languages:
        stale = {m.id for m in i18n.CATALOGUES.catalogue(language) if m.id and m.id not in in_code}
        assert stale == set(), f"{language}: remove {stale}"


def test_messages_are_plain_short_sentences() -> None:
    for msgid in _messages_in_code():
        assert len(msgid) <= 120, msgid
        words = re.sub(r"\{\w+\}", "", msgid)
        assert not re.search(r"\b(baseline|SMART|percentile|benchmark)\b", words), msgid


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("fr-CA, es;q=0.5, en;q=0.4", "es"),
        ("en-US,en;q=0.9", "en"),
        ("en;q=0, es;q=0.1", "es"),
        ("vi", "vi"),
        ("fr-CA, so;q=0.5, en;q=0.4", "so"),
        ("de", "en"),
        ("*", "en"),
        (None, "en"),
        ("q=;;,", "en"),
    ],
)
def test_language_from_accept_language(header: str | None, language: str) -> None:
    assert i18n.CATALOGUES.negotiate(header) == language


def test_numbers_dates_and_names_are_written_the_language_s_way() -> None:
    message = text(
        "Going from {baseline} to {target} in {days} days is within reach.",
        baseline=50.5,
        target=68.0,
        days=56,
    )
    assert i18n.render(message, "es") == "Pasar de 50,5 a 68 en 56 días es alcanzable."
    assert i18n.render(message, "en") == "Going from 50.5 to 68 in 56 days is within reach."
    ends = text("The goal has no end date.")
    assert i18n.render(ends, "es") == "La meta no tiene fecha de fin."
    dated = text("Choose an end date on or before {latest}.", latest=date(2026, 12, 14))
    assert "14 de diciembre de 2026" in i18n.render(dated, "es")
    # A Russian date ends with the point of its year abbreviation; the sentence adds none.
    assert i18n.render(dated, "ru").endswith(" 2026\u202f\u0433.")
    assert i18n.render(dated, "ar") == "اختر تاريخ نهاية في 14 ديسمبر 2026 أو قبله."
    named = text("The goal is about one skill: {skill}.", skill=BUILT_IN_SCALES["orf"].name)
    assert i18n.render(named, "es").endswith("Fluidez en la lectura oral.")


@pytest.mark.parametrize("language", LANGUAGES)
def test_numbers_of_any_size_are_written_in_every_language(language: str) -> None:
    # Babel's default decimal context cannot round 1e26 to two fraction digits.
    sentence = text("Choose a target between {min} and {max}.", min=-1e26, max=1e300)
    rendered = i18n.render(sentence, language)
    assert sum(c.isdigit() for c in rendered) == 27 + 301
    if language == "en":
        assert rendered.startswith("Choose a target between -100,000,000,000,000,000,000,000,000 ")
