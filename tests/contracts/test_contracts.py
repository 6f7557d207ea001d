"""Contracts: committed files match the models, published versions stay compatible,
and unrestricted events carry no personal data."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from aptt_contracts import generate
from aptt_contracts.catalogue import EVENT_TOPICS, TOPICS_BY_NAME
from aptt_contracts.compat import breaking_changes
from aptt_contracts.envelope import TOPIC_PATTERN, TYPE_PATTERN
from aptt_contracts.registry import EVENT_MODELS

PERSONAL = re.compile(
    r"(given|family|first|last|middle|preferred|user)_?name|email|phone|address|body|text|note"
    r"|comment|birth",
    re.I,
)


def test_committed_schemas_and_asyncapi_match_the_models() -> None:
    assert generate.main(["--check"]) == 0, "run `make schemas` and commit the result"


def test_every_published_revision_is_compatible_with_the_model() -> None:
    history, problems = generate.pending_history()
    assert problems == []
    assert history == {}, "a changed schema must be recorded in contracts/history"


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_event_types_and_topics_follow_the_naming_rules(event_type: str) -> None:
    model = EVENT_MODELS[event_type]
    match = TYPE_PATTERN.match(event_type)
    assert match is not None
    assert TOPIC_PATTERN.match(model.topic)
    topic = TOPICS_BY_NAME[model.topic]
    assert topic.producer == match["service"] == model.topic.split(".")[1]
    assert model.subject_field in model.model_fields
    assert model.model_config.get("extra") == "forbid"
    assert model.model_config.get("frozen") is True


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_unrestricted_events_carry_no_personal_fields(event_type: str) -> None:
    model = EVENT_MODELS[event_type]
    if TOPICS_BY_NAME[model.topic].restricted:
        return
    personal = [name for name in model.model_fields if PERSONAL.search(name)]
    assert personal == [], f"{event_type} is unrestricted but has {personal}"


def test_restricted_topics_are_read_by_notify_only() -> None:
    restricted = [t for t in EVENT_TOPICS if t.restricted]
    assert {t.name for t in restricted} == {
        "aptt.data.contacts.v1",
        "aptt.data.private-numbers.v1",
        "aptt.data.kindergarten.v1",
    }
    assert all(t.consumers == ("notify",) for t in restricted)


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "district_id": {"type": "string"},
        "score": {"type": "number"},
        "band": {"enum": ["below", "at", "above"]},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    },
    "required": ["district_id", "score"],
}


def changed(**edits: Any) -> dict[str, Any]:
    new = copy.deepcopy(SCHEMA)
    for path, value in edits.items():
        *parents, leaf = path.split("__")
        target = new
        for part in parents:
            target = target[part]
        if value is None:
            del target[leaf]
        else:
            target[leaf] = value
    return new


def test_optional_additions_and_documentation_are_compatible() -> None:
    new = changed(properties__extra={"type": "integer"})
    new["properties"]["score"]["description"] = "words correct per minute"
    new["properties"]["band"]["enum"] = ["below", "at", "above", "well_above"]
    assert breaking_changes(SCHEMA, new) == []


@pytest.mark.parametrize(
    ("new", "complaint"),
    [
        (changed(properties__score=None), "payload.score was removed"),
        (changed(properties__score={"type": "string"}), "payload.score changed type"),
        (
            changed(
                properties__grade={"type": "integer"}, required=["district_id", "score", "grade"]
            ),
            "payload.grade was added as required",
        ),
        (changed(required=["district_id", "score", "note"]), "payload.note is newly required"),
        (changed(properties__band={"enum": ["below", "above"]}), "no longer allows ['at']"),
    ],
)
def test_breaking_changes_are_named(new: dict[str, Any], complaint: str) -> None:
    problems = breaking_changes(SCHEMA, new)
    assert any(complaint in p for p in problems), problems
