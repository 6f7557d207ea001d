"""Routes of Parent-Teacher Home Visits: educators opt in, families are invited and answer,
pairs propose and families choose, visits are done, missed or cancelled, reflections, hours.
"""

from __future__ import annotations

from datetime import date

from aptt_platform.deps import (
    CurrentUser,
    Educator,
    Guardian,
    Now,
    SchoolAdmin,
    Store,
    out_of_reach,
)
from aptt_platform.web import Limit, Page, problems
from fastapi import APIRouter, Header, Query, Response, status

from aptt_scheduling.api.schemas import LANGUAGE_TAG, PathId, SchoolYearQuery
from aptt_scheduling.api.visit_calendar import visit_calendar
from aptt_scheduling.api.visit_schemas import (
    AnswerIn,
    CancelIn,
    ChooseIn,
    CompleteIn,
    ConfirmIn,
    EnrolmentOut,
    FollowUpIn,
    FollowUpOut,
    InvitationBatchOut,
    InvitationOut,
    InviteIn,
    MissedIn,
    MoveIn,
    OptInIn,
    PeriodHoursOut,
    PeriodIn,
    ProposeIn,
    RecordedAnswerIn,
    ReflectionIn,
    ReflectionOut,
    VisitOut,
)
from aptt_scheduling.i18n import CATALOGUES
from aptt_scheduling.service import visit_moves as moves
from aptt_scheduling.service import visit_records as records
from aptt_scheduling.service import visits as service
from aptt_scheduling.service.visit_access import CLOSE

router = APIRouter(tags=["home visits"])
READ = problems(403, 404)
CHANGE = problems(403, 404, 409)


@router.post(
    "/schools/{school_id}/visit-educators",
    status_code=status.HTTP_201_CREATED,
    summary="An educator of the school opts in to home visits for a school year",
    responses=problems(403, 404),
)
async def opt_in(
    school_id: PathId, body: OptInIn, principal: Educator, mongo: Store, now: Now
) -> EnrolmentOut:
    enrolment = await mongo.run(
        service.opt_in_educator,
        principal=principal,
        school_id=school_id,
        school_year=body.school_year,
        trained_on=body.trained_on,
        now=now,
    )
    return EnrolmentOut.of(enrolment)


@router.get(
    "/schools/{school_id}/visit-educators",
    summary="The school's educators opted in for a school year (coordinators)",
    responses=READ,
)
async def educators(
    school_id: PathId, principal: SchoolAdmin, mongo: Store, school_year: SchoolYearQuery
) -> Page[EnrolmentOut]:
    found = await mongo.run(
        service.school_educators, principal=principal, school_id=school_id, school_year=school_year
    )
    return Page(items=[EnrolmentOut.of(e) for e in found])


@router.post(
    "/classrooms/{classroom_id}/visit-invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Invite every family of a class, or a recorded random draw of them (coordinators)",
    responses=CHANGE,
)
async def invite(
    classroom_id: PathId, body: InviteIn, principal: SchoolAdmin, mongo: Store, now: Now
) -> InvitationBatchOut:
    batch = await mongo.run(
        service.invite_families,
        principal=principal,
        classroom_id=classroom_id,
        school_year=body.school_year,
        draw_size=body.draw.size if body.draw else None,
        seed=body.draw.seed if body.draw else None,
        now=now,
    )
    return InvitationBatchOut.of(batch)


@router.get(
    "/classrooms/{classroom_id}/visit-invitations",
    summary="A class's invitations and answers (coordinators)",
    responses=READ,
)
async def invitations(
    classroom_id: PathId, principal: SchoolAdmin, mongo: Store, school_year: SchoolYearQuery
) -> Page[InvitationOut]:
    found = await mongo.run(
        service.classroom_invitations,
        principal=principal,
        classroom_id=classroom_id,
        school_year=school_year,
    )
    return Page(items=[InvitationOut.of(i) for i in found])


@router.get("/me/visit-invitations", summary="A guardian's home-visit invitations")
async def mine(principal: Guardian, mongo: Store) -> Page[InvitationOut]:
    found = await mongo.run(service.my_invitations, principal=principal)
    return Page(items=[InvitationOut.of(i) for i in found])


@router.put(
    "/visit-invitations/{invitation_id}/answer",
    summary="A guardian says yes or no (no after yes withdraws and cancels pending visits)",
    responses=problems(404, 409),
)
async def answer(
    invitation_id: PathId, body: AnswerIn, principal: Guardian, mongo: Store, now: Now
) -> InvitationOut:
    found = await mongo.run(
        service.answer_invitation,
        district_id=principal.district_id,
        guardian_id=principal.subject,
        invitation_id=invitation_id,
        yes=body.answer == "yes",
        channel="web",
        now=now,
    )
    return InvitationOut.of(found)


