"""Reach of personal contact: a teacher's class list with each family's last personal
contact, the walk that writes to the families not reached lately one after another, and the
school's figures per class for its admins (notify's reach; decision 0606)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from aptt_web.pages.common import SignedIn, Visit
from aptt_web.pages.staff import school_rooms, schools_of
from aptt_web.pages.teacher import Id, _staff
from aptt_web.services import ServiceProblem

router = APIRouter()
DAYS = (7, 14, 30, 60)
DEFAULT_DAYS = 30
# A school can hold dozens of classes: a few reach calls at a time.
AT_ONCE = 8
StudentId = Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-]+$")]


def days_of(days: int | str | None) -> int:
    """One of the page's choices; anything else reads as the default (a hand-edited link)."""
    try:
        found = int(days or DEFAULT_DAYS)
    except ValueError:
        return DEFAULT_DAYS
    return found if found in DAYS else DEFAULT_DAYS


async def _reach(v: Visit, days: int, **scope: str) -> dict[str, Any]:
    found: dict[str, Any] = await v.services.get("notify", v.token, "/v1/reach", days=days, **scope)
    return found


async def next_family(v: Visit, classroom_id: str, after: str, days: int) -> str:
    """Where the walk goes after `after` (written to or skipped): the next family in the
    class list's order without a personal contact in `days` days, or back to the list."""
    roster, reach = await asyncio.gather(
        v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list"),
        _reach(v, days, classroom_id=classroom_id),
    )
    order = [s["student_id"] for s in roster["students"]]
    start = order.index(after) + 1 if after in order else 0
    waiting = set(reach["not_reached"]) - {after}
    later = [s for s in order[start:] if s in waiting]
    if later:
        return f"/teach/classes/{classroom_id}/notes/{later[0]}?walk={days}"
    return f"/teach/classes/{classroom_id}/reach?days={days}&done=1"


@router.get("/teach/classes/{classroom_id}/reach", response_class=Response)
async def class_reach(v: SignedIn, classroom_id: Id, days: str | None = None) -> Response:
    _staff(v)
    chosen = days_of(days)
    roster, families, reach = await asyncio.gather(
        v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list"),
        v.services.get("notify", v.token, f"/v1/classrooms/{classroom_id}/families"),
        _reach(v, chosen, classroom_id=classroom_id),
    )
    contacts = {f["student_id"]: f for f in families["items"]}
    waiting = set(reach["not_reached"])
    rows = [
        {
            "student": s,
            "last": contacts.get(s["student_id"], {}).get("last_contact_at"),
            "kind": contacts.get(s["student_id"], {}).get("last_contact_kind"),
            "waiting": s["student_id"] in waiting,
        }
        for s in roster["students"]
    ]
    rows.sort(key=lambda r: not r["waiting"])
    first = next((r["student"]["student_id"] for r in rows if r["waiting"]), None)
    return v.render(
        "teach/reach.html",
        classroom=roster["classroom"],
        rows=[{**r, "last": v.date(r["last"]) if r["last"] else None} for r in rows],
        reach=reach,
        days=chosen,
        choices=DAYS,
        first=first,
        done=v.request.query_params.get("done") == "1",
    )


@router.get("/teach/classes/{classroom_id}/reach/next", response_class=Response)
async def skip(
    v: SignedIn, classroom_id: Id, after: StudentId, days: str | None = None
) -> Response:
    """ "Skip": the walk goes on to the next family without writing to this one."""
    _staff(v)
    return RedirectResponse(
        await next_family(v, classroom_id, after, days_of(days)), status_code=303
    )


def _admin(v: Visit) -> None:
    if not v.user.is_admin:
        raise ServiceProblem(403)


@router.get("/school/contact", response_class=Response)
async def contact_schools(v: SignedIn) -> Response:
    _admin(v)
    return v.render("school/contact_schools.html", schools=await schools_of(v))


@router.get("/school/contact/{school_id}", response_class=Response)
async def school_reach(v: SignedIn, school_id: Id, days: str | None = None) -> Response:
    """Counts only: how many families of each class, and of each teacher's classes in this
    school, heard from the school in person lately. Notify gives the ids of the families not
    reached; this page names none of them, and notify withholds a teacher's small groups."""
    _admin(v)
    chosen = days_of(days)
    name, rooms = await school_rooms(v, school_id)
    school = await _reach(v, chosen, school_id=school_id)
    teachers = {t["teacher_id"]: t for r in rooms for t in r.get("teachers", [])}
    limit = asyncio.Semaphore(AT_ONCE)

    async def one(key: tuple[str, str], **scope: str) -> tuple[tuple[str, str], dict[str, Any]]:
        async with limit:
            return key, _counts(await _reach(v, chosen, **scope))

    found = dict(
        await asyncio.gather(
            *(one(("class", r["classroom_id"]), classroom_id=r["classroom_id"]) for r in rooms),
            *(one(("teacher", t), teacher_id=t, school_id=school_id) for t in teachers),
        )
    )
    return v.render(
        "school/contact.html",
        school_id=school_id,
        school_name=name,
        school=_counts(school),
        classrooms=[{"classroom": r, "figures": found["class", r["classroom_id"]]} for r in rooms],
        teachers=[
            {"teacher": t, "figures": found["teacher", t["teacher_id"]]}
            for t in sorted(teachers.values(), key=lambda t: (t["family_name"], t["given_name"]))
        ],
        days=chosen,
        choices=DAYS,
    )


def _counts(reach: dict[str, Any]) -> dict[str, Any]:
    """A reach answer without its list of student ids: the school view shows numbers. A
    withheld figure (null) reads "too few to show"."""
    withheld = reach.get("withheld", False)
    return {
        "families": reach["families"],
        "reached": reach["reached"],
        "not_reached": None if withheld else len(reach["not_reached"]),
        "rate": reach["rate"],
        "withheld": withheld,
    }
