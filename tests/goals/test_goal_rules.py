"""A goal's life as pure rules: progress from results, met once, closing, practice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from aptt_contracts.goals import GoalClosed, GoalMet, GoalProgressed, GoalSet, PracticeLogged
from aptt_goals.domain import (
    Goal,
    PlannedActivity,
    closes_at,
    local_today,
    progress_percent,
    reached,
)

START = date(2026, 10, 15)
END = date(2026, 12, 10)


def goal(**changes: object) -> Goal:
    values: dict[str, object] = {
        "goal_id": "g-1",
        "district_id": "d-1",
        "student_id": "s-1",
        "school_id": "sch-1",
        "guardian_id": "gd-1",
        "skill_code": "orf",
        "higher_is_better": True,
        "baseline": 50.0,
        "baseline_source": "latest_result",
        "target": 60.0,
        "activities": (
            PlannedActivity(activity_code="orf-read-aloud", times=5, per="week"),
            PlannedActivity(description="read to grandma", times=1, per="week"),
        ),
        "starts_on": START,
        "ends_on": END,
        "closes_at": closes_at(END, "America/Los_Angeles"),
        "created_at": datetime(2026, 10, 15, 16, tzinfo=UTC),
    }
    values.update(changes)
    return Goal(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "percent"),
    [(50, 0), (45, 0), (55, 50), (59.99, 99), (60, 100), (75, 100)],
)
def test_progress_percent_is_clamped_share_of_the_way(score: float, percent: int) -> None:
    assert progress_percent(50, 60, score) == percent


def test_progress_percent_when_lower_is_better() -> None:
    assert progress_percent(30, 10, 20) == 50
    assert progress_percent(30, 10, 35) == 0
    assert reached(10, 9, higher_is_better=False)
    assert not reached(10, 11, higher_is_better=False)


def test_setting_a_goal_announces_it_with_library_activities_only() -> None:
    g = goal()
    g.announce()
    [event] = g.events
    assert isinstance(event, GoalSet)
    # The family's own words never travel in events.
    assert event.activity_codes == ["orf-read-aloud"]
    assert (event.baseline, event.target, event.ends_on) == (50.0, 60.0, END)


def test_a_result_within_the_goal_moves_progress() -> None:
    g = goal()
    assert g.record_result(result_id="r1", score=55, assessed_on=START + timedelta(days=20))
    [event] = g.events
    assert isinstance(event, GoalProgressed)
    assert (event.progress_percent, event.score, g.progress_percent) == (50, 55, 50)


@pytest.mark.parametrize("assessed_on", [START - timedelta(days=1), END + timedelta(days=1)])
def test_a_result_outside_the_goal_does_not_count(assessed_on: date) -> None:
    g = goal()
    assert not g.record_result(result_id="r1", score=58, assessed_on=assessed_on)
    assert g.events == []
    assert g.progress_percent == 0


def test_results_on_the_first_and_last_day_count() -> None:
    g = goal()
    assert g.record_result(result_id="r1", score=52, assessed_on=START)
    assert g.record_result(result_id="r2", score=53, assessed_on=END)


def test_an_older_result_arriving_late_does_not_move_progress_back() -> None:
    g = goal()
    g.record_result(result_id="r2", score=58, assessed_on=START + timedelta(days=30))
    assert not g.record_result(result_id="r1", score=52, assessed_on=START + timedelta(days=10))
    assert g.latest_score == 58


def test_the_same_result_again_is_no_news_but_a_correction_is() -> None:
    g = goal()
    day = START + timedelta(days=20)
    assert g.record_result(result_id="r1", score=55, assessed_on=day)
    assert not g.record_result(result_id="r1", score=55, assessed_on=day)
    assert g.record_result(result_id="r1", score=56, assessed_on=day)
    assert [e.score for e in g.events if isinstance(e, GoalProgressed)] == [55, 56]


def test_goal_met_is_announced_once() -> None:
    g = goal()
    g.record_result(result_id="r1", score=61, assessed_on=START + timedelta(days=20))
    g.record_result(result_id="r2", score=58, assessed_on=START + timedelta(days=30))
    g.record_result(result_id="r3", score=64, assessed_on=START + timedelta(days=40))
    met = [e for e in g.events if isinstance(e, GoalMet)]
    assert len(met) == 1
    assert met[0].score == 61
    assert g.met_on == START + timedelta(days=20)


def test_closing_after_meeting_the_target_is_met_even_after_a_dip() -> None:
    g = goal()
    g.record_result(result_id="r1", score=60, assessed_on=START + timedelta(days=20))
    g.record_result(result_id="r2", score=57, assessed_on=START + timedelta(days=30))
    g.events.clear()
    g.close(on=END, reason="ended")
    [event] = g.events
    assert isinstance(event, GoalClosed)
    assert (event.outcome, event.reason, event.progress_percent) == ("met", "ended", 70)


def test_closing_without_reaching_the_target_is_not_met_and_happens_once() -> None:
    g = goal()
    g.close(on=END, reason="ended")
    g.close(on=END, reason="ended")
    assert [e.outcome for e in g.events if isinstance(e, GoalClosed)] == ["not_met"]
    assert not g.record_result(result_id="r1", score=70, assessed_on=END)


def test_a_goal_closes_after_its_end_date_in_the_school_time_zone() -> None:
    g = goal()
    # Midnight after 10 December in Los Angeles is 08:00 UTC on 11 December.
    assert not g.is_due(datetime(2026, 12, 11, 7, 59, tzinfo=UTC))
    assert g.is_due(datetime(2026, 12, 11, 8, 0, tzinfo=UTC))
    assert local_today(datetime(2026, 12, 11, 7, 59, tzinfo=UTC), "America/Los_Angeles") == END


TODAY = START + timedelta(days=10)


@pytest.mark.parametrize(
    ("practiced_on", "minutes", "code", "already", "problem"),
    [
        (TODAY, 20, None, 0, None),
        (START, 20, "orf-read-aloud", 0, None),
        (START - timedelta(days=1), 20, None, 0, "The practice date must be between"),
        (TODAY + timedelta(days=1), 20, None, 0, "The practice date must be between"),
        (TODAY, 20, "math-facts-dice", 0, "is not part of this goal"),
        (TODAY, 20, None, 580, None),
        (TODAY, 20, None, 581, "minutes of practice"),
    ],
)
def test_practice_rules(
    practiced_on: date, minutes: int, code: str | None, already: int, problem: str | None
) -> None:
    found = goal().practice_problem(
        practiced_on=practiced_on,
        minutes=minutes,
        activity_code=code,
        today=TODAY,
        minutes_already=already,
    )
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found.msgid


def test_practice_on_a_closed_goal_is_refused() -> None:
    g = goal()
    g.close(on=TODAY, reason="closed_early")
    found = g.practice_problem(
        practiced_on=TODAY, minutes=10, activity_code=None, today=TODAY, minutes_already=0
    )
    assert found is not None


def test_logging_practice_keeps_the_totals() -> None:
    g = goal()
    g.log_practice(practiced_on=START + timedelta(days=3), minutes=20)
    g.log_practice(practiced_on=START + timedelta(days=1), minutes=15)
    assert (g.practice_sessions, g.practice_minutes) == (2, 35)
    assert g.last_practiced_on == START + timedelta(days=3)
    assert [type(e) for e in g.events] == [PracticeLogged, PracticeLogged]
