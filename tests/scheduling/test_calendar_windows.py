"""Moving one window of a school's engagement calendar: rules, its meetings, who may."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aptt_contracts.data import ClassroomUpserted
from aptt_local.testing import eventually, random_id

from .conftest import TIMEZONE, District, Scheduling
from .test_calendars import NEXT_YEAR, apply, windows

CHANGED = "org.aptt.scheduling.meeting-windows.changed.v1"
# builtin-oakland: 1 Aug conference, 2 Oct team meeting, 3 Dec conference, 4 Feb team
# meeting, 5 Mar conference.
OCTOBER = 2


async def applied(d: District) -> str:
    answer = await apply(d, "builtin-oakland")
    assert answer.status_code == 201, answer.text
    calendar_id: str = answer.json()["calendar_id"]
    return calendar_id


def path(d: District, calendar_id: str, sequence: int | None = None) -> str:
    base = f"/v1/schools/{d.school_id}/engagement-calendars/{calendar_id}/windows"
    return base if sequence is None else f"{base}/{sequence}"


async def move(
    d: District,
    calendar_id: str,
    starts_on: str,
    ends_on: str,
    *,
    sequence: int = OCTOBER,
    headers: dict[str, str] | None = None,
) -> Any:
    return await d.api.client.patch(
        path(d, calendar_id, sequence),
        json={"starts_on": starts_on, "ends_on": ends_on},
        headers=headers or d.school_admin,
    )


async def test_a_moved_window_moves_for_every_classroom_and_later_ones(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    calendar_id = await applied(d)

    moved = await move(d, calendar_id, f"{NEXT_YEAR}-10-05", f"{NEXT_YEAR}-11-20")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["starts_on"], moved.json()["ends_on"], moved.json()["moved"]) == (
        f"{NEXT_YEAR}-10-05",
        f"{NEXT_YEAR}-11-20",
        True,
    )
    october = next(w for w in await windows(d) if w["sequence"] == OCTOBER)
    assert (october["starts_on"], october["ends_on"]) == (
        f"{NEXT_YEAR}-10-05",
        f"{NEXT_YEAR}-11-20",
    )
    events = await d.published(CHANGED)
    assert [(e["classroom_id"], e["windows"][0]["window_id"]) for e in events] == [
        (d.classroom_id, october["window_id"])
    ]
    assert events[0]["windows"][0]["ends_on"] == f"{NEXT_YEAR}-11-20"

    listed = await scheduling.client.get(path(d, calendar_id), headers=d.teacher)
    assert listed.status_code == 200, listed.text
    assert [(w["sequence"], w["moved"]) for w in listed.json()["items"]][:3] == [
        (1, False),
        (2, True),
        (3, False),
    ]

    late = random_id("cls")
    await scheduling.roster(
        ClassroomUpserted(
            district_id=d.district_id,
            classroom_id=late,
            school_id=d.school_id,
            teacher_ids=[d.teacher_id],
            student_ids=[],
        )
    )

    async def late_has_moved_dates() -> bool:
        known = await d.api.db["meeting_windows"].count_documents(
            {"district_id": d.district_id, "classroom_id": late}
        )
        if known < 5:
            return False
        theirs = next(w for w in await windows(d, late) if w["sequence"] == OCTOBER)
        return bool(theirs["starts_on"] == f"{NEXT_YEAR}-10-05")

    await eventually(late_has_moved_dates, what="the later classroom's window at the new dates")


async def test_a_window_keeps_to_the_school_year_and_to_its_kind(
    scheduling: Scheduling,
) -> None:
    d = await scheduling.district(students=1)
    calendar_id = await applied(d)
    cases = [
        (f"{NEXT_YEAR}-10-20", f"{NEXT_YEAR}-10-01", 422, "window-reversed"),
        (f"{NEXT_YEAR}-10-01", f"{NEXT_YEAR + 1}-08-15", 422, "window-outside-school-year"),
        (f"{NEXT_YEAR}-07-20", f"{NEXT_YEAR}-10-15", 422, "window-outside-school-year"),
        (f"{NEXT_YEAR}-10-01", f"{NEXT_YEAR + 1}-02-10", 409, "windows-overlap"),
    ]
    for starts_on, ends_on, status, code in cases:
        answer = await move(d, calendar_id, starts_on, ends_on)
        assert answer.status_code == status, (starts_on, ends_on, answer.text)
        assert answer.json()["type"].endswith(f"/{code}")
    # A team-meeting window may overlap a conference window: only one kind is one sequence.
    over_december = await move(d, calendar_id, f"{NEXT_YEAR}-10-01", f"{NEXT_YEAR}-12-10")
    assert over_december.status_code == 200, over_december.text
    assert (await move(d, calendar_id, "2000-01-01", "2000-01-02", sequence=6)).status_code == 404
    assert (await move(d, calendar_id, "2000-01-01", "2000-01-02", sequence=99)).status_code == 422
    unbounded = await d.api.client.patch(
        path(d, calendar_id, OCTOBER),
        json={"starts_on": f"{NEXT_YEAR}-10-01", "ends_on": f"{NEXT_YEAR}-10-30", "x": 1},
        headers=d.school_admin,
    )
    assert unbounded.status_code == 422


async def test_a_window_with_meetings_cannot_leave_them_outside(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    calendar_id = await applied(d)
    starts_at = datetime(NEXT_YEAR, 10, 15, 18, tzinfo=ZoneInfo(TIMEZONE))
    answer = await scheduling.client.post(
        "/v1/team-meetings",
        json={
            "classroom_id": d.classroom_id,
            "starts_at": starts_at.isoformat(),
            "focus_skill_code": "orf",
            "location": "Room 12",
        },
        headers=d.teacher,
    )
    assert answer.status_code == 201, answer.text

    refused = await move(d, calendar_id, f"{NEXT_YEAR}-10-16", f"{NEXT_YEAR}-11-30")
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/window-holds-meetings")
    assert refused.json()["outside"] == 1
    october = next(w for w in await windows(d) if w["sequence"] == OCTOBER)
    assert october["starts_on"] == f"{NEXT_YEAR}-10-01", "nothing moved"

    kept = await move(d, calendar_id, f"{NEXT_YEAR}-10-15", f"{NEXT_YEAR}-11-30")
    assert kept.status_code == 200, kept.text
    assert kept.json()["team_meetings"] == 1


async def test_only_the_schools_admins_move_its_windows(scheduling: Scheduling) -> None:
    d = await scheduling.district(students=1)
    calendar_id = await applied(d)
    dates = (f"{NEXT_YEAR}-10-03", f"{NEXT_YEAR}-10-30")
    other_school = d.headers(random_id("p"), "school_admin", schools=[random_id("sch")])
    stranger = d.headers(random_id("a"), "district_admin", district_id=random_id("d"))
    for headers, status in [(d.teacher, 403), (other_school, 403), (stranger, 404)]:
        answer = await move(d, calendar_id, *dates, headers=headers)
        assert answer.status_code == status, answer.text
    for headers, status in [(other_school, 403), (stranger, 404), (d.guardian(), 403)]:
        read = await scheduling.client.get(path(d, calendar_id), headers=headers)
        assert read.status_code == status, read.text

    # Another school's calendar under this school's address is not found.
    other = await scheduling.district(students=1, district_id=d.district_id)
    theirs = await applied(other)
    assert (await move(d, theirs, *dates, headers=d.district_admin)).status_code == 404
    assert (await move(d, calendar_id, *dates, headers=d.district_admin)).status_code == 200
