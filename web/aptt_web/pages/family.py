"""Families' pages: my children, meetings and RSVP, the chart with my child's number,
messages, preferences, home visits and surveys (goals and practice: `family_goals`). Mobile
first; every action is a plain form."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from aptt_web.pages.common import Form, SignedIn, Visit, text
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/family")
Id = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-]+$")]
BANDS = ("well_below", "below", "at", "above")


def guardian_only(v: Visit) -> None:
    if not v.user.is_guardian:
        raise ServiceProblem(403)


async def children_of(v: Visit) -> list[dict[str, Any]]:
    answer = await v.services.get("data", v.token, "/v1/me/students")
    return list(answer["items"])


async def child_of(v: Visit, student_id: str) -> dict[str, Any]:
    for child in await children_of(v):
        if child["student_id"] == student_id:
            return child
    raise ServiceProblem(404)


@router.get("", response_class=Response)
async def home(v: SignedIn) -> Response:
    guardian_only(v)
    children, meetings, messages = await asyncio.gather(
        children_of(v),
        v.services.get("scheduling", v.token, "/v1/me/team-meetings", limit=20),
        v.services.get("notify", v.token, "/v1/me/messages", limit=3),
    )
    names = {c["student_id"]: c["given_name"] for c in children}
    goals, hours, booked, invitations, visits, surveys = await asyncio.gather(
        asyncio.gather(
            *(
                v.services.get("goals", v.token, f"/v1/students/{c['student_id']}/goals", limit=5)
                for c in children
            )
        ),
        conference_hours(v, children),
        v.services.get("scheduling", v.token, "/v1/me/conference-bookings", limit=20),
        v.services.get("scheduling", v.token, "/v1/me/visit-invitations"),
        v.services.get("scheduling", v.token, "/v1/me/home-visits", limit=10),
        v.services.get("notify", v.token, "/v1/surveys/mine", language=v.language),
    )
    return v.render(
        "family/home.html",
        children=children,
        meetings=[
            {
                **m,
                "when": v.when(m["starts_at"], m["timezone"]),
                "children": [(sid, names.get(sid, "")) for sid in m["your_student_ids"]],
            }
            for m in meetings["items"]
            if m["status"] != "cancelled"
        ],
        goals={c["student_id"]: g["items"] for c, g in zip(children, goals, strict=True)},
        conference_hours=hours,
        conferences=[
            {
                **b,
                "when": v.at_local_time(b["local_starts_at"]),
                "child": names.get(b["student_id"], ""),
            }
            for b in booked["items"]
            if b["status"] == "booked"
        ],
        invitations=[
            {**i, "child": names.get(i["student_id"], "")}
            for i in invitations["items"]
            if i["status"] == "invited"
        ],
        visits=[
            {
                **visit,
                "child": names.get(visit["student_id"], ""),
                "when": v.at_local_time(visit["local_starts_at"])
                if visit.get("local_starts_at")
                else None,
            }
            for visit in visits["items"]
            if visit["status"] in ("proposed", "counter_proposed", "times_requested", "scheduled")
        ],
        surveys=surveys["items"],
        surveyed=v.request.query_params.get("surveyed") == "1",
        answered=v.request.query_params.get("answered"),
        booked=v.request.query_params.get("booked"),
        cancelled=v.request.query_params.get("cancelled") == "1",
        messages=messages["items"],
    )


async def conference_hours(
    v: Visit, children: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Per child, the conference hours of their classrooms that still have a free slot."""
    wanted = [(c["student_id"], room["classroom_id"]) for c in children for room in c["classrooms"]]
    found = await asyncio.gather(
        *(
            v.services.get("scheduling", v.token, f"/v1/classrooms/{room}/conference-availability")
            for _, room in wanted
        ),
        return_exceptions=True,
    )
    hours: dict[str, list[dict[str, Any]]] = {}
    for (student_id, _), answer in zip(wanted, found, strict=True):
        if isinstance(answer, ServiceProblem) and answer.status in (403, 404):
            continue  # the classroom has not reached scheduling yet
        if isinstance(answer, BaseException):
            raise answer
        for availability in answer["items"]:
            free = [s for s in availability["slots"] if s["state"] == "free"]
            if free:
                first = v.when(free[0]["starts_at"], availability["timezone"])
                hours.setdefault(student_id, []).append({**availability, "first": first})
    return hours


@router.get("/conferences/{availability_id}/{student_id}", response_class=Response)
async def conference(v: SignedIn, availability_id: Id, student_id: Id) -> Response:
    guardian_only(v)
    return await _conference_page(v, availability_id, student_id)


