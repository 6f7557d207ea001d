"""A teacher's personal note to one family: the sentence builder or one sentence of free
text, a preview as each guardian will read it, and, on a walk through the families not
reached lately, straight on to the next one (decisions 0600, 0605, 0606)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from aptt_web.pages.common import Form, SignedIn, Visit, create_form, text
from aptt_web.pages.reach import days_of, next_family
from aptt_web.pages.teacher import Id, _staff
from aptt_web.services import ServiceProblem

router = APIRouter()
NOTE_PARTS = ("went_well", "next_step", "home_action")
SKILLS = ("orf", "math-facts")


def _walk(value: str | None) -> int | None:
    """The walk's number of days, or None for a single note."""
    return days_of(value) if value else None


@router.get("/teach/classes/{classroom_id}/notes/{student_id}", response_class=Response)
async def note_page(
    v: SignedIn, classroom_id: Id, student_id: Id, walk: str | None = None
) -> Response:
    _staff(v)
    return await _note_page(v, classroom_id, student_id, walk=_walk(walk))


async def _note_page(
    v: Visit,
    classroom_id: str,
    student_id: str,
    *,
    walk: int | None,
    form: FormData | None = None,
    previews: list[dict[str, Any]] | None = None,
    refused: str | None = None,
) -> Response:
    roster, book = await asyncio.gather(
        v.services.get("data", v.token, f"/v1/classrooms/{classroom_id}/class-list"),
        v.services.get("notify", v.token, "/v1/notes/phrases", language=v.language),
    )
    student = next((s for s in roster["students"] if s["student_id"] == student_id), None)
    if student is None:
        raise ServiceProblem(404)
    guardians = {g["guardian_id"]: g for g in student["guardians"]}
    fields = (*NOTE_PARTS, "skill_code", "free_text", "written_in")
    chosen = {name: text(form, name) for name in fields} if form else {}
    return v.render(
        "teach/note.html",
        status=422 if refused else 200,
        classroom=roster["classroom"],
        student=student,
        parts=[(part, book["parts"].get(part, [])) for part in NOTE_PARTS],
        note_id=(text(form, "note_id") if form else "") or secrets.token_urlsafe(16),
        chosen=chosen,
        previews=[{**p, "guardian": guardians.get(p["guardian_id"])} for p in previews or []],
        refused=refused,
        walk=walk,
        noted=v.request.query_params.get("noted") == "1",
    )


def _draft(v: Visit, form: FormData) -> dict[str, Any] | str:
    """The note the form describes for notify, or the reason it is not one yet."""
    phrases = {part: text(form, part) for part in NOTE_PARTS if text(form, part)}
    free = " ".join(text(form, "free_text").split())
    if free and phrases:
        return v._("Choose sentences or write your own sentence, not both.")
    if free:
        return {
            "kind": "free_text",
            "text": free,
            "language": text(form, "written_in") or v.language,
        }
    if not phrases:
        return v._("Choose at least one sentence.")
    skill = text(form, "skill_code")
    return {"kind": "builder", "phrases": phrases, "skill_code": skill if skill in SKILLS else None}


@router.post("/teach/classes/{classroom_id}/notes/{student_id}/preview", response_class=Response)
async def preview(v: SignedIn, form: Form, classroom_id: Id, student_id: Id) -> Response:
    """The note as each guardian will read it, in their language; nothing is sent."""
    _staff(v)
    walk = _walk(text(form, "walk"))
    draft = _draft(v, form)
    if isinstance(draft, str):
        return await _note_page(v, classroom_id, student_id, walk=walk, form=form, refused=draft)
    try:
        found = await v.services.call(
            "notify",
            v.token,
            "POST",
            "/v1/notes/preview",
            json={"student_id": student_id, **draft},
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        return await _note_page(
            v, classroom_id, student_id, walk=walk, form=form, refused=problem.detail
        )
    return await _note_page(
        v, classroom_id, student_id, walk=walk, form=form, previews=found.json()["items"]
    )


@router.post("/teach/classes/{classroom_id}/notes/{student_id}", response_class=Response)
@create_form
async def send_note(v: SignedIn, form: Form, classroom_id: Id, student_id: Id) -> Response:
    """Each guardian reads the note in their own language. The page's note id makes notify
    send it once; its one-time token sends a second tap to where the first one went."""
    _staff(v)
    walk = _walk(text(form, "walk"))
    draft = _draft(v, form)
    if isinstance(draft, str):
        return await _note_page(v, classroom_id, student_id, walk=walk, form=form, refused=draft)
    try:
        await v.services.call(
            "notify",
            v.token,
            "POST",
            "/v1/notes",
            json={"note_id": text(form, "note_id") or None, "student_id": student_id, **draft},
        )
    except ServiceProblem as problem:
        if problem.status not in (409, 422):
            raise
        return await _note_page(
            v, classroom_id, student_id, walk=walk, form=form, refused=problem.detail
        )
    if walk is None:
        return RedirectResponse(f"/teach/classes/{classroom_id}?noted=1", status_code=303)
    return RedirectResponse(
        await next_family(v, classroom_id, student_id, walk) + "&noted=1", status_code=303
    )
