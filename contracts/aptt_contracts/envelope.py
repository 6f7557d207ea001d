"""Envelope rules: how an event type, its source, schema and key are named.

An event's payload is a frozen pydantic model; the CloudEvents attributes around it are
derived from the class, so a producer cannot get them wrong.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from aptt_contracts.bounds import Id

TYPE_PATTERN = re.compile(
    r"^org\.aptt\.(?P<service>[a-z]+)\.(?P<entity>[a-z][a-z-]*)\.(?P<verb>[a-z][a-z-]*)\.v(?P<version>[1-9][0-9]*)$"
)
TOPIC_PATTERN = re.compile(r"^aptt\.[a-z]+\.[a-z][a-z-]*\.v[1-9][0-9]*$")
SCHEMA_BASE = "https://schemas.aptt.org/events"
SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"


class EventModel(BaseModel):
    """Base of every event payload. Subclasses set `event_type` and `topic`."""

    # Producers are strict: an unknown field is a bug on our side, not data to pass on.
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    topic: ClassVar[str]
    # The payload field whose value is the aggregate id (ce_subject and the key's second half).
    subject_field: ClassVar[str]

    district_id: Id

    @classmethod
    def service(cls) -> str:
        match = TYPE_PATTERN.match(cls.event_type)
        if match is None:
            raise ValueError(f"bad event type {cls.event_type!r}")
        return match["service"]

    @classmethod
    def version(cls) -> int:
        match = TYPE_PATTERN.match(cls.event_type)
        if match is None:
            raise ValueError(f"bad event type {cls.event_type!r}")
        return int(match["version"])

    @classmethod
    def source(cls) -> str:
        return source_of(cls.service())

    @classmethod
    def dataschema(cls) -> str:
        return dataschema_of(cls.event_type)

    @property
    def subject(self) -> str:
        return str(getattr(self, self.subject_field))

    @property
    def key(self) -> str:
        return partition_key(self.district_id, self.subject)


def source_of(service: str) -> str:
    return f"/aptt/{service}"


def dataschema_of(event_type: str) -> str:
    return f"{SCHEMA_BASE}/{event_type}.json"


def partition_key(district_id: str, aggregate_id: str) -> str:
    """One aggregate's events share a key, so they stay in order on one partition."""
    return f"{district_id}:{aggregate_id}"
