"""Surveys after team meetings: each guardian who came gets the questions one text at a
time (answer with one digit), then may add a comment; each teacher of the class gets the
teachers' questions in the app. Results are counts, withheld for groups smaller than the
district's minimum; comments are read by staff only and never leave this database.

A survey is one document per (meeting, respondent) with a snapshot of its questions in
every supported language, so a district editing its set later changes no running survey.
Conference and home-visit surveys are one handler each calling `start_surveys` with their
own source (docs/decisions/0514).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import DomainError, NotFound
from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.domain.model import Template
from aptt_notify.domain.surveys import (
    BUILT_IN_SETS,
    COMMENT_MAX,
    SCALE,
    Audience,
    QuestionResult,
    parse_digit,
    summarise,
)
from aptt_notify.i18n import CATALOGUES
from aptt_notify.service import replies, staff
from aptt_notify.service.notes import tell_guardians
from aptt_notify.service.notices import cancel_notices
from aptt_notify.settings import Config

OPEN, COMMENT, ANSWERED = "open", "comment", "answered"
COMMENT_WAIT = timedelta(days=1)


async def question_snapshot(
    uow: UnitOfWork, district_id: str, audience: Audience
) -> tuple[str, int, list[Document]]:
    """The district's newest set for the audience, else ours, with its texts by language."""
    own = await store.surveys.latest_set(uow, district_id, audience)
    if own is not None:
        return own["set_id"], own["version"], own["questions"]
    built_in = BUILT_IN_SETS[audience]
    questions = [
        {
            "question_id": q.question_id,
            "texts": {
                lang: CATALOGUES.gettext(q.text_id or "", lang) for lang in CATALOGUES.languages
            },
        }
        for q in built_in.questions
    ]
    return built_in.set_id, built_in.version, questions


CLOSED = "closed"


async def close_surveys(uow: UnitOfWork, district_id: str, source_id: str) -> None:
    """The source will not take place (a cancelled conference): its surveys still open
    close, and first questions not yet sent are dropped."""
    await store.surveys.set_surveys_of_source(
        uow, district_id, source_id, [OPEN, COMMENT], {"status": CLOSED}
    )
    await cancel_notices(uow, district_id, source_id, [Template.SURVEY_QUESTION])


async def ask_later(uow: UnitOfWork, district_id: str, source_id: str, ask_at: datetime) -> None:
    """The source moved (a conference to another slot): questions not yet sent wait for
    its new end."""
    config = uow.config_as(Config)
    await store.messages.set_messages(
        uow,
        {
            "district_id": district_id,
            "meeting_id": source_id,
            "template": str(Template.SURVEY_QUESTION),
            "status": "pending",
        },
        {"next_check_at": ask_at, "expires_at": ask_at + config.message_max_wait},
    )
    await store.surveys.set_surveys_of_source(
        uow, district_id, source_id, [OPEN], {"expires_at": ask_at + config.survey_window}
    )


def survey_id(district_id: str, source_id: str, respondent_id: str) -> str:
    return store.doc_id(district_id, "survey", source_id, respondent_id)


async def start_surveys(
    uow: UnitOfWork,
    *,
    district_id: str,
    source_id: str,
    classroom_id: str | None,
    school_id: str,
    student_id: str,
    guardian_id: str,
    now: datetime,
    ask_at: datetime | None = None,
) -> None:
    """The guardian's survey for this source (a meeting, a conference booking, a home
    visit), and the class teachers' ones when there is a class (a home visit has none).
    Idempotent: an attendance recorded again starts nothing new."""
    config = uow.config_as(Config)
    common: Document = {
        "district_id": district_id,
        "source_id": source_id,
        "meeting_id": source_id,
        "classroom_id": classroom_id,
        "school_id": school_id,
        "answers": {},
        "next": 0,
        "comment": None,
        "status": OPEN,
        "version": 0,
        "created_at": now,
        # A conference booked weeks ahead is asked about after it, not before.
        "expires_at": max(now, ask_at or now) + config.survey_window,
    }
    set_id, set_version, questions = await question_snapshot(uow, district_id, "family")
    survey: Document = {
        **common,
        "_id": survey_id(district_id, source_id, guardian_id),
        "audience": "family",
        "respondent_id": guardian_id,
        "student_id": student_id,
        "set_id": set_id,
        "set_version": set_version,
        "questions": questions,
    }
    if await store.surveys.insert_survey(uow, survey):
        await _ask(uow, survey, 0, now, due_at=ask_at)
    if classroom_id is None:
        return
    classroom = await store.roster.classrooms.get(uow, district_id, classroom_id)
    teacher_set = await question_snapshot(uow, district_id, "teacher")
    for teacher_id in (classroom or {}).get("teacher_ids", []):
        await store.surveys.insert_survey(
            uow,
            {
                **common,
                "_id": survey_id(district_id, source_id, teacher_id),
                "audience": "teacher",
                "respondent_id": teacher_id,
                "student_id": None,
                "set_id": teacher_set[0],
                "set_version": teacher_set[1],
                "questions": teacher_set[2],
            },
        )


