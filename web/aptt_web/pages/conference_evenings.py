"""A school's conference evening: one form that publishes the same conference hours for
every classroom of the school (scheduling's school-wide evening), and the hours each
classroom has. School and district admins; scheduling decides which schools."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.form_errors import FormErrors, form_errors
from aptt_web.pages.school_events import admin_only
from aptt_web.pages.staff import Id, school_rooms, schools_of
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school/conference-evenings")
FIELDS = (
    *("day", "from", "to", "slot_minutes", "buffer_minutes", "where", "place"),
    *("opens_day", "opens_time", "closes_day", "closes_time"),
)


@router.get("", response_class=Response)
async def evenings_index(v: SignedIn) -> Response:
    admin_only(v)
    return v.render("school/conference_evenings.html", schools=await schools_of(v))


async def _hours(v: Visit, rooms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each classroom with its conference hours: a day, its times and how many are booked."""
    found = await asyncio.gather(
        *(
            v.services.get(
                "scheduling", v.token, f"/v1/classrooms/{r['classroom_id']}/conference-availability"
            )
            for r in rooms
        )
    )
    listed = []
    for room, answer in zip(rooms, found, strict=True):
        hours = []
        for a in answer["items"]:
            if a["slots"]:
                first = v.when(a["slots"][0]["starts_at"], a["timezone"])
                booked = sum(s["state"] != "free" for s in a["slots"])
                hours.append({**a, "first": first, "count": len(a["slots"]), "booked": booked})
        listed.append({**room, "hours": sorted(hours, key=lambda h: h["slots"][0]["starts_at"])})
    return listed


async def _page(
    v: Visit,
    school_id: str,
    *,
    typed: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    name, rooms = await school_rooms(v, school_id)
    published = v.request.query_params.get("published", "")
    return v.render(
        "school/conference_evening.html",
        status=status,
        school_id=school_id,
        school_name=name,
        zone=rooms[0].get("timezone") or "UTC",
        rooms=await _hours(v, rooms),
        typed=typed or {"from": "16:00", "to": "19:00", "slot_minutes": "15", "where": "rooms"},
        errors=errors or FormErrors(),
        published=int(published) if published.isdigit() else None,
    )


@router.get("/{school_id}", response_class=Response)
async def evening(v: SignedIn, school_id: Id) -> Response:
    admin_only(v)
    return await _page(v, school_id)


def _moment(day: str, at: str, zone: str) -> str | None:
    """A school-local day and time as an instant; what is not one is sent on for scheduling
    to refuse, so the form reads its refusal."""
    if not day:
        return None
    try:
        moment = datetime.fromisoformat(f"{day}T{at or '00:00'}").replace(tzinfo=ZoneInfo(zone))
    except (ValueError, ZoneInfoNotFoundError):
        return f"{day}T{at}"
    return moment.isoformat()


def _body(v: Visit, form: FormData, rooms: list[dict[str, Any]], zone: str) -> dict[str, Any]:
    def number(name: str, default: int) -> int | str:
        raw = text(form, name)
        return int(raw) if raw.isdigit() else (raw or default)

    one_place = text(form, "where") == "one"
    opens = _moment(text(form, "opens_day"), text(form, "opens_time"), zone)
    return {
        "days": [
            {"day": text(form, "day"), "starts": text(form, "from"), "ends": text(form, "to")}
        ],
        "place": text(form, "place") if one_place else v._("Classroom"),
        # Each teacher's room: the room typed for the classroom, else the classroom's name.
        "places": {}
        if one_place
        else {
            r["classroom_id"]: text(form, f"place-{r['classroom_id']}") or r["title"] for r in rooms
        },
        "slot_minutes": number("slot_minutes", 15),
        "buffer_minutes": number("buffer_minutes", 0),
        "signup_opens_at": opens or datetime.now(ZoneInfo("UTC")).isoformat(),
        "signup_closes_at": _moment(text(form, "closes_day"), text(form, "closes_time"), zone),
    }


@router.post("/{school_id}", response_class=Response)
@create_form
async def publish(v: SignedIn, form: Form, school_id: Id) -> Response:
    admin_only(v)
    _, rooms = await school_rooms(v, school_id)
    zone = rooms[0].get("timezone") or "UTC"
    try:
        answer = await v.services.call(
            "scheduling",
            v.token,
            "POST",
            f"/v1/schools/{school_id}/conference-evenings",
            json=_body(v, form, rooms, zone),
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        typed = {name: text(form, name) for name in FIELDS}
        typed |= {
            f"place-{r['classroom_id']}": text(form, f"place-{r['classroom_id']}") for r in rooms
        }
        return await _page(v, school_id, typed=typed, errors=_refusal(v, problem), status=422)
    count = len(answer.json())
    return RedirectResponse(f"/school/conference-evenings/{school_id}?published={count}", 303)


def _refusal(v: Visit, problem: ServiceProblem) -> FormErrors:
    hours = v._("Enter the day and the hours: the end after the start.")
    signup = v._("Sign-up must open before it closes, and close before the first conference.")
    return form_errors(
        problem,
        fields={
            "days": hours,
            "slot_minutes": v._("Minutes for each family: 10 to 60."),
            "buffer_minutes": v._("Minutes between families: 0 to 60."),
            "place": v._("Enter the place, or choose each teacher's room."),
            "places": v._("Enter a room for each classroom (at most 200 characters)."),
            "signup_opens_at": signup,
            "signup_closes_at": signup,
        },
        codes={
            "bad-hours": ("days", hours),
            "no-slots": ("days", v._("These hours are too short for one conference.")),
            "in-the-past": ("days", v._("Choose a day that has not passed yet.")),
            "too-many-slots": ("days", v._("Too many conferences in one evening. Shorten it.")),
            "bad-slot-length": ("slot_minutes", v._("Minutes for each family: 10 to 60.")),
            "bad-buffer": ("buffer_minutes", v._("Minutes between families: 0 to 60.")),
            "bad-signup-period": ("signup_opens_at", signup),
            "outside-window": (
                "days",
                v._("That day is outside the conference window of the school's calendar."),
            ),
            "no-conference-window": (
                "days",
                v._(
                    "A classroom has no conference window on that day. Apply a calendar "
                    "with one first; nothing was published."
                ),
            ),
            "overlapping-availability": (
                None,
                v._(
                    "A classroom already has conference hours at that time; nothing was "
                    "published. Choose other hours."
                ),
            ),
            "no-classrooms": (None, v._("The school has no classrooms yet.")),
        },
        otherwise=v._("The evening could not be published. Check the form and try again."),
    )
