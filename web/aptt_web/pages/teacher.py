"""Teachers' pages: my classes and families, schedule a team meeting, run it (agenda, the
chart on the projector, attendance one tap per guardian), the class's goals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.services import ServiceProblem

router = APIRouter()
Id = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-]+$")]
AGENDA = (
    "Team building",
    "Foundational skill lesson",
    "Class data",
    "Home activities",
    "Goal setting",
)
RELATIONSHIPS = {"mother", "father", "grandparent"}


def _staff(v: Visit) -> None:
    if not v.user.has("teacher", "school_admin", "district_admin"):
        raise ServiceProblem(403)


@router.get("/teach", response_class=Response)
async def classes(v: SignedIn) -> Response:
    _staff(v)
    found = await v.services.get("data", v.token, "/v1/me/classrooms")
    return v.render("teach/classes.html", classrooms=found["items"])


@router.get("/teach/classes/{classroom_id}", response_class=Response)
async def classroom(v: SignedIn, classroom_id: Id) -> Response:
    _staff(v)
    return await _classroom_page(v, classroom_id)


async def _classroom_page(
    v: Visit,
    classroom_id: str,
    *,
    refused: str | None = None,
    conference_refused: str | None = None,
    status: int = 200,
) -> Response:
    roster, (families, meetings, goals, hours) = await asyncio.gather(
        v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list"),
        asyncio.gather(
            _arriving(v.services.get("notify", v.token, f"/v1/classrooms/{classroom_id}/families")),
            _arriving(
                v.services.get(
                    "scheduling", v.token, f"/v1/classrooms/{classroom_id}/team-meetings"
                )
            ),
            _arriving(
                v.services.get("goals", v.token, f"/v1/classrooms/{classroom_id}/goals", limit=200)
            ),
            _arriving(
                v.services.get(
                    "scheduling", v.token, f"/v1/classrooms/{classroom_id}/conference-availability"
                )
            ),
        ),
    )
    contacts = {f["student_id"]: f for f in (families or {"items": []})["items"]}
    goal_count: dict[str, int] = {}
    for goal in (goals or {"items": []})["items"]:
        if goal["status"] == "active":
            goal_count[goal["student_id"]] = goal_count.get(goal["student_id"], 0) + 1
    tz = roster["classroom"].get("timezone")
    return v.render(
        "teach/classroom.html",
        status=status,
        refused=refused,
        classroom=roster["classroom"],
        students=roster["students"],
        contacts={
            sid: v.date(c["last_contact_at"]) if c.get("last_contact_at") else None
            for sid, c in contacts.items()
        },
        goal_count=goal_count,
        meetings=[
            {**m, "when": v.when(m["starts_at"], m["timezone"])}
            for m in (meetings or {"items": []})["items"]
        ],
        agenda=AGENDA,
        timezone=tz,
        scheduled=v.request.query_params.get("scheduled") == "1",
        noted=v.request.query_params.get("noted") == "1",
        arriving=any(part is None for part in (families, meetings, goals, hours)),
        conference_days=_conference_days((hours or {"items": []})["items"]),
        conference_refused=conference_refused,
    )


def _conference_days(hours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each day of conference hours, with how many of its slots families have booked."""
    days: dict[str, dict[str, Any]] = {}
    for availability in hours:
        for slot in availability["slots"]:
            day = slot["local_starts_at"][:10]
            found = days.setdefault(day, {"day": day, "slots": 0, "booked": 0})
            found["slots"] += 1
            found["booked"] += slot["state"] == "booked"
    return [days[d] for d in sorted(days)]


