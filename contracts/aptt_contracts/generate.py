"""Generate the committed JSON Schemas, their published history, and the AsyncAPI document.

    python -m aptt_contracts.generate          write schemas/, history/ and asyncapi.yaml
    python -m aptt_contracts.generate --check  fail when the committed files differ

A schema whose content changed is appended to history/<type>/NNNN.json, but only if it is
compatible with every earlier revision of that type; otherwise the command refuses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from aptt_contracts.catalogue import DAY_MS, EVENT_TOPICS, TOPICS, Topic
from aptt_contracts.compat import breaking_changes
from aptt_contracts.envelope import CONTENT_TYPE, TYPE_PATTERN, EventModel
from aptt_contracts.registry import EVENT_MODELS

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
HISTORY = ROOT / "history"
ASYNCAPI = ROOT / "asyncapi.yaml"
CATALOGUE_DOC = ROOT.parent / "docs" / "event-catalogue.md"
# AsyncAPI names a JSON Schema dialect `application/schema+json;version=<draft>`; its list
# stops at draft-07, pydantic writes 2020-12 (docs/decisions/0014).
PAYLOAD_SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"


def schema_of(model: type[EventModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": model.dataschema(),
        "x-aptt-type": model.event_type,
        "x-aptt-topic": model.topic,
        **schema,
    }


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def history_of(event_type: str) -> list[dict[str, Any]]:
    folder = HISTORY / event_type
    return (
        [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
        if folder.exists()
        else []
    )


def ce_headers_schema() -> dict[str, Any]:
    def string(description: str) -> dict[str, Any]:
        return {"type": "string", "description": description}

    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_district"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": string("Unique event id; consumers deduplicate on it"),
            "ce_source": string("/aptt/<service>"),
            "ce_type": string("org.aptt.<service>.<entity>.<verb>.v<N>"),
            "ce_time": string("RFC 3339 time the event was recorded"),
            "ce_subject": string("Id of the aggregate the event is about"),
            "ce_dataschema": string("URL of the payload's JSON Schema"),
            "ce_district": string("Tenant: the district the event belongs to"),
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "traceparent": string("W3C trace context"),
        },
    }


def _payload(model: type[EventModel], *, owner: str, components: dict[str, Any]) -> dict[str, Any]:
    """A message's payload: its schema, with the `$defs` moved into `components`.

    A `#/$defs/X` inside a message payload resolves against the AsyncAPI document's root, where
    there is no `$defs`, so the refs point at `components` instead. A definition two payloads
    share keeps its name; two different ones of the same name get the owner's prefix. `$id`
    goes: it would make JSON Schema tools resolve those refs against the schema's own URL
    (the standalone schema in schemas/ keeps it), and `schemaFormat` names the dialect.
    """
    payload = {k: v for k, v in schema_of(model).items() if k not in ("$id", "$schema")}
    definitions: dict[str, Any] = payload.pop("$defs", {})
    shared = {f"#/$defs/{name}": f"#/components/schemas/{name}" for name in definitions}
    targets: dict[str, str] = {}
    for name, definition in definitions.items():
        same = _rewrite_refs(definition, shared)
        targets[name] = name if components.get(name, same) == same else f"{owner}_{name}"
    renamed = {f"#/$defs/{n}": f"#/components/schemas/{t}" for n, t in targets.items()}
    for name, target in targets.items():
        components[target] = _rewrite_refs(definitions[name], renamed)
    return {
        "schemaFormat": PAYLOAD_SCHEMA_FORMAT,
        "schema": _rewrite_refs(payload, renamed),
    }


def _rewrite_refs(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: renamed.get(v, v) if k == "$ref" else _rewrite_refs(v, renamed)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, renamed) for v in node]
    return node


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventHeaders": ce_headers_schema()}
    for topic in TOPICS:
        channel_id = topic.name.replace(".", "_").replace("-", "_")
        topic_messages = {}
        for event_type, model in EVENT_MODELS.items():
            if model.topic != topic.name:
                continue
            message_id = _message_id(event_type)
            messages[message_id] = {
                "name": event_type,
                "title": model.__name__,
                "summary": (model.__doc__ or model.__name__).strip().splitlines()[0],
                "contentType": CONTENT_TYPE,
                "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
                "payload": _payload(model, owner=message_id, components=schemas),
                "bindings": {"kafka": {"key": {"type": "string", "description": topic.key}}},
            }
            topic_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel_id] = {
            "address": topic.name,
            "description": _describe(topic),
            "messages": topic_messages,
            "bindings": {
                "kafka": {
                    "topic": topic.name,
                    "partitions": topic.partitions,
                    "topicConfiguration": {
                        "cleanup.policy": [topic.cleanup_policy],
                        "retention.ms": topic.retention_ms,
                    },
                }
            },
        }
        if topic.kind == "events":
            operations[f"publish_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"The {topic.producer} service publishes",
            }
            for consumer in topic.consumers:
                operations[f"{consumer}_receives_{channel_id}"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{channel_id}"},
                    "summary": f"The {consumer} service consumes (group aptt-{consumer})",
                }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "APTT Platform events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode. See docs/events.md.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
        },
    }


def _message_id(event_type: str) -> str:
    match = TYPE_PATTERN.match(event_type)
    assert match is not None
    return f"{match['service']}_{match['entity']}_{match['verb']}_v{match['version']}".replace(
        "-", "_"
    )


def _describe(topic: Topic) -> str:
    restricted = (
        " RESTRICTED: personal data, readable only by the named consumers."
        if topic.restricted
        else ""
    )
    readers = ", ".join(topic.consumers) or "none inside the platform"
    return f"{topic.description} Producer: {topic.producer}. Consumers: {readers}.{restricted}"


def _field_type(info: Any) -> str:
    text = str(info.annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    text = text.replace("datetime.datetime", "datetime").replace("datetime.date", "date")
    return text.replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; the delimiter row is made from the header, so their cells agree."""

    def row(cells: list[str]) -> str:
        if len(cells) != len(header):
            raise ValueError(f"{cells} does not fit {header}")
        return "| " + " | ".join(cells) + " |"

    return [row(header), "|" + "---|" * len(header), *map(row, rows)]