async def _ask(
    uow: UnitOfWork, survey: Document, index: int, now: datetime, due_at: datetime | None = None
) -> None:
    questions = survey["questions"]
    student = {"student_id": survey["student_id"], "school_id": survey["school_id"]}
    if index < len(questions):
        template, params = (
            Template.SURVEY_QUESTION,
            {
                "question_texts": questions[index]["texts"],
                "number": index + 1,
                "total": len(questions),
                "survey_id": survey["_id"],
            },
        )
    else:
        template, params = Template.SURVEY_COMMENT, {"survey_id": survey["_id"]}
    await tell_guardians(
        uow,
        district_id=survey["district_id"],
        source_id=f"{survey['_id']}:{index}",
        template=template,
        student=student,
        params=params,
        now=now,
        guardian_ids=[survey["respondent_id"]],
        due_at=due_at,
        meeting_id=survey["meeting_id"],
    )


async def answer_by_sms(
    uow: UnitOfWork, *, phone: str, body: str, message_sid: str, now: datetime
) -> bool:
    """A digit answers the open survey's current question and asks the next; after the
    last, a text within a day is its comment. False when the text is neither. A webhook
    the provider retries (same message sid) answers nothing twice."""
    district_id, guardian_ids = await replies.guardians_with_phone(uow, phone)
    if not guardian_ids:
        return False
    found = await store.surveys.surveys(
        uow,
        {
            "district_id": district_id,
            "respondent_id": {"$in": guardian_ids},
            "status": {"$in": [OPEN, COMMENT]},
            "expires_at": {"$gt": now},
        },
    )
    if not found:
        return False
    survey = max(found, key=lambda s: s["created_at"])
    seen: list[str] = survey.get("message_sids", [])
    if message_sid in seen:
        return True
    sids = {"message_sids": [*seen, message_sid]}
    if survey["status"] == COMMENT:
        if survey.get("comment_until") and survey["comment_until"] < now:
            return False
        return await store.surveys.set_survey(
            uow,
            survey["_id"],
            survey["version"],
            {
                **sids,
                "comment": body.strip()[:COMMENT_MAX],
                "status": ANSWERED,
                "answered_at": now,
            },
        )
    digit = parse_digit(body)
    if digit is None:
        return False
    index = survey["next"]
    question_id = survey["questions"][index]["question_id"]
    done = index + 1 >= len(survey["questions"])
    fields: Document = {
        **sids,
        f"answers.{question_id}": digit,
        "next": index + 1,
        "answered_at": now,
    }
    if done:
        fields |= {"status": COMMENT, "comment_until": now + COMMENT_WAIT}
    if await store.surveys.set_survey(uow, survey["_id"], survey["version"], fields):
        await _ask(uow, survey, index + 1, now)
    return True


async def send_now(uow: UnitOfWork, *, teacher: Principal, meeting_id: str, now: datetime) -> int:
    """The teacher ends the meeting: the families' first questions go now, not at its
    planned end."""
    meeting = await store.meetings.get_meeting(uow, teacher.district_id, meeting_id)
    if meeting is None:
        raise NotFound("no such meeting")
    await staff.classroom(uow, teacher, meeting["classroom_id"], teachers_only=True)
    # Surveys of attendance recorded later are asked at once too (service/attendance.py).
    await store.meetings.put_meeting(uow, teacher.district_id, meeting_id, {"ended_at": now})
    return await store.messages.set_messages(
        uow,
        {
            "district_id": teacher.district_id,
            "meeting_id": meeting_id,
            "template": str(Template.SURVEY_QUESTION),
            "status": "pending",
            "next_check_at": {"$gt": now},
        },
        {"next_check_at": now},
    )


@dataclass(frozen=True)
class OpenSurvey:
    survey_id: str
    meeting_id: str
    questions: list[dict[str, str]]


async def my_surveys(
    uow: UnitOfWork, *, principal: Principal, language: str, now: datetime
) -> list[OpenSurvey]:
    found = await store.surveys.surveys(
        uow,
        {
            "district_id": principal.district_id,
            "respondent_id": principal.subject,
            "status": OPEN,
            "expires_at": {"$gt": now},
        },
        limit=50,
    )
    return [
        OpenSurvey(
            s["_id"],
            s["meeting_id"],
            [
                {
                    "question_id": q["question_id"],
                    "text": q["texts"].get(language) or q["texts"].get("en", ""),
                }
                for q in s["questions"]
            ],
        )
        for s in found
    ]


