"""The home-visit coordinator's pages (decision 0607): the school's opted-in educators, a
class's invitations and answers, inviting a class (every family or a recorded random draw),
an answer given by phone or on paper, and proposing times to a family that said yes.

Coordinators are school admins; a district admin reads the same pages for every school of
the district. Scheduling decides who reaches a school, a class or an invitation; these pages
refuse early whoever has neither role, and a refusal from the service reads "Not found".
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aptt_platform.schoolyear import school_year_of
from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.common import BadForm, Form, SignedIn, Visit, create_form, text
from aptt_web.pages.form_errors import FormErrors, form_errors
from aptt_web.pages.staff import schools_of
from aptt_web.services import ServiceProblem

router = APIRouter(prefix="/school/visits")
Id = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-]+$")]
ID_PATTERN = r"^[A-Za-z0-9._:\-]+$"
SchoolId = Annotated[
    str | None, Query(alias="school_id", min_length=1, max_length=255, pattern=ID_PATTERN)
]
# Times a page offers to propose: the API takes two or three.
TIME_FIELDS = ("time-1", "time-2", "time-3")
DURATIONS = (30, 45, 60, 75, 90, 120)
MAX_DRAW = 1000


def _coordinator(v: Visit) -> None:
    if not v.user.is_admin:
        raise ServiceProblem(403)


def coordinates(v: Visit, school_id: str) -> bool:
    """Only the school's own coordinators record answers and propose (decision 0322); a
    district admin reads these pages and invites, as scheduling allows."""
    return v.user.has("school_admin") and school_id in v.user.school_ids


def _year() -> str:
    return school_year_of(date.today())


@router.get("", response_class=Response)
async def overview(v: SignedIn, school: SchoolId = None) -> Response:
    """One school at a time: its opted-in educators and its classes to invite."""
    _coordinator(v)
    schools = await schools_of(v)
    chosen = school or (schools[0]["school_id"] if schools else "")
    year = _year()
    educators: list[dict[str, Any]] = []
    if chosen:
        found = await v.services.get(
            "scheduling", v.token, f"/v1/schools/{chosen}/visit-educators", school_year=year
        )
        educators = [{**e, "trained": v.date(e["trained_on"])} for e in found["items"]]
    rooms = await v.services.get("data", v.token, "/v1/me/classrooms")
    return v.render(
        "visits/admin.html",
        schools=schools,
        chosen=chosen,
        year=year,
        educators=educators,
        classrooms=[c for c in rooms["items"] if c["school_id"] == chosen],
    )


async def _class(v: Visit, classroom_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The class list (names, the school's time zone) and its invitations of the year."""
    roster, found = await asyncio.gather(
        v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list"),
        v.services.get(
            "scheduling",
            v.token,
            f"/v1/classrooms/{classroom_id}/visit-invitations",
            school_year=_year(),
        ),
    )
    return roster, found["items"]


