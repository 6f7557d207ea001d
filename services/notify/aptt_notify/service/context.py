"""What a message needs to be worded and timed: its guardian, school, meeting and skill."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aptt_contracts.skills import BUILT_IN_SKILLS
from aptt_platform.mongo import Document, UnitOfWork

from aptt_notify import store
from aptt_notify.domain.model import CHANNELS, Contact, Preferences, Template, effective_language
from aptt_notify.domain.timing import QuietHours
from aptt_notify.i18n import Rendered, SkillWords, render
from aptt_notify.settings import Config

T = TypeVar("T")


@dataclass
class Shared:
    """What the messages of one dispatch group have in common (their classroom's guardians,
    meeting, school, skill), read once per transaction instead of once per message: a
    classroom of 400 would otherwise read its 400 students for each of its 400 messages."""

    found: dict[tuple[str, ...], Any] = field(default_factory=dict)

    async def get(self, key: tuple[str, ...], read: Callable[[], Awaitable[T]]) -> T:
        if key not in self.found:
            self.found[key] = await read()
        value: T = self.found[key]
        return value


def contact_of(guardian: Document | None) -> Contact | None:
    found = (guardian or {}).get("contact")
    if not found:
        return None
    return Contact(
        phone=found.get("phone"),
        email=found.get("email"),
        language=found.get("language"),
        given_name=found.get("given_name"),
    )


def preferences_of(guardian: Document | None) -> Preferences:
    chosen = (guardian or {}).get("preferences") or {}
    quiet = chosen.get("quiet_hours")
    channels = chosen.get("channels")
    return Preferences(
        language=chosen.get("language"),
        channels=tuple(c for c in CHANNELS if c in channels) if channels is not None else None,
        quiet_hours_set=bool(chosen.get("quiet_hours_set")),
        quiet_hours=QuietHours.parse(quiet["start"], quiet["end"]) if quiet else None,
    )


@dataclass
class MessageContext:
    guardian: Document | None
    contact: Contact | None
    preferences: Preferences
    school_id: str | None
    school: Document | None
    zone: ZoneInfo
    meeting: Document | None
    skill: SkillWords | None
    sms_opted_out: bool

    @property
    def language(self) -> str:
        school_language = (self.school or {}).get("language")
        return effective_language(self.preferences, self.contact, school_language)


async def skill_words(uow: UnitOfWork, district_id: str, code: str | None) -> SkillWords | None:
    if not code:
        return None
    own = await store.roster.skills.get(uow, district_id, code)
    if own is not None:
        return SkillWords(code, own.get("names", {}), own.get("units", {}))
    built_in = BUILT_IN_SKILLS.get(code)
    if built_in is not None:
        return SkillWords(code, built_in.name, built_in.unit)
    return SkillWords(code, {}, {})


async def load_context(
    uow: UnitOfWork, message: Document, shared: Shared | None = None
) -> MessageContext:
    shared = shared or Shared()
    district_id = message["district_id"]
    guardian = await store.roster.guardians.get(uow, district_id, message["recipient_id"])
    meeting = None
    if message.get("meeting_id"):
        meeting_id = message["meeting_id"]
        meeting = await shared.get(
            ("meeting", district_id, meeting_id),
            lambda: store.meetings.get_meeting(uow, district_id, meeting_id),
        )
    school_id = message.get("school_id") or (meeting or {}).get("school_id")
    if not school_id and message.get("student_id"):
        student = await store.roster.students.get(uow, district_id, message["student_id"])
        school_id = (student or {}).get("school_id")
    school = None
    if school_id:
        school = await shared.get(
            ("school", district_id, school_id),
            lambda: store.roster.schools.get(uow, district_id, school_id),
        )
    if school is not None and not school.get("timezone"):
        school = None  # only a placeholder a waiting message wrote (store.await_document)
    contact = contact_of(guardian)
    opted_out = bool(
        contact and contact.phone and await store.limits.opted_out_numbers(uow, [contact.phone])
    )
    code = message["params"].get("skill_code") or (meeting or {}).get("focus_skill_code")
    return MessageContext(
        guardian=guardian,
        contact=contact,
        preferences=preferences_of(guardian),
        school_id=school_id,
        school=school,
        zone=uow.config_as(Config).zone((school or {}).get("timezone")),
        meeting=meeting,
        skill=await shared.get(
            ("skill", district_id, code or ""), lambda: skill_words(uow, district_id, code)
        ),
        sms_opted_out=opted_out,
    )


def render_params(message: Document, meeting: Document | None) -> dict[str, Any]:
    """The message's own facts, with a meeting's time as it stands now (it may have moved)."""
    params: dict[str, Any] = dict(message["params"])
    if meeting is not None and meeting.get("starts_at") is not None:
        params.setdefault("starts_at", meeting["starts_at"])
        params["minutes"] = meeting.get("duration_minutes")
        params.setdefault("location", meeting.get("location"))
    if isinstance(params.get("ends_on"), str):
        params["ends_on"] = date.fromisoformat(params["ends_on"])
    return params


def render_message(
    message: Document, context: MessageContext, language: str | None = None
) -> Rendered:
    return render(
        Template(message["template"]),
        language or context.language,
        render_params(message, context.meeting),
        zone=context.zone,
        given_name=context.contact.given_name if context.contact else None,
        skill=context.skill,
    )
