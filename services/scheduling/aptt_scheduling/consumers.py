"""What the scheduling service consumes: event type -> handler.

The roster (`aptt.data.roster.v1`) feeds the read model that says who teaches which
classroom and which guardians belong to which student; class reports tell a teacher that a
meeting's chart is ready; district skills widen the focus skills a meeting may have.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aptt_contracts.data import (
    ClassReportPublished,
    ClassroomRemoved,
    ClassroomUpserted,
    SchoolUpserted,
    SkillDefined,
    StudentRemoved,
    StudentUpserted,
)
from aptt_contracts.envelope import EventModel
from aptt_platform.consumer import Handler
from aptt_platform.events import ReceivedEvent
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.service import roster

E = TypeVar("E", bound=EventModel)


def _typed(
    model: type[E], handle: Callable[[UnitOfWork, ReceivedEvent, E], Awaitable[None]]
) -> Handler:
    async def handler(uow: UnitOfWork, event: ReceivedEvent) -> None:
        if not isinstance(event.data, model):
            raise TypeError(f"expected {model.__name__}, got {type(event.data).__name__}")
        await handle(uow, event, event.data)

    return handler


def build_handlers(*, default_timezone: str) -> dict[str, Handler]:
    async def classroom_upserted(
        uow: UnitOfWork, event: ReceivedEvent, data: ClassroomUpserted
    ) -> None:
        await roster.classroom_upserted(uow, event, data, default_timezone=default_timezone)

    return {
        SchoolUpserted.event_type: _typed(SchoolUpserted, roster.school_upserted),
        ClassroomUpserted.event_type: _typed(ClassroomUpserted, classroom_upserted),
        ClassroomRemoved.event_type: _typed(ClassroomRemoved, roster.classroom_removed),
        StudentUpserted.event_type: _typed(StudentUpserted, roster.student_upserted),
        StudentRemoved.event_type: _typed(StudentRemoved, roster.student_removed),
        # Consumed once the catalogue lets scheduling read aptt.data.skills.v1 (decision 0303).
        SkillDefined.event_type: _typed(SkillDefined, roster.skill_defined),
        ClassReportPublished.event_type: _typed(
            ClassReportPublished, roster.class_report_published
        ),
    }
