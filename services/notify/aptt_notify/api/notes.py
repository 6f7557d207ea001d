"""Personal notes (sentence builder or free text), their preview in each family's language,
the class list with each family's last personal contact, and reach."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from aptt_platform.deps import Now, RuntimeDep, Staff, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import RequestModel, problems
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from aptt_notify.domain.notes import FREE_TEXT_MAX, PHRASES, NoteDraft, NoteKind, PhrasePart
from aptt_notify.i18n import lookup, text_language
from aptt_notify.service import notes, reach

router = APIRouter(tags=["personal notes"])
Id = Annotated[str, Field(min_length=1, max_length=64)]
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
ClassroomId = Annotated[str, Path(min_length=1, max_length=64)]


class NoteBody(RequestModel):
    """A built note (`phrases` and `skill_code`) or a free-text one (`text`, `language`)."""

    note_id: str | None = Field(
        default=None,
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Your idempotency key: the same id sends the note once",
    )
    student_id: Id
    kind: Literal["builder", "free_text"]
    phrases: dict[PhrasePart, Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=len(PhrasePart)
    )
    skill_code: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=FREE_TEXT_MAX)
    language: str | None = Field(
        default=None, max_length=35, pattern=LANGUAGE_TAG, description="The language of `text`"
    )

    def draft(self) -> NoteDraft:
        return NoteDraft(
            kind=NoteKind(self.kind),
            phrases=self.phrases or {},
            skill_code=self.skill_code,
            text=self.text,
            written_in=self.language,
        )


class PreviewBody(RequestModel):
    student_id: Id
    kind: Literal["builder", "free_text"]
    phrases: dict[PhrasePart, Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=len(PhrasePart)
    )
    skill_code: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=FREE_TEXT_MAX)
    language: str | None = Field(default=None, max_length=35, pattern=LANGUAGE_TAG)

    def draft(self) -> NoteDraft:
        return NoteBody.model_validate({**self.model_dump(), "note_id": None}).draft()


class NoteOut(BaseModel):
    note_id: str
    student_id: str
    created_at: datetime
    recipients: int


class PreviewItem(BaseModel):
    guardian_id: str
    language: str
    text: str


class Previews(BaseModel):
    items: list[PreviewItem]


@router.post(
    "/notes",
    status_code=201,
    summary="Send a personal note about one student to the student's guardians",
    responses=problems(403, 404, 409, 429),
)
async def send_note(
    teacher: Staff, mongo: Store, runtime: RuntimeDep, now: Now, body: NoteBody
) -> NoteOut:
    receipt = await mongo.run(
        notes.send_note,
        teacher=teacher,
        note_id=body.note_id or uuid.uuid4().hex,
        student_id=body.student_id,
        draft=body.draft(),
        now=now,
    )
    sender = runtime.state.get("sender")
    if sender is not None:
        sender.wake()
    return NoteOut.model_validate(receipt, from_attributes=True)


@router.post(
    "/notes/preview",
    summary="The note as each guardian would read it, in their language",
    responses=problems(403, 404),
)
async def preview_note(teacher: Staff, mongo: Store, body: PreviewBody) -> Previews:
    found = await mongo.run(
        notes.preview_note, teacher=teacher, student_id=body.student_id, draft=body.draft()
    )
    return Previews(items=[PreviewItem.model_validate(p, from_attributes=True) for p in found])


class Phrase(BaseModel):
    phrase_id: str
    text: str


class PhraseBook(BaseModel):
    language: str
    parts: dict[PhrasePart, list[Phrase]]


@router.get("/notes/phrases", summary="The sentence builder's phrases, in one language")
async def phrases(
    _: Staff, language: Annotated[str, Query(max_length=35, pattern=LANGUAGE_TAG)] = "en"
) -> PhraseBook:
    found = text_language(language)
    return PhraseBook(
        language=found,
        parts={
            part: [Phrase(phrase_id=p, text=lookup(found, f"phrase.{p}")) for p in ids]
            for part, ids in PHRASES.items()
        },
    )


class FamilyOut(BaseModel):
    student_id: str
    guardian_ids: list[str]
    languages: list[str]
    last_contact_at: datetime | None
    last_contact_kind: str | None


class Families(BaseModel):
    items: list[FamilyOut]


@router.get(
    "/classrooms/{classroom_id}/families",
    summary="The class list: each family and the date of its last personal contact",
    responses=problems(403, 404),
)
async def class_list(
    principal: Staff, mongo: Store, now: Now, classroom_id: ClassroomId
) -> Families:
    rows = await mongo.run(
        notes.class_list, principal=principal, classroom_id=classroom_id, now=now
    )
    return Families(items=[FamilyOut.model_validate(r, from_attributes=True) for r in rows])


class ReachOut(BaseModel):
    days: int
    families: int
    reached: int | None = Field(
        description="null when withheld: an admin reading a teacher's reach of fewer "
        "families than the district's minimum group"
    )
    rate: float | None = Field(description="reached / families; null for no families or withheld")
    not_reached: list[str] = Field(description="student ids of the families not reached")
    withheld: bool = Field(description="true: too few families to show figures")


ScopeId = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get(
    "/reach",
    summary="Families with no personal contact in `days` days, per classroom, teacher (in one "
    "school, with `school_id`) or school",
    responses=problems(403, 404),
)
async def reach_of(
    principal: Staff,
    mongo: Store,
    now: Now,
    classroom_id: ScopeId = None,
    teacher_id: ScopeId = None,
    school_id: ScopeId = None,
    days: Annotated[int | None, Query(ge=1, le=365)] = None,
) -> ReachOut:
    named = [s for s in (classroom_id, teacher_id, school_id) if s is not None]
    in_school = teacher_id is not None and school_id is not None and classroom_id is None
    if len(named) != 1 and not in_school:
        raise DomainError(
            "name one of classroom_id, teacher_id, school_id (or a teacher_id and its school_id)",
            code="bad-scope",
        )
    found = await mongo.run(
        reach.reach_of,
        principal=principal,
        classroom_id=classroom_id,
        teacher_id=teacher_id,
        school_id=school_id,
        days=days,
        now=now,
    )
    return ReachOut(
        days=found.days,
        families=found.families,
        reached=found.reached,
        rate=found.rate,
        not_reached=found.not_reached,
        withheld=found.withheld,
    )