def catalogue_markdown() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated by `make schemas` from `contracts/aptt_contracts`; do not edit by hand.",
        "Envelope and subscription rules: [events.md](events.md).",
        "",
        *_table(
            [
                "topic",
                "producer",
                "consumers",
                "partitions",
                "retention (days)",
                "cleanup",
                "restricted",
            ],
            [
                [
                    f"`{topic.name}`",
                    topic.producer,
                    ", ".join(topic.consumers) or "-",
                    str(topic.partitions),
                    str(topic.retention_ms // DAY_MS),
                    topic.cleanup_policy,
                    "yes" if topic.restricted else "no",
                ]
                for topic in TOPICS
            ],
        ),
    ]
    for topic in EVENT_TOPICS:
        lines += ["", f"## `{topic.name}`", "", _describe(topic), ""]
        for event_type, model in EVENT_MODELS.items():
            if model.topic != topic.name:
                continue
            doc = (model.__doc__ or "").strip().splitlines()
            lines += [f"### `{event_type}`", ""]
            if doc:
                lines += [doc[0], ""]
            lines += [
                f"Subject (`ce_subject`, key suffix): `{model.subject_field}`. "
                f"Schema: `contracts/schemas/{event_type}.json`.",
                "",
                *_table(
                    ["field", "type", "required", "description"],
                    [
                        [
                            f"`{name}`",
                            f"`{_field_type(info)}`",
                            "yes" if info.is_required() else "no",
                            (info.description or "").replace("|", "/"),
                        ]
                        for name, info in model.model_fields.items()
                    ],
                ),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def expected_files() -> dict[Path, str]:
    files = {SCHEMAS / f"{t}.json": dump_json(schema_of(m)) for t, m in EVENT_MODELS.items()}
    files[ASYNCAPI] = yaml.safe_dump(asyncapi(), sort_keys=False, allow_unicode=True, width=100)
    files[CATALOGUE_DOC] = catalogue_markdown()
    return files


def pending_history() -> tuple[dict[Path, str], list[str]]:
    """History files to add for changed schemas, and the breaking changes that forbid them."""
    additions: dict[Path, str] = {}
    problems: list[str] = []
    for event_type, model in EVENT_MODELS.items():
        current = schema_of(model)
        revisions = history_of(event_type)
        for number, old in enumerate(revisions, start=1):
            problems += [
                f"{event_type} (against revision {number}): {p}"
                for p in breaking_changes(old, current)
            ]
        if not revisions or revisions[-1] != current:
            additions[HISTORY / event_type / f"{len(revisions) + 1:04d}.json"] = dump_json(current)
    return additions, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail on drift instead of writing")
    args = parser.parse_args(argv)
    files = expected_files()
    history, problems = pending_history()
    if problems:
        print("Breaking changes to published events (add a vN+1 type instead):", file=sys.stderr)
        print("\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        return 1
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    known = {SCHEMAS / f"{t}.json" for t in EVENT_MODELS}
    orphans = [p for p in SCHEMAS.glob("*.json") if p not in known]
    if args.check:
        drift = [*stale, *history, *orphans]
        if drift:
            print("Generated contract files are out of date; run `make schemas`:", file=sys.stderr)
            print("\n".join(f"  - {p.relative_to(ROOT.parent)}" for p in drift), file=sys.stderr)
            return 1
        return 0
    for path, text in {**files, **history}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path in orphans:
        path.unlink()
    print(f"{len(files) - 2} schemas, {len(history)} new history revision(s), asyncapi, catalogue")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