async def answer_in_app(
    uow: UnitOfWork,
    *,
    principal: Principal,
    survey_id: str,
    answers: dict[str, int],
    comment: str | None,
    now: datetime,
) -> None:
    """All answers at once (the app's form, or a teacher's survey)."""
    survey = await store.surveys.get_survey(uow, survey_id)
    if (
        survey is None
        or survey["district_id"] != principal.district_id
        or survey["respondent_id"] != principal.subject
    ):
        raise NotFound("no such survey")
    if survey["status"] != OPEN or survey["expires_at"] <= now:
        raise DomainError("this survey is closed", code="survey-closed")
    known = {q["question_id"] for q in survey["questions"]}
    if not answers or not set(answers) <= known or any(v not in SCALE for v in answers.values()):
        raise DomainError("answer its questions with 1 to 5", code="bad-answers")
    fields: Document = {f"answers.{q}": v for q, v in answers.items()}
    fields |= {"status": ANSWERED, "comment": comment, "answered_at": now, "next": len(known)}
    await store.surveys.set_survey(uow, survey_id, survey["version"], fields)


@dataclass(frozen=True)
class Results:
    audience: str
    min_answers: int
    respondents: int
    suppressed: bool
    questions: list[QuestionResult]


async def _scope(
    uow: UnitOfWork,
    principal: Principal,
    *,
    meeting_id: str | None,
    classroom_id: str | None,
    school_id: str | None,
) -> Document:
    """The query of the group asked for, after checking the caller may see it."""
    district_id = principal.district_id
    if meeting_id is not None:
        meeting = await store.meetings.get_meeting(uow, district_id, meeting_id)
        if meeting is None:
            raise NotFound("no such meeting")
        await staff.classroom(uow, principal, meeting["classroom_id"])
        return {"district_id": district_id, "meeting_id": meeting_id}
    if classroom_id is not None:
        await staff.classroom(uow, principal, classroom_id)
        return {"district_id": district_id, "classroom_id": classroom_id}
    if school_id is not None:
        staff.school(principal, school_id)
        return {"district_id": district_id, "school_id": school_id}
    if not principal.is_district_admin:
        raise out_of_reach(principal, "district")
    return {"district_id": district_id}


async def results(
    uow: UnitOfWork,
    *,
    principal: Principal,
    audience: Audience,
    meeting_id: str | None = None,
    classroom_id: str | None = None,
    school_id: str | None = None,
) -> Results:
    match = await _scope(
        uow, principal, meeting_id=meeting_id, classroom_id=classroom_id, school_id=school_id
    )
    match |= {"audience": audience, "next": {"$gt": 0}}
    floor = await staff.min_group(uow, principal.district_id)
    respondents = await uow.collection(store.surveys.SURVEYS).count_documents(
        match, session=uow.session
    )
    counts: dict[str, dict[int, int]] = {}
    if respondents >= floor:
        ids = {q.question_id for q in BUILT_IN_SETS[audience].questions}
        ids |= await store.surveys.set_question_ids(uow, principal.district_id, audience)
        for question_id in sorted(ids):
            by_value = await store.surveys.answer_counts(uow, match, question_id)
            if by_value:
                counts[question_id] = by_value
    suppressed, found = summarise(respondents, counts, floor)
    return Results(audience, floor, respondents, suppressed, found)


async def comments(
    uow: UnitOfWork, *, principal: Principal, meeting_id: str, limit: int
) -> list[dict[str, Any]]:
    """A meeting's families' comments, without who wrote them: staff of the class only."""
    match = await _scope(uow, principal, meeting_id=meeting_id, classroom_id=None, school_id=None)
    found = await store.surveys.surveys(
        uow, {**match, "audience": "family", "comment": {"$type": "string"}}, limit=limit
    )
    return [{"text": s["comment"], "at": s.get("answered_at")} for s in found]


async def create_set(
    uow: UnitOfWork,
    *,
    district_id: str,
    set_id: str,
    audience: Audience,
    questions: list[Document],
    now: datetime,
) -> int:
    """The next version of the district's set; two at once write the same id and one of
    the transactions runs again with the next number."""
    version = await store.surveys.latest_version(uow, district_id, set_id) + 1
    await store.surveys.insert_set(
        uow,
        {
            "_id": store.doc_id(district_id, "survey-set", set_id, str(version)),
            "district_id": district_id,
            "set_id": set_id,
            "audience": audience,
            "version": version,
            "questions": questions,
            "created_at": now,
        },
    )
    return version


async def put_settings(uow: UnitOfWork, *, district_id: str, min_answers: int) -> None:
    await store.surveys.put_settings(uow, district_id, {"min_answers": min_answers})
