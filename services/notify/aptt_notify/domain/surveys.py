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
    respondents: int, counts: Mapping[str, Mapping[int, int]], min_answers: int
) -> tuple[bool, list[QuestionResult]]:
    """Per question, how many answered each value and the mean. Nothing at all when fewer
    than `min_answers` people answered; a question fewer answered shows only its count."""
    if respondents < min_answers:
        return True, []
    results = []
    for question_id in sorted(counts):
        by_value = {v: int(counts[question_id].get(v, 0)) for v in SCALE}
        answers = sum(by_value.values())
        if answers < min_answers:
            results.append(QuestionResult(question_id, answers, None, None))
            continue
        mean = round(sum(v * n for v, n in by_value.items()) / answers, 2)
        results.append(QuestionResult(question_id, answers, mean, by_value))
    return False, results
