"""A service's handler table, and the platform handlers made from its rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aptt_contracts.envelope import EventModel

from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

Handler = Callable[[UnitOfWork, ReceivedEvent], Awaitable[None]]
E = TypeVar("E", bound=EventModel)
# What a service's consumers.py writes: `async def on_x(uow, event: X, meta: ReceivedEvent)`.
EventHandler = Callable[[UnitOfWork, E, ReceivedEvent], Awaitable[None]]
# A handler of a run of events of one type at once: `async def on_xs(uow, events)` with
# `events` a list of (payload, envelope) in partition order. For read models, whose
# per-event cost is two round trips: a run costs two (ReadModel.apply_many).
ManyHandler = Callable[[UnitOfWork, list[tuple[E, ReceivedEvent]]], Awaitable[None]]


@dataclass(frozen=True)
class Batched(Generic[E]):
    """A ManyHandler in a handler table: `StudentUpserted: batched(roster.record_students)`."""

    handle: ManyHandler[E]


def batched(handle: ManyHandler[E]) -> Batched[E]:
    return Batched(handle)


# `HANDLERS: HandlerTable = {StudentUpserted: roster.record_student, ...}`
HandlerTable = Mapping[type[EventModel], EventHandler[Any] | Batched[Any]]


def _check(model: type[EventModel], event: ReceivedEvent) -> None:
    if not isinstance(event.data, model):
        raise TypeError(f"{event.type} carries {type(event.data).__name__}, not {model.__name__}")


def typed(model: type[E], handle: EventHandler[E]) -> Handler:
    """The platform's handler for one row of a service's table: hands it its payload, typed."""

    async def handler(uow: UnitOfWork, event: ReceivedEvent) -> None:
        _check(model, event)
        await handle(uow, event.data, event)  # type: ignore[arg-type]

    handler.__name__ = getattr(handle, "__name__", "handler")
    return handler


class RunHandler:
    """The platform's handler for a Batched row: one event, or a run of them at once."""

    def __init__(self, model: type[E], handle: ManyHandler[E]) -> None:
        self.model = model
        self.handle: ManyHandler[Any] = handle
        self.__name__ = getattr(handle, "__name__", "handler")

    async def __call__(self, uow: UnitOfWork, event: ReceivedEvent) -> None:
        await self.many(uow, [event])

    async def many(self, uow: UnitOfWork, events: Sequence[ReceivedEvent]) -> None:
        for event in events:
            _check(self.model, event)
        await self.handle(uow, [(event.data, event) for event in events])


def adapt(table: HandlerTable) -> dict[str, Handler]:
    """Event type -> platform handler, from a service's table of event model -> handler."""
    adapted: dict[str, Handler] = {}
    for model, handle in table.items():
        if isinstance(handle, Batched):
            adapted[model.event_type] = RunHandler(model, handle.handle)
        else:
            adapted[model.event_type] = typed(model, handle)
    return adapted


class AlreadyProcessed(Exception):
    pass


class DependencyDown(Exception):
    """The database or broker is unreachable: the record waits, it is not the record's fault."""
