"""CloudEvents in Kafka binary mode, through the cloudevents SDK's Kafka binding.

An outbox record holds the event already encoded (headers and value), so a relay that
publishes it twice publishes the same `ce_id` twice and consumers can drop the copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aptt_contracts.envelope import CONTENT_TYPE, SPECVERSION, EventModel
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

TRACEPARENT = "traceparent"
_FORMAT = JSONFormat()


def encode(
    event: EventModel,
    *,
    traceparent: str,
    event_id: str | None = None,
    time: datetime | None = None,
) -> tuple[dict[str, str], str, bytes]:
    """Return (headers, key, value) of the Kafka record for an event.

    `ce_time` is the read models' version of the aggregate: events of one transaction get
    distinct, increasing times (`time`), so the later of two is never taken for a copy.
    """
    cloud_event = CloudEvent(
        attributes={
            "specversion": SPECVERSION,
            "id": event_id or str(uuid.uuid4()),
            "source": event.source(),
            "type": event.event_type,
            "time": time or datetime.now(UTC),
            "subject": event.subject,
            "dataschema": event.dataschema(),
            "datacontenttype": CONTENT_TYPE,
            "district": event.district_id,
        },
        data=event.model_dump(mode="json"),
    )
    message = ce_kafka.to_binary(cloud_event, _FORMAT, key_mapper=lambda _: event.key)
    headers = {name: value.decode() for name, value in message.headers.items()}
    headers[TRACEPARENT] = traceparent
    return headers, event.key, message.value


class UnparseableRecord(Exception):
    """A record that is not a CloudEvent we know how to read: it goes straight to dead letters."""


@dataclass(frozen=True)
class ReceivedEvent:
    id: str
    type: str
    source: str
    subject: str | None
    district_id: str
    time: datetime | None
    data: EventModel
    traceparent: str | None
    topic: str
    partition: int
    offset: int


def header_dict(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, bytes]:
    return {name: value for name, value in (headers or ())}


def decode(
    *,
    headers: Mapping[str, bytes],
    key: bytes | None,
    value: bytes | None,
    topic: str,
    partition: int,
    offset: int,
    models: Mapping[str, type[EventModel]],
) -> ReceivedEvent:
    ce_headers = {k: v for k, v in headers.items() if k.startswith("ce_") or k == "content-type"}
    if "ce_type" not in ce_headers:
        raise UnparseableRecord("not a CloudEvent in binary mode: no ce_type header")
    try:
        cloud_event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=ce_headers, key=key, value=value or b""), _FORMAT
        )
    except Exception as exc:
        raise UnparseableRecord(f"bad CloudEvent: {type(exc).__name__}: {exc}") from exc
    event_type = cloud_event.get_type()
    model = models.get(event_type)
    if model is None:
        raise UnparseableRecord(f"unknown event type {event_type}")
    payload = cloud_event.get_data()
    if not isinstance(payload, dict):
        raise UnparseableRecord("payload is not a JSON object")
    try:
        data = _read_leniently(model, payload)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "payload" for e in exc.errors())
        raise UnparseableRecord(f"payload does not match {event_type}: {fields}") from exc
    district = cloud_event.get_extension("district")
    if not district or district != data.district_id:
        raise UnparseableRecord("ce_district header missing or different from the payload")
    traceparent = headers.get(TRACEPARENT)
    return ReceivedEvent(
        id=cloud_event.get_id(),
        type=event_type,
        source=cloud_event.get_source(),
        subject=cloud_event.get_subject(),
        district_id=str(district),
        time=cloud_event.get_time(),
        data=data,
        traceparent=traceparent.decode() if traceparent else None,
        topic=topic,
        partition=partition,
        offset=offset,
    )


def _read_leniently(model: type[EventModel], payload: dict[str, Any]) -> EventModel:
    """Consumers ignore fields they do not know: producers may add optional fields to a vN."""
    known = {k: v for k, v in payload.items() if k in model.model_fields}
    return model.model_validate(known)
