"""Educators' home-visit pages: my visits, one visit with what the pair records after it
(took place or missed, the reflection), moving to new times and cancelling.

The scheduling service decides who reaches a visit (decision 0322); these pages only refuse
early whoever has no role that could reach one, so a guardian never lands on an educator's
page (the API would answer a guardian with the family's own view of the visit).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.schoolyear import school_year_of
from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.form_errors import FormErrors, form_errors
from aptt_web.pages.visit_pairs import waiting_families
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/visits")
Id = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-]+$")]
OPEN = ("proposed", "counter_proposed", "times_requested", "scheduled")
# New times a page offers when moving a visit: the API takes two or three (decision 0326).
TIME_FIELDS = ("time-1", "time-2", "time-3")
CANCEL_REASONS = ("family_request", "educator_unavailable", "illness", "weather", "other")
MISSED_REASONS = ("family_not_home", "educators_could_not_go", "other")
REFLECTION = ("hopes_learned", "class_actions", "follow_up_promised", "notes")
FOLLOW_UP_KINDS = ("call", "text", "note", "meeting")


def _educator(v: Visit) -> None:
    if not v.user.has("educator"):
        raise ServiceProblem(403)


def _overseer(v: Visit) -> None:
    """The pair, a coordinator (school admin) or a district admin may open a visit."""
    if not v.user.has("educator", "school_admin", "district_admin"):
        raise ServiceProblem(403)


@router.get("", response_class=Response)
async def my_visits(v: SignedIn) -> Response:
    _educator(v)
    return await _mine(v)


async def _mine(
    v: Visit, *, errors: FormErrors | None = None, typed: str = "", status: int = 200
) -> Response:
    found = await v.services.get("scheduling", v.token, "/v1/me/home-visits", limit=100)
    rows = [_row(v, visit) for visit in found["items"]]
    upcoming = [r for r in rows if r["status"] in OPEN]
    # Soonest first; visits still waiting for a time after those with one.
    upcoming.sort(key=lambda r: (r["starts_at"] is None, r["starts_at"] or ""))
    query = v.request.query_params
    return v.render(
        "visits/mine.html",
        status=status,
        upcoming=upcoming,
        past=[r for r in rows if r["status"] not in OPEN],
        waiting=[{**f, "day": v.date(f["answered_at"])} for f in await waiting_families(v)],
        school_year=school_year_of(date.today()),
        school_ids=v.user.school_ids,
        errors=errors or FormErrors(),
        trained_on=typed,
        today=date.today().isoformat(),
        opted=v.date(query["trained_on"]) if query.get("saved") == "opted-in" else "",
    )


@router.post("/opt-in", response_class=Response)
async def opt_in(v: SignedIn, form: Form) -> Response:
    """An educator opts in for the school year after the training; opting in again only
    corrects the training day, so the form needs no one-time token."""
    _educator(v)
    school = text(form, "school_id")
    trained = text(form, "trained_on")
    messages = {
        "trained_on": v._("Give the day you finished the home-visit training."),
    }
    if school not in v.user.school_ids:
        raise ServiceProblem(403)
    try:
        day = date.fromisoformat(trained)
    except ValueError:
        errors = FormErrors(fields={"trained_on": messages["trained_on"]})
        return await _mine(v, errors=errors, typed=trained, status=422)
    try:
        await v.services.call(
            "scheduling",
            v.token,
            "POST",
            f"/v1/schools/{school}/visit-educators",
            json={"school_year": school_year_of(date.today()), "trained_on": day.isoformat()},
            language=v.language,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = form_errors(
            problem,
            fields=messages,
            codes={
                "not-trained-yet": (
                    "trained_on",
                    v._(
                        "Opt in once the training has taken place: the day cannot be later "
                        "than today."
                    ),
                )
            },
            otherwise=v._("We could not opt you in. Try again in a minute."),
        )
        return await _mine(v, errors=errors, typed=trained, status=problem.status)
    return RedirectResponse(f"/visits?saved=opted-in&trained_on={day.isoformat()}", 303)


def _row(v: Visit, visit: dict[str, Any]) -> dict[str, Any]:
    partners = [e for e in visit["educator_ids"] if e != v.user.subject]
    return {
        **visit,
        "partners": partners,
        "when": _when(v, visit),
    }


def _when(v: Visit, visit: dict[str, Any]) -> str:
    """The visit's time as the school's clock reads it, a family's offered time too."""
    if visit.get("local_starts_at"):
        return v.at_local_time(visit["local_starts_at"])
    if visit.get("family_time"):
        return v.when(visit["family_time"], visit.get("timezone"))
    return ""


