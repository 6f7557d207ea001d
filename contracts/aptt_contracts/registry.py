"""Every event type the platform publishes, by its CloudEvents type."""

from __future__ import annotations

import inspect

from aptt_contracts import data, goals, notify, scheduling
from aptt_contracts.envelope import EventModel


def _models() -> dict[str, type[EventModel]]:
    found: dict[str, type[EventModel]] = {}
    for module in (data, scheduling, goals, notify):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, EventModel)
                and cls is not EventModel
                and cls.__module__ == module.__name__
            ):
                found[cls.event_type] = cls
    return dict(sorted(found.items()))


EVENT_MODELS: dict[str, type[EventModel]] = _models()
