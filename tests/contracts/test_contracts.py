"""Contracts: committed files match the models, published versions stay compatible,
and unrestricted events carry no personal data."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any, ClassVar

import pytest
from aptt_contracts import generate
from aptt_contracts.catalogue import EVENT_TOPICS, TOPICS_BY_NAME
from aptt_contracts.compat import breaking_changes
from aptt_contracts.envelope import TOPIC_PATTERN, TYPE_PATTERN, EventModel
from aptt_contracts.registry import EVENT_MODELS
from pydantic import create_model

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


def test_an_upper_bound_where_there_was_none_is_compatible() -> None:
    new = changed(properties__district_id={"type": "string", "maxLength": 255})
    new["properties"]["note"]["anyOf"][0]["maxLength"] = 4000
    new["properties"]["tags"] = {"type": "array", "items": {"type": "string"}}
    old = copy.deepcopy(SCHEMA)
    old["properties"]["tags"] = copy.deepcopy(new["properties"]["tags"])
    new["properties"]["tags"]["maxItems"] = 50
    new["properties"]["tags"]["items"]["maxLength"] = 64
    assert breaking_changes(old, new) == []


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
        (
            changed(properties__district_id={"type": "string", "minLength": 1}),
            "payload.district_id changed type",
        ),
        (changed(properties__score={"type": "number", "maximum": 10}), "score changed type"),
    ],
)
def test_breaking_changes_are_named(new: dict[str, Any], complaint: str) -> None:
    problems = breaking_changes(SCHEMA, new)
    assert any(complaint in p for p in problems), problems


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row; `\\|` is a pipe inside a cell."""
    return re.split(r"(?<!\\)\|", line.strip().removeprefix("|").removesuffix("|"))


def test_every_catalogue_table_has_a_delimiter_and_row_cell_per_header_cell() -> None:
    lines = generate.catalogue_markdown().splitlines()
    tables = 0
    for number, line in enumerate(lines):
        if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            continue
        tables += 1
        header = cells(lines[number - 1])
        assert len(cells(line)) == len(header), f"line {number + 1}: {lines[number - 1]}"
        for row in itertools.takewhile(lambda r: r.startswith("|"), lines[number + 1 :]):
            assert len(cells(row)) == len(header), f"{row} under {lines[number - 1]}"
    assert tables == 1 + len(generate.EVENT_MODELS)


def resolved(node: Any, definitions: dict[str, Any], prefix: str) -> Any:
    """The schema with every `{"$ref": prefix + name}` replaced by that definition."""
    if isinstance(node, dict):
        if set(node) == {"$ref"} and node["$ref"].startswith(prefix):
            return resolved(definitions[node["$ref"].removeprefix(prefix)], definitions, prefix)
        return {k: resolved(v, definitions, prefix) for k, v in node.items()}
    if isinstance(node, list):
        return [resolved(v, definitions, prefix) for v in node]
    return node


def standalone(schema: dict[str, Any]) -> Any:
    body = {k: v for k, v in schema.items() if k not in ("$id", "$schema", "$defs")}
    return resolved(body, schema.get("$defs", {}), "#/$defs/")


def embedded(document: dict[str, Any], message_id: str) -> Any:
    payload = document["components"]["messages"][message_id]["payload"]
    assert payload["schemaFormat"] == "application/schema+json;version=draft-2020-12"
    schemas = document["components"]["schemas"]
    return resolved(payload["schema"], schemas, "#/components/schemas/")


def test_asyncapi_payloads_say_what_the_standalone_schemas_say() -> None:
    document = generate.asyncapi()
    messages = document["components"]["messages"]
    assert len(messages) == len(EVENT_MODELS)
    for message_id, message in messages.items():
        model = EVENT_MODELS[message["name"]]
        assert embedded(document, message_id) == standalone(generate.schema_of(model))


# Two different models that JSON Schema both names `Window`.
Window = create_model("Window", starts_on=(str, ...))
OtherWindow = create_model("Window", opens_at=(int, ...))


def test_two_payloads_with_different_definitions_of_one_name_keep_both() -> None:
    class First(EventModel):
        event_type: ClassVar[str] = "org.aptt.data.first.made.v1"
        topic: ClassVar[str] = "aptt.data.first.v1"
        windows: tuple[Window, ...]

    class Second(EventModel):
        event_type: ClassVar[str] = "org.aptt.data.second.made.v1"
        topic: ClassVar[str] = "aptt.data.second.v1"
        windows: tuple[OtherWindow, ...]

    document: dict[str, Any] = {"components": {"messages": {}, "schemas": {}}}
    for model in (First, Second):
        payload = generate._payload(
            model, owner=model.__name__, components=document["components"]["schemas"]
        )
        document["components"]["messages"][model.__name__] = {"payload": payload}
    assert set(document["components"]["schemas"]) == {"Window", "Second_Window"}
    for model in (First, Second):
        assert embedded(document, model.__name__) == standalone(generate.schema_of(model))
