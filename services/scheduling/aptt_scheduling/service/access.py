"""Who may reach a classroom or a team meeting, decided on the roster read model.

Everything is looked up in the token's district only, so another district's ids are simply
not found. Within the district the platform's one rule answers (`out_of_reach`): staff
without a link get 403, a guardian 404, so ids of other families' records do not leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from aptt_platform.auth import Principal
from aptt_platform.deps import out_of_reach
from aptt_platform.errors import NotFound
from aptt_platform.mongo import UnitOfWork

from aptt_scheduling.domain.meetings import TeamMeeting
from aptt_scheduling.domain.roster import (
    ClassList,
    class_list,
    guardian_students,
    manages_classroom,
)
from aptt_scheduling.store import meetings as meeting_store
from aptt_scheduling.store import roster


async def load_class(uow: UnitOfWork, district_id: str, classroom_id: str) -> ClassList:
    classroom = await roster.get_classroom(uow, district_id, classroom_id)
    if classroom is None:
        raise NotFound("no such classroom", code="unknown-classroom")
    students = await roster.current_students(uow, district_id, sorted(classroom.student_ids))
    return class_list(classroom, students)


@dataclass(frozen=True)
class Access:
    """A classroom as the caller may see it: all of it, or only their own children."""

    classes: ClassList
    manages: bool
    own_students: frozenset[str]


async def classroom_access(
    uow: UnitOfWork,
    principal: Principal,
    classroom_id: str,
    *,
    manage: bool,
    what: str = "classroom",
) -> Access:
    """The caller's access to a classroom; `manage` demands staff who run its meetings."""
    classes = await load_class(uow, principal.district_id, classroom_id)
    manages = manages_classroom(principal, classes.classroom)
    own = guardian_students(principal, classes)
    if manages or (own and not manage):
        return Access(classes=classes, manages=manages, own_students=own)
    raise out_of_reach(principal, what)


async def meeting_access(
    uow: UnitOfWork, principal: Principal, meeting_id: str, *, manage: bool
) -> tuple[TeamMeeting, Access]:
    meeting = await meeting_store.get_meeting(uow, principal.district_id, meeting_id)
    if meeting is None:
        raise NotFound("no such team meeting", code="unknown-meeting")
    access = await classroom_access(
        uow, principal, meeting.classroom_id, manage=manage, what="team meeting"
    )
    return meeting, access
