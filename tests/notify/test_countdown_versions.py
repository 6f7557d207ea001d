"""A district's own countdown steps: a version per change, and only changes count."""

from __future__ import annotations

from datetime import date, time

from aptt_notify.domain.countdown import EventTime, OwnStep, versioned

TEXTS = {"en": {"title": "Kindergarten open house", "place": "Lincoln Elementary library"}}


def open_house(starts: time = time(17, 30), version: int = 1) -> OwnStep:
    event = EventTime(date(2027, 5, 12), starts, time(19), "America/Chicago")
    return OwnStep("open-house", "event", TEXTS, event=event, version=version)


def supplies() -> OwnStep:
    return OwnStep("supplies", "message", {"en": {"sms": "s", "subject": "s", "body": "b"}})


def test_an_unchanged_step_keeps_its_version_and_is_no_change() -> None:
    kept = (open_house(version=3),)
    steps, changes = versioned(kept, (open_house(),))
    assert [s.version for s in steps] == [3]
    assert changes == []


def test_a_changed_step_gets_one_more_version_an_added_one_the_first() -> None:
    before = (open_house(version=2),)
    steps, changes = versioned(before, (open_house(time(18, 30)), supplies()))
    assert [(s.step_id, s.version) for s in steps] == [("open-house", 3), ("supplies", 1)]
    assert [(old and old.version, new and new.version) for old, new in changes] == [
        (2, 3),
        (None, 1),
    ]


def test_a_removed_step_is_a_change_with_nothing_after_it() -> None:
    steps, changes = versioned((open_house(version=4), supplies()), (supplies(),))
    assert [s.step_id for s in steps] == ["supplies"]
    assert changes == [(open_house(version=4), None)]


def test_an_event_is_on_its_own_zones_clock() -> None:
    event = open_house().event
    assert event is not None
    assert event.starts_at().isoformat() == "2027-05-12T17:30:00-05:00"
