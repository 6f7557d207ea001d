"""Surveys after a team meeting (and, once their events exist, a conference or a home
visit): three to five questions on a 1-5 scale, one optional comment; results only for
groups of at least the district's minimum (never fewer than five) (docs/decisions/0514).

The built-in questions are ours, written for APTT meetings; Panorama's Family-School
Relationships Survey anchored the choice of scales (welcome, usefulness, understanding,
confidence), not the wording.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Audience = Literal["family", "teacher"]
SCALE = (1, 2, 3, 4, 5)
MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
COMMENT_MAX = 500


@dataclass(frozen=True)
class Question:
    question_id: str
    # Built-in questions are catalogue messages; a district's carry their own translations.
    text_id: str | None = None
    texts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionSet:
    set_id: str
    audience: Audience
    version: int
    questions: tuple[Question, ...]


def _built_in(audience: Audience, ids: Sequence[str]) -> QuestionSet:
    questions = tuple(Question(q, text_id=f"survey.q.{audience}.{q}") for q in ids)
    return QuestionSet(f"built-in-{audience}", audience, 1, questions)


BUILT_IN_SETS: Mapping[Audience, QuestionSet] = {
    "family": _built_in("family", ("welcome", "useful", "understand", "confident")),
    "teacher": _built_in("teacher", ("engaged", "practice", "goals")),
}


def parse_digit(body: str) -> int | None:
    """A reply of one digit 1-5 (any script's digits, a trailing full stop allowed)."""
    word = body.strip().rstrip(".!").strip()
    if len(word) != 1 or not word.isdigit():
        return None
    value = int(word)
    return value if value in SCALE else None


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    answers: int
    mean: float | None
    counts: Mapping[int, int] | None


def summarise(
    answer_sets: Sequence[Mapping[str, int]], question_ids: Sequence[str], min_answers: int
) -> tuple[bool, list[QuestionResult]]:
    """Per question, the mean and distribution; everything withheld (suppressed) when fewer
    than `min_answers` people answered, and a question with fewer answers than that too."""
    respondents = len([a for a in answer_sets if a])
    if respondents < min_answers:
        return True, [QuestionResult(q, 0, None, None) for q in question_ids]
    results = []
    for question_id in question_ids:
        values = [a[question_id] for a in answer_sets if question_id in a]
        if len(values) < min_answers:
            results.append(QuestionResult(question_id, 0, None, None))
            continue
        counts = {v: values.count(v) for v in SCALE}
        results.append(
            QuestionResult(question_id, len(values), round(sum(values) / len(values), 2), counts)
        )
    return False, results