def _zone(visit: dict[str, Any]) -> tzinfo:
    """The school's offset on the visit's day, as the service gave it with the visit."""
    local = visit.get("local_starts_at")
    zone = datetime.fromisoformat(local).tzinfo if local else None
    return zone or UTC


@router.get("/{visit_id}", response_class=Response)
async def visit_page(v: SignedIn, visit_id: Id) -> Response:
    _overseer(v)
    return await _page(v, visit_id)


async def _page(
    v: Visit,
    visit_id: str,
    *,
    refused: str | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    visit = await v.services.get("scheduling", v.token, f"/v1/home-visits/{visit_id}")
    pair = v.user.has("educator") and v.user.subject in visit["educator_ids"]
    # The address and the reflection are the pair's and the coordinators' (decision 0322):
    # the service leaves the address out for anyone else and refuses them the reflection.
    close = pair or (v.user.has("school_admin") and visit["school_id"] in v.user.school_ids)
    reflection = None
    if close and visit["status"] == "done":
        reflection = await _reflection(v, visit_id)
    zone = _zone(visit)
    now = datetime.now(zone)
    starts = datetime.fromisoformat(visit["local_starts_at"]) if visit["local_starts_at"] else None
    # The form starts from the planned time when it has passed; otherwise from an hour ago.
    began = starts if starts and starts <= now else (now - timedelta(hours=1))
    ended = min(began + timedelta(minutes=visit["duration_minutes"]), now)
    return v.render(
        "visits/visit.html",
        status=status,
        visit=visit,
        row=_row(v, visit),
        # On the school's clock: the service gives the proposed times in UTC, and its zone.
        proposed=[v.when(t, visit.get("timezone")) for t in visit["proposed_times"]],
        offered=[(t, v.when(t, visit.get("timezone"))) for t in visit.get("family_times", [])],
        zone_name=visit.get("timezone") or "UTC",
        pair=pair,
        acts=close,
        time_has_come=starts is not None and starts <= now,
        reflection=reflection,
        typed=typed or {},
        refused=refused,
        cancel_reasons=CANCEL_REASONS,
        follow_up_kinds=FOLLOW_UP_KINDS,
        follow_ups=[
            {**f, "day": v.date(f["contacted_on"])}
            for f in sorted(visit["follow_ups"], key=lambda f: str(f["contacted_on"]))
        ],
        today=now.date().isoformat(),
        missed_reasons=MISSED_REASONS,
        form_day=began.date().isoformat(),
        form_from=began.strftime("%H:%M"),
        form_to=ended.strftime("%H:%M"),
        done_on=v.at_local_time(visit["started_at"]) if visit.get("started_at") else "",
        saved=v.request.query_params.get("saved"),
    )


async def _reflection(v: Visit, visit_id: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await v.services.get(
            "scheduling", v.token, f"/v1/home-visits/{visit_id}/reflection"
        )
    except ServiceProblem as problem:
        if problem.status == 404:
            return None  # not written yet
        raise
    return found


async def _act(
    v: Visit,
    visit_id: str,
    action: str,
    body: dict[str, Any] | None,
    *,
    saved: str,
    method: str = "POST",
    typed: dict[str, str] | None = None,
) -> Response:
    """Ask the service to act; a refusal it explains (409, 422) shows the page again with
    its reason, and whatever the pair typed kept."""
    try:
        await v.services.call(
            "scheduling",
            v.token,
            method,
            f"/v1/home-visits/{visit_id}/{action}",
            json=body,
            language=v.language,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        return await _page(v, visit_id, refused=problem.detail, status=problem.status, typed=typed)
    return RedirectResponse(f"/visits/{visit_id}?saved={saved}", status_code=303)


@router.post("/{visit_id}/complete", response_class=Response)
async def complete(v: SignedIn, form: Form, visit_id: Id) -> Response:
    _overseer(v)
    visit = await v.services.get("scheduling", v.token, f"/v1/home-visits/{visit_id}")
    zone = _zone(visit)
    try:
        day = text(form, "day")
        started = datetime.fromisoformat(f"{day}T{text(form, 'from')}").replace(tzinfo=zone)
        ended = datetime.fromisoformat(f"{day}T{text(form, 'to')}").replace(tzinfo=zone)
    except ValueError:
        return await _page(
            v, visit_id, refused=v._("Give the day and the times of the visit."), status=422
        )
    if ended <= started:
        # A visit that went past midnight.
        ended += timedelta(days=1)
    travel = text(form, "travel_minutes")
    body = {
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "travel_minutes": int(travel) if travel.isdigit() else None,
    }
    return await _act(v, visit_id, "complete", body, saved="done")


@router.post("/{visit_id}/missed", response_class=Response)
async def missed(v: SignedIn, form: Form, visit_id: Id) -> Response:
    _overseer(v)
    reason = text(form, "reason")
    body = {"reason": reason if reason in MISSED_REASONS else "other"}
    return await _act(v, visit_id, "missed", body, saved="missed")


@router.post("/{visit_id}/cancel", response_class=Response)
async def cancel(v: SignedIn, form: Form, visit_id: Id) -> Response:
    _overseer(v)
    reason = text(form, "reason")
    body = {"reason": reason if reason in CANCEL_REASONS else "other"}
    return await _act(v, visit_id, "cancel", body, saved="cancelled")


@router.post("/{visit_id}/confirm", response_class=Response)
async def confirm(v: SignedIn, form: Form, visit_id: Id) -> Response:
    """The pair takes the time the family offered (one of two, when it offered two)."""
    _overseer(v)
    chosen = text(form, "starts_at")
    return await _act(
        v, visit_id, "confirm", {"starts_at": chosen} if chosen else None, saved="confirmed"
    )


@router.post("/{visit_id}/move", response_class=Response)
async def move(v: SignedIn, form: Form, visit_id: Id) -> Response:
    """Two or three new times on the school's clock; the family then chooses again."""
    _overseer(v)
    visit = await v.services.get("scheduling", v.token, f"/v1/home-visits/{visit_id}")
    try:
        zone = ZoneInfo(visit.get("timezone") or "UTC")
    except (ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    typed = {name: text(form, name) for name in TIME_FIELDS}
    try:
        times = [
            datetime.fromisoformat(value).replace(tzinfo=zone).isoformat()
            for value in typed.values()
            if value
        ]
    except ValueError:
        times = []
    if len(times) < 2:
        refused = v._("Give two or three different times, each in the future.")
        return await _page(v, visit_id, refused=refused, status=422, typed=typed)
    return await _act(v, visit_id, "move", {"times": times}, saved="moved", typed=typed)


@router.post("/{visit_id}/reflection", response_class=Response)
async def reflect(v: SignedIn, form: Form, visit_id: Id) -> Response:
    """The pair's reflection; writing it again revises it. It stays in scheduling only."""
    _educator(v)
    typed = {part: text(form, part) for part in REFLECTION}
    return await _act(
        v, visit_id, "reflection", typed, saved="reflection", method="PUT", typed=typed
    )


@router.post("/{visit_id}/follow-ups", response_class=Response)
@create_form
async def follow_up(v: SignedIn, form: Form, visit_id: Id) -> Response:
    """A contact with the family between the visits: a call, a text, a note, a meeting."""
    _overseer(v)
    kind = text(form, "kind")
    try:
        day = date.fromisoformat(text(form, "day"))
    except ValueError:
        return await _page(v, visit_id, refused=v._("Give the day of the contact."), status=422)
    visit = await v.services.get("scheduling", v.token, f"/v1/home-visits/{visit_id}")
    # The school's day, not the server's: west of UTC it can still be yesterday there.
    if day > datetime.now(_zone(visit)).date():
        return await _page(
            v, visit_id, refused=v._("The contact's day cannot be in the future."), status=422
        )
    body = {"kind": kind if kind in FOLLOW_UP_KINDS else "call", "contacted_on": day.isoformat()}
    return await _act(v, visit_id, "follow-ups", body, saved="follow-up")