@router.put(
    "/visit-invitations/{invitation_id}/answers/{guardian_id}",
    summary="A coordinator records a guardian's answer given by phone or on paper",
    responses=CHANGE,
)
async def record_answer(
    invitation_id: PathId,
    guardian_id: PathId,
    body: RecordedAnswerIn,
    principal: SchoolAdmin,
    mongo: Store,
    now: Now,
) -> InvitationOut:
    found = await mongo.run(
        service.record_answer,
        principal=principal,
        invitation_id=invitation_id,
        guardian_id=guardian_id,
        yes=body.answer == "yes",
        channel=body.channel,
        now=now,
    )
    return InvitationOut.of(found)


@router.post(
    "/home-visits",
    status_code=status.HTTP_201_CREATED,
    summary="Propose two or three times to a family that said yes (the pair or a coordinator)",
    responses=CHANGE,
)
async def propose(body: ProposeIn, principal: Educator, mongo: Store, now: Now) -> VisitOut:
    view = await mongo.run(
        service.propose_visit,
        principal=principal,
        invitation_id=body.invitation_id,
        educator_ids=(body.educator_ids[0], body.educator_ids[1]),
        times=tuple(body.times),
        duration_minutes=body.duration_minutes,
        now=now,
    )
    return VisitOut.of(view)


@router.get(
    "/me/home-visits",
    summary="An educator's home visits, or a guardian's family visits, newest first",
    responses=problems(403),
)
async def my_visits(principal: CurrentUser, mongo: Store, limit: Limit = 50) -> Page[VisitOut]:
    views = await mongo.run(service.my_visits, principal=principal, limit=limit)
    return Page(items=[VisitOut.of(v) for v in views])


# Declared before /home-visits/{visit_id}, which would otherwise take "x.ics" as an id.
@router.get(
    "/home-visits/{visit_id}.ics",
    summary="The visit as an iCalendar file (the pair and the school's coordinators)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **CHANGE},
)
async def calendar_file(
    visit_id: PathId,
    principal: Educator,
    mongo: Store,
    now: Now,
    lang: str | None = Query(default=None, max_length=35, pattern=LANGUAGE_TAG),
    accept_language: str | None = Header(default=None, max_length=1000),
) -> Response:
    view = await mongo.run(service.get_visit, principal=principal, visit_id=visit_id)
    if view.standing not in CLOSE:
        raise out_of_reach(principal, "home visit")
    language = CATALOGUES.language_for(lang) if lang else CATALOGUES.negotiate(accept_language)
    return Response(
        visit_calendar(view, language=language, now=now),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{visit_id}.ics"'},
    )


@router.get("/home-visits/{visit_id}", summary="A home visit", responses=READ)
async def get_visit(visit_id: PathId, principal: CurrentUser, mongo: Store) -> VisitOut:
    view = await mongo.run(service.get_visit, principal=principal, visit_id=visit_id)
    return VisitOut.of(view)


@router.post(
    "/home-visits/{visit_id}/choose",
    summary="The family picks a proposed time, or offers another, and the place",
    responses=CHANGE,
)
async def choose(
    visit_id: PathId, body: ChooseIn, principal: Guardian, mongo: Store, now: Now
) -> VisitOut:
    view = await mongo.run(
        service.choose_time,
        principal=principal,
        visit_id=visit_id,
        starts_at=body.starts_at,
        place_kind=body.place_kind,
        address=body.address,
        now=now,
    )
    return VisitOut.of(view)


@router.post(
    "/home-visits/{visit_id}/confirm",
    summary="The pair takes the time the family offered",
    responses=CHANGE,
)
async def confirm(
    visit_id: PathId, principal: Educator, mongo: Store, now: Now, body: ConfirmIn | None = None
) -> VisitOut:
    view = await mongo.run(
        service.confirm_time,
        principal=principal,
        visit_id=visit_id,
        starts_at=body.starts_at if body else None,
        now=now,
    )
    return VisitOut.of(view)


@router.post(
    "/home-visits/{visit_id}/move",
    summary="Move a visit that has not taken place: the family asks for another time, or the "
    "pair or a coordinator offers two or three new ones; the family then chooses again",
    responses=CHANGE,
)
async def move(
    visit_id: PathId, body: MoveIn, principal: CurrentUser, mongo: Store, now: Now
) -> VisitOut:
    view = await mongo.run(
        moves.move_visit, principal=principal, visit_id=visit_id, times=tuple(body.times), now=now
    )
    return VisitOut.of(view)


