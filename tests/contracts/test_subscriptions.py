"""The catalogue's consumer lists are what each service's handler table really reads.

The lists decide which topics a service subscribes to and which Kafka ACLs it gets, so a
service that reads a topic it handles nothing of would hold access it does not need.
"""

from __future__ import annotations

import pytest
from aptt_contracts.catalogue import EVENT_TOPICS
from aptt_contracts.registry import EVENT_MODELS
from aptt_data import consumers as data_consumers
from aptt_goals import consumers as goals_consumers
from aptt_notify import consumers as notify_consumers
from aptt_platform.consumer import Handler, adapt
from aptt_scheduling import consumers as scheduling_consumers


def handler_tables() -> dict[str, dict[str, Handler]]:
    return {
        "data": adapt(data_consumers.HANDLERS),
        "scheduling": adapt(scheduling_consumers.HANDLERS),
        "goals": adapt(goals_consumers.HANDLERS),
        "notify": adapt(notify_consumers.HANDLERS),
    }


# Streams planned for conferences and home visits have no event types yet.
PLANNED = {t.name for t in EVENT_TOPICS} - {m.topic for m in EVENT_MODELS.values()}


@pytest.mark.parametrize("service", ["data", "scheduling", "goals", "notify"])
def test_each_service_reads_exactly_the_topics_it_handles(service: str) -> None:
    handled = {EVENT_MODELS[event_type].topic for event_type in handler_tables()[service]}
    declared = {t.name for t in EVENT_TOPICS if service in t.consumers} - PLANNED
    assert handled == declared