async def _conference_page(
    v: Visit, availability_id: str, student_id: str, *, refused: str | None = None
) -> Response:
    child = await child_of(v, student_id)
    found = await v.services.get(
        "scheduling", v.token, f"/v1/conference-availability/{availability_id}"
    )
    if found["classroom_id"] not in {room["classroom_id"] for room in child["classrooms"]}:
        raise ServiceProblem(404)
    zone = found["timezone"]
    slots = [
        {**slot, "when": v.when(slot["starts_at"], zone)}
        for slot in found["slots"]
        if slot["state"] == "free"
    ]
    return v.render(
        "family/conference.html",
        status=409 if refused else 200,
        child=child,
        hours=found,
        slots=slots,
        refused=refused,
    )


@router.post("/conferences/{availability_id}/{student_id}", response_class=Response)
async def book_conference(v: SignedIn, form: Form, availability_id: Id, student_id: Id) -> Response:
    guardian_only(v)
    slot_id = text(form, "slot_id")
    if not slot_id:
        return await _conference_page(
            v, availability_id, student_id, refused=v._("Choose a time first.")
        )
    interpreter = text(form, "interpreter_language")
    try:
        await v.services.call(
            "scheduling",
            v.token,
            "POST",
            f"/v1/conference-slots/{slot_id}/booking",
            json={"student_id": student_id, "interpreter_language": interpreter or None},
        )
    except ServiceProblem as problem:
        if problem.status != 409:
            raise
        # Another family took the time a moment before: offer the times still free.
        return await _conference_page(
            v,
            availability_id,
            student_id,
            refused=v._("That time was just taken. Please choose another."),
        )
    return RedirectResponse("/family?booked=1", status_code=303)


@router.post("/conference-bookings/{booking_id}/cancel", response_class=Response)
async def cancel_conference(v: SignedIn, form: Form, booking_id: Id) -> Response:
    guardian_only(v)
    await v.services.call(
        "scheduling", v.token, "POST", f"/v1/conference-bookings/{booking_id}/cancel", json={}
    )
    return RedirectResponse("/family?cancelled=1", status_code=303)


@router.get("/meetings/{meeting_id}/{student_id}", response_class=Response)
async def meeting(v: SignedIn, meeting_id: Id, student_id: Id) -> Response:
    guardian_only(v)
    child = await child_of(v, student_id)
    found, answers = await asyncio.gather(
        v.services.get("scheduling", v.token, f"/v1/team-meetings/{meeting_id}"),
        v.services.get("scheduling", v.token, f"/v1/team-meetings/{meeting_id}/rsvps/{student_id}"),
    )
    mine = next((a for a in answers if a["guardian_id"] == v.user.subject), None)
    return v.render(
        "family/meeting.html",
        meeting=found,
        when=v.when(found["starts_at"], found["timezone"]),
        child=child,
        answer=mine,
        saved=v.request.query_params.get("saved") == "1",
    )


@router.post("/meetings/{meeting_id}/{student_id}", response_class=Response)
async def rsvp(v: SignedIn, form: Form, meeting_id: Id, student_id: Id) -> Response:
    guardian_only(v)
    interpreter = text(form, "interpreter_language")
    childcare = text(form, "childcare_count", "0")
    await v.services.call(
        "scheduling",
        v.token,
        "PUT",
        f"/v1/team-meetings/{meeting_id}/rsvps/{student_id}",
        json={
            "attending": text(form, "attending") == "yes",
            "interpreter_language": interpreter or None,
            "childcare_count": int(childcare) if childcare.isdigit() else 0,
        },
    )
    return RedirectResponse(f"/family/meetings/{meeting_id}/{student_id}?saved=1", status_code=303)


@router.get("/meetings/{meeting_id}/{student_id}/chart", response_class=Response)
async def chart(v: SignedIn, meeting_id: Id, student_id: Id) -> Response:
    guardian_only(v)
    child = await child_of(v, student_id)
    try:
        number, report, svg = await _chart_parts(v, meeting_id, student_id)
    except ServiceProblem as problem:
        if problem.status not in (404, 410, 422):
            raise
        # Our own child (checked above): the chart is not drawn yet, or was withdrawn.
        return v.render("family/chart.html", child=child, missing=True, status=404)
    bar = next((b for b in report["bars"] if b["number"] == number["number"]), None)
    return v.render(
        "family/chart.html",
        child=child,
        number=number["number"],
        bar=bar,
        report=report,
        bands=BANDS,
        # Our own data service draws the chart and escapes every label in it.
        svg=Markup(svg.text),  # noqa: S704
        meeting_id=meeting_id,
    )


async def _chart_parts(v: Visit, meeting_id: str, student_id: str) -> Any:
    return await asyncio.gather(
        v.services.get("data", v.token, f"/v1/meetings/{meeting_id}/private-numbers/{student_id}"),
        v.services.get("data", v.token, f"/v1/meetings/{meeting_id}/class-report"),
        v.services.call(
            "data",
            v.token,
            "GET",
            f"/v1/meetings/{meeting_id}/class-report.svg",
            params={"lang": v.language},
        ),
    )


