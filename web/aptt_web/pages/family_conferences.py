"""A guardian's children back to back: one range of an evening, consecutive conferences
with each child's teacher held for a moment, then booked all together or not at all."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.family import children_of, conference_hours, guardian_only
from aptt_web.pages.form_errors import FormErrors, form_errors, problem_code
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/family/conferences/together")
PAGE = "family/together.html"


def _zone(hours: dict[str, list[dict[str, Any]]]) -> str:
    """The school's zone of the first conference hours: the range is asked in its time."""
    for found in hours.values():
        for availability in found:
            return str(availability["timezone"])
    return "UTC"


def _first_day(hours: dict[str, list[dict[str, Any]]]) -> str:
    starts = [
        datetime.fromisoformat(s["starts_at"]).astimezone(ZoneInfo(a["timezone"]))
        for found in hours.values()
        for a in found
        for s in a["slots"]
        if s["state"] == "free"
    ]
    return min(starts).date().isoformat() if starts else ""


async def _chosen(v: Visit, form: FormData | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The guardian's children and the ids asked for; someone else's id is "Not found"."""
    children = await children_of(v)
    own = {c["student_id"] for c in children}
    asked = [s for s in form.getlist("student_id") if isinstance(s, str)] if form else []
    if any(s not in own for s in asked):
        raise ServiceProblem(404)
    return children, asked or sorted(own)


async def _page(
    v: Visit,
    form: FormData | None,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
    plan: list[dict[str, Any]] | None = None,
    held_until: str = "",
    alternatives: list[list[str]] | None = None,
) -> Response:
    children, chosen = await _chosen(v, form)
    hours = await conference_hours(v, children)
    return v.render(
        PAGE,
        status=status,
        children=children,
        chosen=chosen,
        zone=_zone(hours),
        on_day=text(form, "day") if form else _first_day(hours),
        start=text(form, "from", "16:00") if form else "16:00",
        end=text(form, "to", "19:00") if form else "19:00",
        errors=errors or FormErrors(),
        plan=plan,
        held_until=held_until,
        alternatives=alternatives or [],
    )


@router.get("", response_class=Response)
async def together(v: SignedIn) -> Response:
    guardian_only(v)
    return await _page(v, None)


def _range(form: FormData, zone: str) -> tuple[datetime, datetime] | None:
    try:
        tz = ZoneInfo(zone)
        day = datetime.strptime(text(form, "day"), "%Y-%m-%d").date()
        since, until = time.fromisoformat(text(form, "from")), time.fromisoformat(text(form, "to"))
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return datetime.combine(day, since, tz), datetime.combine(day, until, tz)


@router.post("", response_class=Response)
async def propose(v: SignedIn, form: Form) -> Response:
    """Proposes and holds a plan. Not a create-form: a second tap holds the next free
    times, and every hold lapses by itself after the hold time."""
    guardian_only(v)
    children, chosen = await _chosen(v, form)
    hours = await conference_hours(v, children)
    zone = _zone(hours)
    asked = _range(form, zone)
    if asked is None:
        errors = FormErrors(fields={"day": v._("Enter a day and the times from and to.")})
        return await _page(v, form, status=422, errors=errors)
    try:
        found = await v.services.call(
            "scheduling",
            v.token,
            "POST",
            "/v1/me/conference-plans",
            json={
                "starts_at": asked[0].isoformat(),
                "ends_at": asked[1].isoformat(),
                "student_ids": chosen,
            },
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        return await _refused(v, form, problem, zone)
    plan = found.json()
    names = {c["student_id"]: c for c in children}
    places = {
        s["slot_id"]: a["place"] for found in hours.values() for a in found for s in a["slots"]
    }
    rooms = {room["classroom_id"]: room for c in children for room in c["classrooms"]}
    return await _page(
        v,
        form,
        plan=[
            {
                **slot,
                "child": names[slot["student_id"]],
                "classroom": rooms.get(slot["classroom_id"], {}).get("title", ""),
                "place": places.get(slot["slot_id"], ""),
                "when": v.when(slot["starts_at"], zone),
            }
            for slot in plan["slots"]
        ],
        held_until=v.when(min(s["hold_expires_at"] for s in plan["slots"]), zone).rsplit(", ")[-1],
    )


async def _refused(v: Visit, form: FormData, problem: ServiceProblem, zone: str) -> Response:
    """No plan fits: say why in plain words and suggest the nearest ranges found."""
    code = problem_code(problem)
    errors = form_errors(
        problem,
        fields={
            "starts_at": v._("Enter a day and the times from and to."),
            "ends_at": v._("Enter a day and the times from and to."),
        },
        codes={
            "bad-range": (None, v._("The end must be after the start, on the same evening.")),
            "no-free-slot": (
                None,
                v._("A teacher has no free time left in this range. Try another day or time."),
            ),
            "no-back-to-back": (
                None,
                v._("The free times overlap: no times fit one after another. Try a longer range."),
            ),
        },
        otherwise=v._("We could not find times. Please try another day or time."),
    )
    alternatives = [
        [v.when(s["starts_at"], zone) for s in found["slots"]]
        for found in problem.problem.get("alternatives") or []
        if code in ("no-free-slot", "no-back-to-back")
    ]
    return await _page(v, form, status=409, errors=errors, alternatives=alternatives)


@router.post("/booking", response_class=Response)
@create_form
async def book(v: SignedIn, form: Form) -> Response:
    guardian_only(v)
    children, _ = await _chosen(v, form)
    own = {c["student_id"] for c in children}
    students = [s for s in form.getlist("student_id") if isinstance(s, str)]
    slots = [s for s in form.getlist("slot_id") if isinstance(s, str)]
    if not students or len(students) != len(slots) or len(students) > len(own):
        return await _page(
            v, form, status=422, errors=FormErrors(general=[v._("Please ask for times first.")])
        )
    try:
        await v.services.call(
            "scheduling",
            v.token,
            "POST",
            "/v1/me/conference-plans/booking",
            json={
                "items": [
                    {"student_id": s, "slot_id": slot}
                    for s, slot in zip(students, slots, strict=True)
                ]
            },
        )
    except ServiceProblem as problem:
        if problem.status != 409:
            raise
        # The hold lapsed and another family took one of the times: nothing was booked.
        expired = v._(
            "The times were held for you for a few minutes only, and one was taken since. "
            "Nothing is booked: please ask again."
        )
        return await _page(v, form, status=409, errors=FormErrors(general=[expired]))
    return RedirectResponse("/family?booked=all", status_code=303)