def _names(roster: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    students = {
        s["student_id"]: f"{s['given_name']} {s['family_name']}" for s in roster["students"]
    }
    guardians = {
        g["guardian_id"]: f"{g['given_name']} {g['family_name']}"
        for s in roster["students"]
        for g in s["guardians"]
    }
    return students, guardians


async def _class_page(
    v: Visit, classroom_id: str, *, errors: FormErrors | None = None, status: int = 200
) -> Response:
    roster, invitations = await _class(v, classroom_id)
    students, guardians = _names(roster)
    zone = roster["classroom"].get("timezone")
    rows = [
        {
            **i,
            "student": students.get(i["student_id"], i["student_id"]),
            "guardians": [(g, guardians.get(g, g)) for g in i["guardian_ids"]],
            "answered_by_name": guardians.get(i["answered_by"] or "", i["answered_by"]),
            "answered": v.when(i["answered_at"], zone) if i["answered_at"] else "",
        }
        for i in invitations
    ]
    rows.sort(key=lambda r: str(r["student"]))
    invited = {i["student_id"] for i in invitations}
    query = v.request.query_params
    return v.render(
        "visits/class.html",
        status=status,
        classroom=roster["classroom"],
        coordinates=coordinates(v, roster["classroom"]["school_id"]),
        year=_year(),
        rows=rows,
        not_invited=sum(1 for s in roster["students"] if s["student_id"] not in invited),
        errors=errors or FormErrors(),
        saved=query.get("saved"),
        result={k: query.get(k) for k in ("invited", "already", "draw", "seed", "size", "of")},
    )


@router.get("/classes/{classroom_id}", response_class=Response)
async def class_page(v: SignedIn, classroom_id: Id) -> Response:
    _coordinator(v)
    return await _class_page(v, classroom_id)


@router.post("/classes/{classroom_id}/invitations", response_class=Response)
@create_form
async def invite(v: SignedIn, form: Form, classroom_id: Id) -> Response:
    """Every family of the class, or a random draw the service makes and records: the page
    offers no way to pick families, by scores or anything else."""
    _coordinator(v)
    body: dict[str, Any] = {"school_year": _year()}
    if text(form, "who") == "draw":
        size = text(form, "size")
        if not size.isdigit() or not 1 <= int(size) <= MAX_DRAW:
            errors = FormErrors(
                fields={"size": v._("Give how many families to draw: a whole number from 1.")}
            )
            return await _class_page(v, classroom_id, errors=errors, status=422)
        body["draw"] = {"size": int(size)}
    try:
        answer = await v.services.call(
            "scheduling",
            v.token,
            "POST",
            f"/v1/classrooms/{classroom_id}/visit-invitations",
            json=body,
            language=v.language,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = form_errors(
            problem,
            fields={"draw": v._("Give how many families to draw: a whole number from 1.")},
            codes={},
            otherwise=v._("The families could not be invited. Try again in a minute."),
        )
        return await _class_page(v, classroom_id, errors=errors, status=problem.status)
    batch = answer.json()
    where = (
        f"/school/visits/classes/{classroom_id}?saved=invited"
        f"&invited={len(batch['invited'])}&already={batch['already_invited']}"
    )
    if batch["draw"]:
        d = batch["draw"]
        where += f"&draw={d['draw_id']}&seed={d['seed']}&size={d['size']}&of={d['population']}"
    return RedirectResponse(where, status_code=303)


@router.post("/classes/{classroom_id}/answers/{invitation_id}", response_class=Response)
async def record_answer(v: SignedIn, form: Form, classroom_id: Id, invitation_id: Id) -> Response:
    """An answer the family gave by phone or on paper; the same answer twice changes nothing."""
    _coordinator(v)
    guardian = text(form, "guardian_id")
    # A path segment of the service's route: only an id, never a path of the caller's.
    if not re.fullmatch(ID_PATTERN, guardian) or len(guardian) > 255:
        raise BadForm("the guardian is not an id")
    body = {"answer": text(form, "answer"), "channel": text(form, "channel")}
    try:
        await v.services.call(
            "scheduling",
            v.token,
            "PUT",
            f"/v1/visit-invitations/{invitation_id}/answers/{guardian}",
            json=body,
            language=v.language,
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = form_errors(
            problem,
            fields={
                "answer": v._("Choose whether the family said yes or no."),
                "channel": v._("Choose how the family answered: by phone or on paper."),
            },
            codes={
                "not-the-family": (None, v._("Choose one of the family's own guardians.")),
            },
            otherwise=v._("The answer could not be recorded. Check the form and try again."),
        )
        return await _class_page(v, classroom_id, errors=errors, status=problem.status)
    return RedirectResponse(f"/school/visits/classes/{classroom_id}?saved=answer", 303)


async def _invitation(
    v: Visit, classroom_id: str, invitation_id: str
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The class, the invitation (refused as not found unless it is the class's), and the
    school's opted-in educators to pair."""
    roster, invitations = await _class(v, classroom_id)
    invitation = next((i for i in invitations if i["invitation_id"] == invitation_id), None)
    if invitation is None:
        raise ServiceProblem(404)
    school_id = roster["classroom"]["school_id"]
    if not coordinates(v, school_id):
        raise ServiceProblem(403)
    found = await v.services.get(
        "scheduling", v.token, f"/v1/schools/{school_id}/visit-educators", school_year=_year()
    )
    return roster, invitation, found["items"]


async def _propose_page(
    v: Visit,
    classroom_id: str,
    invitation_id: str,
    *,
    typed: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    roster, invitation, educators = await _invitation(v, classroom_id, invitation_id)
    students, guardians = _names(roster)
    return v.render(
        "visits/propose.html",
        status=status,
        classroom=roster["classroom"],
        invitation=invitation,
        student=students.get(invitation["student_id"], invitation["student_id"]),
        guardian=guardians.get(invitation["answered_by"] or "", invitation["answered_by"]),
        educators=educators,
        zone=roster["classroom"].get("timezone") or "UTC",
        durations=DURATIONS,
        typed=typed or {"duration_minutes": "60"},
        errors=errors or FormErrors(),
    )


@router.get("/classes/{classroom_id}/propose/{invitation_id}", response_class=Response)
async def propose_page(v: SignedIn, classroom_id: Id, invitation_id: Id) -> Response:
    _coordinator(v)
    return await _propose_page(v, classroom_id, invitation_id)


def read_times(form: Any, zone: ZoneInfo) -> list[str] | None:
    """The filled times, read on the school's clock; None when one is not a time."""
    times: list[str] = []
    for name in TIME_FIELDS:
        value = text(form, name)
        if not value:
            continue
        try:
            times.append(datetime.fromisoformat(value).replace(tzinfo=zone).isoformat())
        except ValueError:
            return None
    return times


@router.post("/classes/{classroom_id}/propose/{invitation_id}", response_class=Response)
@create_form
async def propose(v: SignedIn, form: Form, classroom_id: Id, invitation_id: Id) -> Response:
    _coordinator(v)
    typed = {k: text(form, k) for k in (*TIME_FIELDS, "first", "second", "duration_minutes")}
    roster = await v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list")
    try:
        zone = ZoneInfo(roster["classroom"].get("timezone") or "UTC")
    except (ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    times = read_times(form, zone)
    minutes = typed["duration_minutes"]
    messages = propose_messages(v)
    if times is None or len(times) < 2:
        errors = FormErrors(fields={"times": messages["times"]})
        return await _propose_page(
            v, classroom_id, invitation_id, typed=typed, errors=errors, status=422
        )
    body = {
        "invitation_id": invitation_id,
        "educator_ids": [typed["first"], typed["second"]],
        "times": times,
        "duration_minutes": int(minutes) if minutes.isdigit() else 60,
    }
    try:
        answer = await v.services.call(
            "scheduling", v.token, "POST", "/v1/home-visits", json=body, language=v.language
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = form_errors(
            problem,
            fields={
                "educator_ids": messages["pair"],
                "times": messages["times"],
                "duration_minutes": messages["duration"],
            },
            codes=propose_codes(v, messages),
            otherwise=v._("The times could not be proposed. Check the form and try again."),
        )
        return await _propose_page(
            v, classroom_id, invitation_id, typed=typed, errors=errors, status=problem.status
        )
    return RedirectResponse(f"/visits/{answer.json()['visit_id']}", status_code=303)


def propose_messages(v: Visit) -> dict[str, str]:
    return {
        "pair": v._("Choose two different educators for the pair."),
        "times": v._("Give two or three different times, each in the future."),
        "duration": v._("Choose how long the visit lasts."),
    }


def propose_codes(v: Visit, messages: dict[str, str]) -> dict[str, tuple[str | None, str]]:
    return {
        "not-a-pair": ("educator_ids", messages["pair"]),
        "educator-not-opted-in": (
            "educator_ids",
            v._("An educator of the pair has not opted in to home visits this school year."),
        ),
        "educator-not-trained": (
            "educator_ids",
            v._("An educator of the pair had no home-visit training before the first time."),
        ),
        "educator-busy": (
            "times",
            v._("An educator of the pair is on another visit at one of these times."),
        ),
        "two-or-three-times": ("times", messages["times"]),
        "time-in-the-past": ("times", messages["times"]),
        "bad-duration": ("duration_minutes", messages["duration"]),
        "family-not-opted-in": (None, v._("The family has not said yes to home visits.")),
        "year-complete": (None, v._("This family had both its visits this school year.")),
    }
