"""The scheduling rules on their own: no broker, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from aptt_contracts.scheduling import (
    AttendanceRecorded,
    TeamMeetingCancelled,
    TeamMeetingRescheduled,
    TeamMeetingScheduled,
)
from aptt_platform.errors import Conflict, DomainError
from aptt_scheduling.domain import meetings as rules
from aptt_scheduling.domain.attendance import (
    AttendanceRecord,
    Rsvp,
    check_attendance,
    summarize,
)
from aptt_scheduling.domain.calendars import (
    BUILT_IN_TEMPLATES,
    TemplateDraft,
    calendar_id,
    plan,
    still_open,
    window_id,
)
from aptt_scheduling.domain.meetings import TeamMeeting, Window
from aptt_scheduling.domain.roster import (
    Classroom,
    Student,
    class_list,
    guardian_students,
    manages_classroom,
)
from pydantic import ValidationError

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


# -- engagement calendars ---------------------------------------------------------------


def test_oakland_template_gives_its_five_windows_in_the_school_year() -> None:
    windows = plan(BUILT_IN_TEMPLATES["builtin-oakland"], "2026-2027")
    assert [
        (w.kind, w.starts_on, w.ends_on, w.duration_minutes, w.focus_area) for w in windows
    ] == [
        ("conference", date(2026, 8, 1), date(2026, 8, 31), 30, None),
        ("team_meeting", date(2026, 10, 1), date(2026, 10, 31), 75, "reading"),
        ("conference", date(2026, 12, 1), date(2026, 12, 31), 30, None),
        ("team_meeting", date(2027, 2, 1), date(2027, 2, 28), 75, "math"),
        ("conference", date(2027, 3, 1), date(2027, 3, 31), 30, None),
    ]


def test_classic_template_has_one_fall_conference_and_three_team_meetings() -> None:
    windows = plan(BUILT_IN_TEMPLATES["builtin-aptt-classic"], "2027-2028")
    conferences = [w for w in windows if w.kind == "conference"]
    meetings = [w for w in windows if w.kind == "team_meeting"]
    assert [(w.starts_on.month, w.duration_minutes) for w in conferences] == [(10, 30)]
    assert [(w.starts_on, w.duration_minutes) for w in meetings] == [
        (date(2027, 9, 1), 75),
        (date(2028, 1, 1), 75),
        (date(2028, 4, 1), 75),
    ]
    # Leap year: the winter window spans January and February 2028.
    assert meetings[1].ends_on == date(2028, 2, 29)


def draft(**window: Any) -> TemplateDraft:
    return TemplateDraft.model_validate(
        {"name": "ours", "start_month": 9, "windows": [{"kind": "team_meeting", **window}]}
    )


def test_month_offsets_count_from_the_school_years_first_month() -> None:
    [by_offset] = plan(draft(month_offset=4), "2026-2027")
    [by_month] = plan(draft(month=1), "2026-2027")
    assert by_offset.starts_on == by_month.starts_on == date(2027, 1, 1)


@pytest.mark.parametrize(
    "window",
    [
        {"month": 3, "month_offset": 2},
        {},
        {"month": 13},
        {"month_offset": 10, "span_months": 3},
        {"month": 1, "duration_minutes": 300},
        {"month": 1, "focus_area": "Reading & Writing"},
    ],
)
def test_a_template_window_that_makes_no_sense_is_refused(window: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        draft(**window)


@pytest.mark.parametrize("year", ["2026-2028", "2026/2027", "26-27"])
def test_a_school_year_is_two_consecutive_years(year: str) -> None:
    with pytest.raises(DomainError) as caught:
        plan(draft(month=1), year)
    assert caught.value.code == "bad-school-year"


def test_only_windows_not_yet_over_are_given_out() -> None:
    windows = plan(BUILT_IN_TEMPLATES["builtin-oakland"], "2026-2027")
    assert [w.sequence for w in still_open(windows, date(2026, 10, 31))] == [2, 3, 4, 5]
    assert [w.sequence for w in still_open(windows, date(2026, 11, 1))] == [3, 4, 5]


def test_ids_of_calendars_and_windows_are_stable_and_distinct() -> None:
    cal = calendar_id("d1", "s1", "2026-2027")
    assert cal == calendar_id("d1", "s1", "2026-2027")
    assert cal != calendar_id("d2", "s1", "2026-2027")
    assert window_id("d1", "c1", cal, 1) == window_id("d1", "c1", cal, 1)
    assert len({window_id("d1", c, cal, n) for c in ("c1", "c2") for n in (1, 2)}) == 4


# -- team meetings --------------------------------------------------------------------


def meeting(**changes: Any) -> TeamMeeting:
    base = TeamMeeting(
        meeting_id="m1",
        district_id="d1",
        school_id="s1",
        classroom_id="c1",
        starts_at=NOW + timedelta(days=7),
        duration_minutes=75,
        location="Room 12",
        focus_skill_code="orf",
        agenda=rules.STANDARD_AGENDA,
        window_id=None,
        created_by="t1",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


def test_the_local_date_is_the_schools_not_utcs() -> None:
    evening = datetime(2026, 11, 1, 1, 30, tzinfo=UTC)  # 6:30 pm on 31 October in Oakland
    assert rules.local_date(evening, "America/Los_Angeles") == date(2026, 10, 31)
    assert rules.local_date(evening, "Europe/Madrid") == date(2026, 11, 1)


def test_a_meeting_starts_in_the_future_with_an_offset() -> None:
    rules.check_starts_in_the_future(NOW + timedelta(minutes=1), NOW)
    with pytest.raises(DomainError) as caught:
        rules.check_starts_in_the_future(NOW, NOW)
    assert caught.value.code == "in-the-past"
    with pytest.raises(DomainError):
        rules.check_starts_in_the_future(datetime(2030, 1, 1), NOW)


@pytest.mark.parametrize("minutes", [14, 241])
def test_duration_is_between_15_and_240_minutes(minutes: int) -> None:
    rules.check_duration(15)
    rules.check_duration(240)
    with pytest.raises(DomainError):
        rules.check_duration(minutes)


def test_focus_skill_must_be_built_in_or_defined_by_the_district() -> None:
    rules.check_skill("orf", set())
    rules.check_skill("phonics", {"phonics"})
    with pytest.raises(DomainError) as caught:
        rules.check_skill("phonics", set())
    assert caught.value.code == "unknown-skill"


OCTOBER = Window("w1", "c1", "team_meeting", date(2026, 10, 1), date(2026, 10, 31))


def test_a_window_must_be_the_classrooms_team_meeting_window_and_contain_the_date() -> None:
    rules.check_window(OCTOBER, "c1", date(2026, 10, 31))
    cases = [
        (OCTOBER, "c2", date(2026, 10, 5), "unknown-window"),
        (None, "c1", date(2026, 10, 5), "unknown-window"),
        (replace(OCTOBER, kind="conference"), "c1", date(2026, 10, 5), "wrong-window"),
        (OCTOBER, "c1", date(2026, 11, 1), "outside-window"),
    ]
    for window, classroom, day, code in cases:
        with pytest.raises(DomainError) as caught:
            rules.check_window(window, classroom, day)
        assert caught.value.code == code


def test_a_meeting_without_a_window_falls_in_the_one_that_fits() -> None:
    conference = Window("w0", "c1", "conference", date(2026, 10, 1), date(2026, 10, 31))
    assert rules.window_for([conference, OCTOBER], date(2026, 10, 9)) == OCTOBER
    assert rules.window_for([conference, OCTOBER], date(2026, 11, 9)) is None


def test_meetings_of_a_classroom_may_touch_but_not_overlap() -> None:
    first = meeting()
    rules.check_no_overlap([first], first.ends_at, 60)
    rules.check_no_overlap([first], first.starts_at - timedelta(minutes=60), 60)
    with pytest.raises(Conflict) as caught:
        rules.check_no_overlap([first], first.starts_at + timedelta(minutes=74), 30)
    assert caught.value.extra["meeting_id"] == "m1"
    rules.check_no_overlap([replace(first, status="cancelled")], first.starts_at, 75)
    rules.check_no_overlap([first], first.starts_at, 75, except_id="m1")


def test_rescheduling_keeps_the_history_of_starts_and_refuses_held_meetings() -> None:
    later = NOW + timedelta(days=9)
    moved = rules.reschedule(
        meeting(), starts_at=later, duration_minutes=90, location=None, now=NOW
    )
    assert (moved.starts_at, moved.duration_minutes, moved.location) == (later, 90, "Room 12")
    assert moved.previous_starts == (meeting().starts_at,)
    with pytest.raises(Conflict):
        rules.reschedule(
            meeting(attendance_taken=True),
            starts_at=later,
            duration_minutes=75,
            location=None,
            now=NOW,
        )
    with pytest.raises(Conflict):
        rules.reschedule(
            meeting(status="cancelled"),
            starts_at=later,
            duration_minutes=75,
            location=None,
            now=NOW,
        )
    with pytest.raises(DomainError):
        rules.reschedule(meeting(), starts_at=NOW, duration_minutes=75, location=None, now=NOW)


def test_a_held_meeting_cannot_be_cancelled() -> None:
    assert rules.cancel(meeting(), now=NOW).status == "cancelled"
    with pytest.raises(Conflict):
        rules.cancel(meeting(attendance_taken=True), now=NOW)


def test_a_meeting_records_what_happens_to_it() -> None:
    start = datetime(2026, 10, 14, 18, 0, 30, 123456, tzinfo=timezone(timedelta(hours=-7)))
    scheduled = rules.schedule(
        meeting_id="m1",
        district_id="d1",
        school_id="s1",
        classroom_id="c1",
        starts_at=start,
        duration_minutes=75,
        location="Library",
        focus_skill_code="orf",
        agenda=(),
        window_id="w1",
        created_by="t1",
        now=NOW,
    )
    assert scheduled.starts_at == datetime(2026, 10, 15, 1, 0, 30, tzinfo=UTC)
    assert scheduled.agenda == rules.STANDARD_AGENDA
    [event] = scheduled.events
    assert isinstance(event, TeamMeetingScheduled)
    assert (event.meeting_id, event.starts_at, event.window_id, event.location) == (
        "m1",
        scheduled.starts_at,
        "w1",
        "Library",
    )

    stored = meeting()
    later = stored.starts_at + timedelta(days=1)
    moved = rules.reschedule(stored, starts_at=later, duration_minutes=75, location=None, now=NOW)
    [event] = moved.events
    assert isinstance(event, TeamMeetingRescheduled)
    assert (event.starts_at, event.previous_starts_at) == (later, stored.starts_at)
    assert stored.events == [], "the meeting as it was records nothing"

    same = rules.reschedule(
        stored, starts_at=stored.starts_at, duration_minutes=75, location="Room 12", now=NOW
    )
    assert same is stored
    assert same.events == []

    cancelled = rules.cancel(stored, now=NOW)
    [event] = cancelled.events
    assert isinstance(event, TeamMeetingCancelled)
    assert event.starts_at == stored.starts_at
    again = rules.cancel(replace(cancelled, events=[]), now=NOW)
    assert again.events == [], "cancelling twice publishes once"


def test_taking_attendance_records_each_changed_record() -> None:
    records = [
        AttendanceRecord("a", "ga1", "mother", True),
        AttendanceRecord("b", "gb", "father", False),
    ]
    taken = rules.take_attendance(meeting(), records, now=NOW + timedelta(hours=1))
    assert taken.attendance_taken
    assert taken.updated_at == NOW + timedelta(hours=1)
    assert [(e.student_id, e.present, e.focus_skill_code) for e in taken.events] == [
        ("a", True, "orf"),
        ("b", False, "orf"),
    ]
    assert all(isinstance(e, AttendanceRecorded) for e in taken.events)
    # A later sheet keeps the time the meeting was first marked as held.
    retaken = rules.take_attendance(
        replace(taken, events=[]), records[:1], now=NOW + timedelta(hours=2)
    )
    assert (retaken.updated_at, len(retaken.events)) == (NOW + timedelta(hours=1), 1)


def test_rsvps_close_at_the_start_and_on_cancellation() -> None:
    m = meeting()
    rules.check_rsvp_open(m, m.starts_at - timedelta(seconds=1))
    for late, code in [
        ((m, m.starts_at), "rsvp-closed"),
        ((replace(m, status="cancelled"), NOW), "meeting-cancelled"),
    ]:
        with pytest.raises(Conflict) as caught:
            rules.check_rsvp_open(*late)
        assert caught.value.code == code


def test_attendance_opens_shortly_before_the_start() -> None:
    m = meeting()
    rules.check_attendance_open(m, m.starts_at - timedelta(minutes=60), 60)
    rules.check_attendance_open(m, m.starts_at + timedelta(days=3), 60)
    with pytest.raises(Conflict) as caught:
        rules.check_attendance_open(m, m.starts_at - timedelta(minutes=61), 60)
    assert caught.value.code == "attendance-not-open"
    rules.check_attendance_open(m, NOW, None)
    with pytest.raises(Conflict):
        rules.check_attendance_open(replace(m, status="cancelled"), m.starts_at, None)


# -- roster read model and access -----------------------------------------------------


CLASSROOM = Classroom("c1", "s1", 3, frozenset({"t1"}), frozenset({"a", "b", "c", "gone"}))
STUDENTS = [
    Student("a", "s1", frozenset({"ga1", "ga2"})),
    Student("b", "s1", frozenset({"gb"})),
    Student("c", "s1", frozenset({"ga1"})),
    Student("gone", "s1", frozenset({"gg"}), removed=True),
    Student("elsewhere", "s1", frozenset({"gb"})),
]


class Caller:
    def __init__(self, subject: str, *roles: str, schools: tuple[str, ...] = ()) -> None:
        self.subject = subject
        self.roles = frozenset(roles)
        self.school_ids = frozenset(schools)


def test_a_class_list_has_enrolled_students_not_removed_ones() -> None:
    classes = class_list(CLASSROOM, STUDENTS)
    assert classes.student_ids == {"a", "b", "c"}
    assert guardian_students(Caller("ga1", "guardian"), classes) == {"a", "c"}
    assert guardian_students(Caller("gg", "guardian"), classes) == frozenset()
    assert guardian_students(Caller("ga1", "teacher"), classes) == frozenset()


@pytest.mark.parametrize(
    ("caller", "manages"),
    [
        (Caller("t1", "teacher"), True),
        (Caller("t2", "teacher", schools=("s1",)), False),
        (Caller("p", "school_admin", schools=("s1",)), True),
        (Caller("p", "school_admin", schools=("s2",)), False),
        (Caller("x", "district_admin"), True),
        (Caller("t1", "guardian"), False),
        (Caller("e", "educator", schools=("s1",)), False),
    ],
)
def test_who_manages_a_classroom(caller: Caller, manages: bool) -> None:
    assert manages_classroom(caller, CLASSROOM) is manages


# -- attendance -----------------------------------------------------------------------


def record(student: str, guardian: str, relationship: Any = "mother", present: bool = True) -> Any:
    return AttendanceRecord(student, guardian, relationship, present)


def test_attendance_names_students_of_the_class_and_their_guardians_all_problems_at_once() -> None:
    classes = class_list(CLASSROOM, STUDENTS)
    check_attendance(classes, [record("a", "ga1"), record("a", "ga2", "father")])
    with pytest.raises(DomainError) as caught:
        check_attendance(
            classes,
            [
                record("a", "ga1"),
                record("elsewhere", "gb"),
                record("b", "ga1"),
                record("a", "ga1"),
                record("gone", "gg"),
            ],
        )
    assert [p["record"] for p in caught.value.extra["records"]] == [1, 2, 3, 4]


def test_summary_counts_families_and_who_came_against_the_reference() -> None:
    students = [Student(f"s{i}", "s1", frozenset({f"g{i}", f"h{i}"})) for i in range(25)]
    classroom = replace(CLASSROOM, student_ids=frozenset(s.student_id for s in students))
    classes = class_list(classroom, students)
    records = [record(f"s{i}", f"g{i}", "mother") for i in range(23)]
    records += [record("s0", "h0", "father"), record("s1", "h1", "grandparent")]
    records += [record("s24", "g24", "father", present=False)]
    rsvps = [
        Rsvp("m1", "s0", "g0", True, "es", 2),
        Rsvp("m1", "s0", "h0", True, "es", 2),
        Rsvp("m1", "s1", "g1", True, None, 1),
        Rsvp("m1", "s2", "g2", False, None, 0),
    ]
    summary = summarize(classes, records, rsvps)
    assert (summary.families_in_class, summary.families_attended) == (25, 23)
    assert summary.rate == 0.92
    assert summary.band == "at-or-above-reference"
    assert summary.by_relationship == {"mother": 23, "father": 1, "grandparent": 1, "other": 0}
    assert summary.guardians_present == 25
    assert summary.families_rsvp_attending == 2
    assert summary.interpreter_requests == {"es": 2}
    assert summary.childcare_children == 3


def test_a_student_who_left_still_counts_as_a_family_invited() -> None:
    classes = class_list(CLASSROOM, STUDENTS)
    summary = summarize(classes, [record("gone", "gg")], [])
    assert (summary.families_in_class, summary.families_attended) == (4, 1)
    assert summary.band == "below-reference"
    empty = summarize(class_list(replace(CLASSROOM, student_ids=frozenset()), []), [], [])
    assert (empty.rate, empty.band) == (None, "no-families")