async def _arriving(call: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    """A service that has not yet received a new roster answers 404 for its classroom: the
    data service's class list decides whether the class exists, the rest may lag seconds."""
    try:
        return await call
    except ServiceProblem as problem:
        if problem.status == 404:
            return None
        raise


@router.post("/teach/classes/{classroom_id}/meetings", response_class=Response)
@create_form
async def schedule(v: SignedIn, form: Form, classroom_id: Id) -> Response:
    _staff(v)
    roster = await v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list")
    try:
        zone = ZoneInfo(roster["classroom"].get("timezone") or "UTC")
        starts = datetime.fromisoformat(f"{text(form, 'date')}T{text(form, 'time')}").replace(
            tzinfo=zone
        )
    except (ValueError, ZoneInfoNotFoundError):
        return await _refused(v, classroom_id, v._("Give the meeting's date and time."))
    minutes = text(form, "duration_minutes", "75")
    body = {
        "classroom_id": classroom_id,
        "starts_at": starts.isoformat(),
        "duration_minutes": int(minutes) if minutes.isdigit() else 75,
        "location": text(form, "location"),
        "focus_skill_code": text(form, "focus_skill_code"),
        "agenda": [line.strip() for line in text(form, "agenda").splitlines() if line.strip()],
    }
    try:
        made = (
            await v.services.call("scheduling", v.token, "POST", "/v1/team-meetings", json=body)
        ).json()
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        return await _refused(v, classroom_id, problem.detail)
    return RedirectResponse(f"/teach/meetings/{made['meeting_id']}?scheduled=1", status_code=303)


async def _refused(v: Visit, classroom_id: str, reason: str) -> Response:
    return await _classroom_page(v, classroom_id, refused=reason, status=422)


async def _meeting(v: Visit, meeting_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    found = await v.services.get("scheduling", v.token, f"/v1/team-meetings/{meeting_id}")
    roster = await v.services.get(
        "data", v.token, f"/v1/classrooms/{found['classroom_id']}/class-list"
    )
    return found, roster


@router.get("/teach/meetings/{meeting_id}", response_class=Response)
async def run(v: SignedIn, meeting_id: Id) -> Response:
    _staff(v)
    found, roster = await _meeting(v, meeting_id)
    attendance, rsvps = await asyncio.gather(
        v.services.get("scheduling", v.token, f"/v1/team-meetings/{meeting_id}/attendance"),
        v.services.get("scheduling", v.token, f"/v1/team-meetings/{meeting_id}/rsvps"),
    )
    present = {(r["student_id"], r["guardian_id"]) for r in attendance["records"] if r["present"]}
    return v.render(
        "teach/meeting.html",
        meeting=found,
        when=v.when(found["starts_at"], found["timezone"]),
        students=roster["students"],
        present=present,
        attendance=attendance,
        rsvps=rsvps,
        scheduled=v.request.query_params.get("scheduled") == "1",
        saved=v.request.query_params.get("saved") == "1",
        surveys_sent=v.request.query_params.get("surveys"),
    )


@router.post("/teach/meetings/{meeting_id}/end", response_class=Response)
async def end_meeting(v: SignedIn, form: Form, meeting_id: Id) -> Response:
    """The families who came get the survey now rather than at the meeting's planned end."""
    _staff(v)
    sent = await v.services.call(
        "notify", v.token, "POST", f"/v1/surveys/meetings/{meeting_id}/send"
    )
    count = int(sent.json().get("surveys", 0))
    return RedirectResponse(f"/teach/meetings/{meeting_id}?surveys={count}", status_code=303)


@router.post("/teach/meetings/{meeting_id}/attendance", response_class=Response)
async def attendance(v: SignedIn, form: Form, meeting_id: Id) -> Response:
    """One tap per guardian: each button posts that one guardian's presence, toggled."""
    _staff(v)
    _found, roster = await _meeting(v, meeting_id)
    key = text(form, "guardian")
    student_id, _, guardian_id = key.partition("/")
    student = next((s for s in roster["students"] if s["student_id"] == student_id), None)
    guardian = next(
        (g for g in (student or {}).get("guardians", []) if g["guardian_id"] == guardian_id), None
    )
    if guardian is None:
        raise ServiceProblem(404)
    relationship = (
        guardian["relationship"] if guardian["relationship"] in RELATIONSHIPS else "other"
    )
    await v.services.call(
        "scheduling",
        v.token,
        "PUT",
        f"/v1/team-meetings/{meeting_id}/attendance",
        json={
            "records": [
                {
                    "student_id": student_id,
                    "guardian_id": guardian_id,
                    "relationship": relationship,
                    "present": text(form, "present") == "yes",
                }
            ]
        },
    )
    return RedirectResponse(
        f"/teach/meetings/{meeting_id}?saved=1#g-{student_id}-{guardian_id}", status_code=303
    )


@router.get("/teach/meetings/{meeting_id}/projector", response_class=Response)
async def projector(v: SignedIn, meeting_id: Id) -> Response:
    _staff(v)
    found = await v.services.get("scheduling", v.token, f"/v1/team-meetings/{meeting_id}")
    svg = await v.services.call(
        "data",
        v.token,
        "GET",
        f"/v1/meetings/{meeting_id}/class-report.svg",
        params={"lang": v.language},
    )
    return v.render(
        "teach/projector.html",
        meeting=found,
        # Our own data service draws the chart and escapes every label in it.
        svg=Markup(svg.text),  # noqa: S704
    )


@router.post("/teach/classes/{classroom_id}/conference-hours", response_class=Response)
@create_form
async def publish_hours(v: SignedIn, form: Form, classroom_id: Id) -> Response:
    _staff(v)
    minutes = text(form, "slot_minutes", "15")
    body = {
        "classroom_id": classroom_id,
        "days": [
            {"day": text(form, "day"), "starts": text(form, "from"), "ends": text(form, "to")}
        ],
        "place": text(form, "place") or v._("Classroom"),
        "slot_minutes": int(minutes) if minutes.isdigit() else 15,
        "signup_opens_at": datetime.now(UTC).isoformat(),
    }
    try:
        await v.services.call(
            "scheduling", v.token, "POST", "/v1/conference-availability", json=body
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        return await _classroom_page(
            v, classroom_id, conference_refused=problem.detail, status=problem.status
        )
    return RedirectResponse(f"/teach/classes/{classroom_id}/conferences/{text(form, 'day')}", 303)


Day = Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$")]


@router.get("/teach/classes/{classroom_id}/conferences/{day}", response_class=Response)
async def day_sheet(v: SignedIn, classroom_id: Id, day: Day) -> Response:
    """The teacher's evening in order: who comes when, with an interpreter or not, and the
    families still without a conference."""
    _staff(v)
    roster, sheet = await asyncio.gather(
        v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list"),
        v.services.get(
            "scheduling", v.token, f"/v1/classrooms/{classroom_id}/conference-day-sheet", day=day
        ),
    )
    students = {s["student_id"]: s for s in roster["students"]}
    return v.render(
        "teach/conferences.html",
        classroom=roster["classroom"],
        sheet_day=v.date(day),
        rows=[
            {
                **row,
                "time": v.at_local_time(row["local_starts_at"]).rsplit(", ", 1)[-1],
                "student": students.get(row["student_id"] or ""),
                "guardian": next(
                    (
                        g
                        for g in students.get(row["student_id"] or "", {}).get("guardians", [])
                        if g["guardian_id"] == row["guardian_id"]
                    ),
                    None,
                ),
            }
            for row in sheet["rows"]
        ],
        not_booked=[students[s] for s in sheet["not_booked"] if s in students],
    )
