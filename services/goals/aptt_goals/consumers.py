"""What the goals service consumes: event type -> handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aptt_contracts.data import (
    AssessmentResultRecorded,
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_contracts.scheduling import AttendanceRecorded
from aptt_platform.consumer import Handler
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_goals import service

E = TypeVar("E", bound=EventModel)


def handle(model: type[E], use_case: Callable[[UnitOfWork, E], Awaitable[None]]) -> Handler:
    """A platform handler that hands the use case its payload, typed."""

    async def handler(uow: UnitOfWork, event: ReceivedEvent) -> None:
        if not isinstance(event.data, model):
            raise TypeError(
                f"{event.type} carries {type(event.data).__name__}, not {model.__name__}"
            )
        await use_case(uow, event.data)

    return handler


HANDLERS: dict[str, Handler] = {
    StudentUpserted.event_type: handle(StudentUpserted, service.record_student),
    StudentRemoved.event_type: handle(StudentRemoved, service.remove_student),
    ClassroomUpserted.event_type: handle(ClassroomUpserted, service.record_classroom),
    ClassroomRemoved.event_type: handle(ClassroomRemoved, service.remove_classroom),
    SchoolUpserted.event_type: handle(SchoolUpserted, service.record_school),
    SkillDefined.event_type: handle(SkillDefined, service.record_skill),
    AssessmentResultRecorded.event_type: handle(AssessmentResultRecorded, service.record_result),
    AttendanceRecorded.event_type: handle(AttendanceRecorded, service.record_attendance),
}