@router.post(
    "/home-visits/{visit_id}/cancel",
    summary="Cancel a pending visit (the family, the pair or a coordinator)",
    responses=CHANGE,
)
async def cancel(
    visit_id: PathId, body: CancelIn, principal: CurrentUser, mongo: Store, now: Now
) -> VisitOut:
    view = await mongo.run(
        service.cancel_visit, principal=principal, visit_id=visit_id, reason=body.reason, now=now
    )
    return VisitOut.of(view)


@router.post(
    "/home-visits/{visit_id}/complete",
    summary="The visit took place: its real start and end, travel if recorded",
    responses=CHANGE,
)
async def complete(
    visit_id: PathId, body: CompleteIn, principal: Educator, mongo: Store, now: Now
) -> VisitOut:
    view = await mongo.run(
        service.complete_visit,
        principal=principal,
        visit_id=visit_id,
        started_at=body.started_at,
        ended_at=body.ended_at,
        travel_minutes=body.travel_minutes,
        now=now,
    )
    return VisitOut.of(view)


@router.post(
    "/home-visits/{visit_id}/missed", summary="The visit did not take place", responses=CHANGE
)
async def missed(
    visit_id: PathId, body: MissedIn, principal: Educator, mongo: Store, now: Now
) -> VisitOut:
    view = await mongo.run(
        service.mark_missed, principal=principal, visit_id=visit_id, reason=body.reason, now=now
    )
    return VisitOut.of(view)


@router.post(
    "/home-visits/{visit_id}/follow-ups",
    status_code=status.HTTP_201_CREATED,
    summary="Log a contact with the family between visits",
    responses=READ,
)
async def follow_up(
    visit_id: PathId, body: FollowUpIn, principal: Educator, mongo: Store, now: Now
) -> FollowUpOut:
    logged = await mongo.run(
        records.log_follow_up,
        principal=principal,
        visit_id=visit_id,
        kind=body.kind,
        contacted_on=body.contacted_on,
        now=now,
    )
    return FollowUpOut(**logged)


@router.put(
    "/home-visits/{visit_id}/reflection",
    summary="The pair's reflection on a visit that took place (private)",
    responses=CHANGE,
)
async def write_reflection(
    visit_id: PathId, body: ReflectionIn, principal: Educator, mongo: Store, now: Now
) -> ReflectionOut:
    written = await mongo.run(
        records.write_reflection, principal=principal, visit_id=visit_id, text=body.text(), now=now
    )
    return ReflectionOut(**written)


@router.get(
    "/home-visits/{visit_id}/reflection",
    summary="The reflection (the pair and the school's coordinators)",
    responses=READ,
)
async def read_reflection(visit_id: PathId, principal: CurrentUser, mongo: Store) -> ReflectionOut:
    found = await mongo.run(records.read_reflection, principal=principal, visit_id=visit_id)
    return ReflectionOut(**found)


@router.get(
    "/schools/{school_id}/visit-hours",
    summary="Educators' home-visit hours for a pay period (school-local dates, last included)",
    responses=problems(403, 404),
)
async def visit_hours(
    school_id: PathId,
    principal: SchoolAdmin,
    mongo: Store,
    first_day: date = Query(),
    last_day: date = Query(),
) -> PeriodHoursOut:
    period = await mongo.run(
        records.period_hours,
        principal=principal,
        school_id=school_id,
        first=first_day,
        last=last_day,
    )
    return PeriodHoursOut.of(period)


@router.post(
    "/schools/{school_id}/visit-hours/approvals",
    status_code=status.HTTP_201_CREATED,
    summary="A coordinator approves a pay period; its figures are frozen for payroll",
    responses=CHANGE,
)
async def approve(
    school_id: PathId, body: PeriodIn, principal: SchoolAdmin, mongo: Store, now: Now
) -> PeriodHoursOut:
    period = await mongo.run(
        records.approve_hours,
        principal=principal,
        school_id=school_id,
        first=body.first_day,
        last=body.last_day,
        now=now,
    )
    return PeriodHoursOut.of(period)


@router.get(
    "/schools/{school_id}/visit-hours.csv",
    summary="An approved pay period as CSV for payroll",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **CHANGE},
)
async def payroll(
    school_id: PathId,
    principal: SchoolAdmin,
    mongo: Store,
    first_day: date = Query(),
    last_day: date = Query(),
) -> Response:
    text = await mongo.run(
        records.payroll_export,
        principal=principal,
        school_id=school_id,
        first=first_day,
        last=last_day,
    )
    name = f"visit-hours-{school_id}-{first_day.isoformat()}-{last_day.isoformat()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
