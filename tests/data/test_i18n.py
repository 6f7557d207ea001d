"""The class chart's words come from the gettext catalogues, and every catalogue has them all."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from aptt_data import i18n
from aptt_data.api import chart
from aptt_data.service.report_views import ClassReport, Growth, ReportBar


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


def test_the_chart_in_arabic_runs_right_to_left() -> None:
    report = ClassReport(
        report_id="r1",
        meeting_id="m1",
        classroom_id="c1",
        school_id="s1",
        skill_code="orf",
        starts_at=datetime(2026, 10, 1, tzinfo=UTC),
        grade=0,
        season="fall",
        benchmark=40.0,
        suppressed=False,
        suppressed_reason=None,
        min_group_size=5,
        student_count=2,
        scored_count=2,
        bands={"at": 1, "below": 1},
        bars=[
            ReportBar(number=1, score=42.0, previous_score=None, growth=None, band="at"),
            ReportBar(number=2, score=30.5, previous_score=None, growth=None, band="below"),
        ],
        growth=Growth(previous_report_id=None, compared_count=0, median=None),
    )
    arabic = chart.render(report, skill_name="القراءة", unit="كلمة", language="ar")
    assert 'lang="ar" direction="rtl"' in arabic
    assert "القراءة: صفّنا" in arabic
    assert "المعيار المرجعي لـالروضة (الخريف)" in arabic
    # A label that starts at the left margin in English ends there in Arabic.
    title = '<text x="120.0" y="70.0" font-size="44" font-weight="700" fill="#1a1a1a"'
    assert f'{title} text-anchor="end">' in arabic
    english = chart.render(report, skill_name="Reading", unit="wpm", language="en")
    assert 'lang="en" direction="ltr"' in english
    assert f"{title}>" in english
