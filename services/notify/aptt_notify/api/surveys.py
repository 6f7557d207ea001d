"""Surveys: the caller's open surveys and their answers in the app; district question sets
and the minimum group size; results per meeting, class, school or district; comments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aptt_platform.deps import CurrentUser, DistrictAdmin, Now, RuntimeDep, Staff, Store
from aptt_platform.errors import DomainError
from aptt_platform.web import Limit, RequestModel, problems
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from aptt_notify.domain.surveys import COMMENT_MAX, MAX_QUESTIONS, MIN_QUESTIONS
from aptt_notify.i18n import CATALOGUES, text_language
from aptt_notify.service import surveys

router = APIRouter(tags=["surveys"])
SurveyId = Annotated[str, Path(min_length=1, max_length=200)]
ScopeId = Annotated[str | None, Query(min_length=1, max_length=64)]
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
QuestionId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")]


class QuestionOut(BaseModel):
    question_id: str
    text: str


class OpenSurveyOut(BaseModel):
    survey_id: str
    meeting_id: str
    questions: list[QuestionOut]


class OpenSurveys(BaseModel):
    items: list[OpenSurveyOut]


@router.get("/surveys/mine", summary="The caller's open surveys (family or teacher)")
async def my_surveys(
    principal: CurrentUser,
    mongo: Store,
    now: Now,
    language: Annotated[str, Query(max_length=35, pattern=LANGUAGE_TAG)] = "en",
) -> OpenSurveys:
    found = await mongo.run(
        surveys.my_surveys, principal=principal, language=text_language(language), now=now
    )
    return OpenSurveys(items=[OpenSurveyOut.model_validate(s, from_attributes=True) for s in found])


class AnswersBody(RequestModel):
    answers: dict[QuestionId, Annotated[int, Field(ge=1, le=5)]] = Field(
        min_length=1, max_length=MAX_QUESTIONS
    )
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)


@router.post(
    "/surveys/{survey_id}/answers",
    status_code=204,
    summary="Answer one of your surveys",
    responses=problems(404),
)
async def answer(
    principal: CurrentUser, mongo: Store, now: Now, survey_id: SurveyId, body: AnswersBody
) -> None:
    await mongo.run(
        surveys.answer_in_app,
        principal=principal,
        survey_id=survey_id,
        answers=dict(body.answers),
        comment=body.comment,
        now=now,
    )


class Sent(BaseModel):
    surveys: int


@router.post(
    "/surveys/meetings/{meeting_id}/send",
    summary="The meeting is over: send its families' surveys now (a teacher of the class)",
    responses=problems(403, 404),
)
async def send_now(
    teacher: Staff, mongo: Store, runtime: RuntimeDep, now: Now, meeting_id: SurveyId
) -> Sent:
    sent = await mongo.run(surveys.send_now, teacher=teacher, meeting_id=meeting_id, now=now)
    sender = runtime.state.get("sender")
    if sender is not None:
        sender.wake()
    return Sent(surveys=sent)


class QuestionBody(RequestModel):
    question_id: QuestionId
    texts: dict[
        Annotated[str, Field(max_length=35)], Annotated[str, Field(min_length=1, max_length=200)]
    ] = Field(max_length=40, description="The question in every supported language")


class SetBody(RequestModel):
    set_id: QuestionId
    audience: Literal["family", "teacher"]
    questions: list[QuestionBody] = Field(min_length=MIN_QUESTIONS, max_length=MAX_QUESTIONS)


class SetOut(BaseModel):
    set_id: str
    audience: str
    version: int


@router.post(
    "/surveys/sets",
    status_code=201,
    summary="A district's own question set: a new version, used for surveys from now on",
    responses=problems(403),
)
async def create_set(admin: DistrictAdmin, mongo: Store, now: Now, body: SetBody) -> SetOut:
    missing = {
        q.question_id: sorted(set(CATALOGUES.languages) - set(q.texts)) for q in body.questions
    }
    if any(missing.values()):
        raise DomainError(
            "every question needs a text in every supported language",
            code="missing-translations",
            missing={k: v for k, v in missing.items() if v},
        )
    if len({q.question_id for q in body.questions}) != len(body.questions):
        raise DomainError("name each question once", code="bad-questions")
    version = await mongo.run(
        surveys.create_set,
        district_id=admin.district_id,
        set_id=body.set_id,
        audience=body.audience,
        questions=[q.model_dump() for q in body.questions],
        now=now,
    )
    return SetOut(set_id=body.set_id, audience=body.audience, version=version)


class SurveySettings(RequestModel):
    min_answers: int = Field(ge=5, le=100, description="results of smaller groups are withheld")


@router.put(
    "/surveys/settings",
    summary="The district's minimum group size for results",
    responses=problems(403),
)
async def put_settings(admin: DistrictAdmin, mongo: Store, body: SurveySettings) -> SurveySettings:
    await mongo.run(
        surveys.put_settings, district_id=admin.district_id, min_answers=body.min_answers
    )
    return body


class QuestionResultOut(BaseModel):
    question_id: str
    answers: int
    mean: float | None
    counts: dict[int, int] | None


class ResultsOut(BaseModel):
    audience: str
    min_answers: int
    respondents: int
    suppressed: bool = Field(description="true: fewer respondents than min_answers, so no figures")
    questions: list[QuestionResultOut]


@router.get(
    "/surveys/results",
    summary="Results per meeting, classroom, school, or (none named) the district",
    responses=problems(403, 404),
)
async def results(
    principal: Staff,
    mongo: Store,
    audience: Literal["family", "teacher"] = "family",
    meeting_id: ScopeId = None,
    classroom_id: ScopeId = None,
    school_id: ScopeId = None,
) -> ResultsOut:
    if len([s for s in (meeting_id, classroom_id, school_id) if s is not None]) > 1:
        raise DomainError(
            "name at most one of meeting_id, classroom_id, school_id", code="bad-scope"
        )
    found = await mongo.run(
        surveys.results,
        principal=principal,
        audience=audience,
        meeting_id=meeting_id,
        classroom_id=classroom_id,
        school_id=school_id,
    )
    return ResultsOut.model_validate(found, from_attributes=True)


class CommentOut(BaseModel):
    text: str
    at: datetime | None


class Comments(BaseModel):
    items: list[CommentOut]


@router.get(
    "/surveys/comments",
    summary="A meeting's family comments, without who wrote them (staff of the class)",
    responses=problems(403, 404),
)
async def comments(
    principal: Staff,
    mongo: Store,
    meeting_id: Annotated[str, Query(min_length=1, max_length=64)],
    limit: Limit = 50,
) -> Comments:
    found = await mongo.run(
        surveys.comments, principal=principal, meeting_id=meeting_id, limit=limit
    )
    return Comments(items=[CommentOut.model_validate(c) for c in found])
