"""Class report rules without I/O: bands, the private-number draw, suppression, growth,
the chart, and assessment rows."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest
from aptt_contracts.skills import BUILT_IN_SKILLS
from aptt_data.api.chart import render
from aptt_data.domain.assessments import ResultRows, check_results, read_plain, result_id
from aptt_data.domain.reports import (
    Entry,
    Figures,
    band_of,
    draw_numbers,
    figures,
    number_newcomers,
)
from aptt_data.service.report_views import ClassReport, Growth, ReportBar

SVG = "{http://www.w3.org/2000/svg}"


def chart_report(result: Figures, *, grade: int, season: str) -> ClassReport:
    """The report as the chart route hands it to the chart."""
    return ClassReport(
        report_id="r1",
        meeting_id="m1",
        classroom_id="c1",
        school_id="sch1",
        skill_code="orf",
        starts_at=datetime(2027, 1, 12, 17, tzinfo=UTC),
        grade=grade,
        season=season,
        benchmark=result.benchmark,
        suppressed=result.suppressed,
        suppressed_reason=result.suppressed_reason,
        min_group_size=5,
        student_count=result.student_count,
        scored_count=result.scored_count,
        bands=result.bands,
        bars=[ReportBar.model_validate(asdict(b)) for b in result.bars],
        growth=Growth(
            previous_report_id="r0",
            compared_count=result.compared_count,
            median=result.median_growth,
        ),
    )


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (79.9, "well_below"),
        (80, "below"),
        (99.9, "below"),
        (100, "at"),
        (109.9, "at"),
        (110, "above"),
    ],
)
def test_bands_are_cut_at_80_100_and_110_percent_of_the_benchmark(score: float, band: str) -> None:
    assert band_of(score, 100) == band


def test_where_lower_is_better_the_bands_turn_around() -> None:
    assert band_of(50, 100, higher_is_better=False) == "above"
    assert band_of(130, 100, higher_is_better=False) == "well_below"


def test_a_draw_gives_each_student_one_number_from_1_to_n() -> None:
    students = [f"s{i}" for i in range(25)]
    draw = draw_numbers(students)
    assert sorted(draw) == sorted(students)
    assert sorted(draw.values()) == list(range(1, 26))


def test_a_draw_never_repeats_the_previous_meetings_numbers() -> None:
    students = ["a", "b"]
    previous = {"a": 1, "b": 2}
    # With two students only two draws exist; the repeated one is always drawn again.
    assert all(draw_numbers(students, previous=previous) == {"a": 2, "b": 1} for _ in range(50))


def test_newcomers_get_numbers_no_one_in_the_report_has_had() -> None:
    added = number_newcomers([1, 2, 3, 4, 6], ["x", "y"])
    assert sorted(added.values()) == [7, 8]


def entries(scores: list[float | None], previous: list[float | None] | None = None) -> list[Entry]:
    previous = previous or [None] * len(scores)
    return [
        Entry(student_id=f"s{i}", number=i, score=s, previous_score=p)
        for i, (s, p) in enumerate(zip(scores, previous, strict=True), 1)
    ]


def test_fewer_scores_than_the_minimum_show_nothing() -> None:
    result = figures(
        entries([90, 95, 100, 130, None, None]),
        benchmark=97,
        higher_is_better=True,
        min_group_size=5,
    )
    assert result.suppressed
    assert result.suppressed_reason == "too-few-scores"
    assert result.bands == {}
    assert result.bars == ()
    assert (result.student_count, result.scored_count) == (6, 4)


def test_a_skill_without_a_benchmark_for_the_grade_shows_nothing() -> None:
    result = figures(entries([10] * 6), benchmark=None, higher_is_better=True, min_group_size=5)
    assert result.suppressed_reason == "no-benchmark"


def test_bars_follow_the_numbers_with_growth_since_the_previous_report() -> None:
    result = figures(
        entries([70, 90, 100, 130, 110, None], [60, 95, None, 120, 100, 80]),
        benchmark=100,
        higher_is_better=True,
        min_group_size=5,
    )
    assert not result.suppressed
    assert [b.number for b in result.bars] == [1, 2, 3, 4, 5, 6]
    assert [b.growth for b in result.bars] == [10, -5, None, 10, 10, None]
    assert result.bands == {"well_below": 1, "below": 1, "at": 1, "above": 2}
    assert (result.compared_count, result.median_growth) == (4, 10)


def test_the_chart_is_valid_svg_with_a_bar_per_number_and_the_benchmark() -> None:
    result = figures(
        entries([70, 90, 100, 130, 110, None], [60] * 6),
        benchmark=97,
        higher_is_better=True,
        min_group_size=5,
    )
    report = chart_report(result, grade=3, season="winter")

    svg = render(report, skill_name="Reading <fast> & well", unit="words", language="es-MX")

    root = ET.fromstring(svg)  # noqa: S314 - our own output
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert root.get("lang") == "es"
    assert "Reading <fast> & well: nuestra clase" in texts
    assert "Meta de grado 3 (invierno): 97" in texts
    assert [str(n) for n in range(1, 7)] == [t for t in texts if t in {str(n) for n in range(1, 7)}]
    assert (
        len(
            [
                r
                for r in root.iter(f"{SVG}rect")
                if r.get("fill") in {"#b2182b", "#ef8a62", "#67a9cf", "#2166ac"}
            ]
        )
        == 5 + 4
    )
    assert "Crecimiento medio desde la reunión anterior: +40" in texts


def test_a_suppressed_chart_says_why_in_the_language() -> None:
    result = figures(
        entries([70, 90, None, None, None, None], [None] * 6),
        benchmark=97,
        higher_is_better=True,
        min_group_size=5,
    )
    assert result.suppressed_reason == "too-few-scores"
    report = chart_report(result, grade=2, season="fall")
    svg = render(report, skill_name="Math", unit="facts", language="vi")
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]  # noqa: S314
    assert "Chưa đủ 5 học sinh có điểm." in texts


def test_result_ids_are_stable_across_uploads_and_formats() -> None:
    day = date(2026, 10, 1)
    assert result_id("d", "s1", "orf", day) == result_id("d", "s1", "orf", day)
    assert result_id("d", "s1", "orf", day) != result_id("d2", "s1", "orf", day)


def test_results_for_students_out_of_scope_are_refused() -> None:
    found = read_plain(
        "r.csv", b"student_sourced_id,skill_code,score,assessed_on\r\ns9,orf,80,2026-10-01\r\n"
    )
    checked = check_results(
        found,
        students={"s1": "sch1"},
        skills=BUILT_IN_SKILLS,
        today=date(2026, 10, 2),
        scope="your schools",
    )
    assert checked.rows == []
    assert [r.reason for r in checked.rejections] == ["no student s9 in your schools"]
    assert isinstance(checked, ResultRows)