@router.get("/messages", response_class=Response)
async def messages(v: SignedIn) -> Response:
    guardian_only(v)
    found = await v.services.get("notify", v.token, "/v1/me/messages", limit=50)
    return v.render(
        "family/messages.html",
        messages=[{**m, "when": v.when(m["created_at"])} for m in found["items"]],
    )


@router.get("/preferences", response_class=Response)
async def preferences(v: SignedIn) -> Response:
    guardian_only(v)
    found = await v.services.get("notify", v.token, "/v1/me/preferences")
    return v.render(
        "family/preferences.html", prefs=found, saved=v.request.query_params.get("saved") == "1"
    )


@router.post("/preferences", response_class=Response)
async def save_preferences(v: SignedIn, form: Form) -> Response:
    guardian_only(v)
    channels = [c for c in ("sms", "email") if form.get(f"channel_{c}") == "on"]
    start, end = text(form, "quiet_start"), text(form, "quiet_end")
    await v.services.call(
        "notify",
        v.token,
        "PUT",
        "/v1/me/preferences",
        json={
            "language": text(form, "language") or None,
            "channels": channels,
            "quiet_hours": {"start": start, "end": end} if start and end else None,
        },
    )
    return RedirectResponse("/family/preferences?saved=1", status_code=303)


def today() -> date:
    return datetime.now(UTC).date()


PLACES = ("home", "library", "park", "coffee_shop", "other")


@router.post("/visit-invitations/{invitation_id}", response_class=Response)
async def answer_visit(v: SignedIn, form: Form, invitation_id: Id) -> Response:
    guardian_only(v)
    answer = "yes" if text(form, "answer") == "yes" else "no"
    await v.services.call(
        "scheduling",
        v.token,
        "PUT",
        f"/v1/visit-invitations/{invitation_id}/answer",
        json={"answer": answer},
    )
    return RedirectResponse(f"/family?answered={answer}", status_code=303)


@router.get("/home-visits/{visit_id}", response_class=Response)
async def home_visit(v: SignedIn, visit_id: Id) -> Response:
    guardian_only(v)
    found = await v.services.get("scheduling", v.token, f"/v1/home-visits/{visit_id}")
    child = await child_of(v, found["student_id"])
    # The school's zone as scheduling keeps it: the roster's classroom carries none.
    zone = found.get("timezone")
    return v.render(
        "family/visit.html",
        visit=found,
        child=child,
        times=[(t, v.when(t, zone)) for t in found["proposed_times"]],
        offered=[v.when(t, zone) for t in found.get("family_times", [])],
        zone=zone or "UTC",
        moved=v.request.query_params.get("moved"),
        places=PLACES,
        when=v.at_local_time(found["local_starts_at"]) if found.get("local_starts_at") else None,
    )


@router.post("/home-visits/{visit_id}", response_class=Response)
async def choose_visit_time(v: SignedIn, form: Form, visit_id: Id) -> Response:
    guardian_only(v)
    place = text(form, "place_kind")
    await v.services.call(
        "scheduling",
        v.token,
        "POST",
        f"/v1/home-visits/{visit_id}/choose",
        json={
            "starts_at": text(form, "starts_at"),
            "place_kind": place if place in PLACES else "home",
        },
    )
    return RedirectResponse(f"/family/home-visits/{visit_id}?chosen=1", status_code=303)


SCALE = (1, 2, 3, 4, 5)
COMMENT_MAX = 500


async def _survey(v: Visit, survey_id: str) -> dict[str, Any]:
    found = await v.services.get("notify", v.token, "/v1/surveys/mine", language=v.language)
    for survey in found["items"]:
        if survey["survey_id"] == survey_id:
            return dict(survey)
    raise ServiceProblem(404)


@router.get("/surveys/{survey_id}", response_class=Response)
async def survey(v: SignedIn, survey_id: Id) -> Response:
    guardian_only(v)
    return v.render(
        "family/survey.html",
        survey=await _survey(v, survey_id),
        scale=SCALE,
        comment_max=COMMENT_MAX,
    )


@router.post("/surveys/{survey_id}", response_class=Response)
async def answer_survey(v: SignedIn, form: Form, survey_id: Id) -> Response:
    guardian_only(v)
    found = await _survey(v, survey_id)
    answers = {
        q["question_id"]: int(raw)
        for q in found["questions"]
        if (raw := text(form, f"q-{q['question_id']}")) in {str(n) for n in SCALE}
    }
    if not answers:
        return v.render(
            "family/survey.html",
            status=422,
            survey=found,
            scale=SCALE,
            comment_max=COMMENT_MAX,
            refused=v._("Answer at least one question."),
        )
    comment = text(form, "comment")[:COMMENT_MAX]
    await v.services.call(
        "notify",
        v.token,
        "POST",
        f"/v1/surveys/{survey_id}/answers",
        json={"answers": answers, "comment": comment or None},
    )
    return RedirectResponse("/family?surveyed=1", status_code=303)
