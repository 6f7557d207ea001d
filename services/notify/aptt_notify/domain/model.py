"""What notify knows and decides: templates, preferences, channel choice, inbound keywords.

No I/O here; the store keeps these as documents and the service applies the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from aptt_notify.domain.timing import DEFAULT_QUIET_HOURS, QuietHours

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")


class Template(StrEnum):
    """Stable codes: the X-APTT-Template header, metrics and events carry them."""

    MEETING_INVITATION = "meeting-invitation"
    MEETING_REMINDER_7D = "meeting-reminder-7d"
    MEETING_REMINDER_1D = "meeting-reminder-1d"
    MEETING_REMINDER_2H = "meeting-reminder-2h"
    MEETING_RESCHEDULED = "meeting-rescheduled"
    MEETING_CANCELLED = "meeting-cancelled"
    PRIVATE_NUMBER = "private-number"
    GOAL_CONFIRMATION = "goal-confirmation"
    GOAL_PROGRESS = "goal-progress"
    GOAL_MET = "goal-met"
    GOAL_CLOSED = "goal-closed"
    SMS_STOPPED = "sms-stopped"
    SMS_STARTED = "sms-started"
    SMS_HELP = "sms-help"
    # Home visits (PTHV).
    VISIT_INVITATION = "visit-invitation"
    VISIT_PROPOSED = "visit-proposed"
    VISIT_CONFIRMED = "visit-confirmed"
    VISIT_REMINDER_1D = "visit-reminder-1d"
    VISIT_CANCELLED = "visit-cancelled"
    VISIT_MOVED = "visit-moved"
    VISIT_MOVE_ASKED = "visit-move-asked"
    # Countdown to kindergarten (docs/decisions/0520).
    COUNTDOWN_WELCOME = "countdown-welcome"
    COUNTDOWN_ENROLLMENT = "countdown-enrollment"
    COUNTDOWN_READINESS = "countdown-readiness"
    # A district's own countdown steps: a message, or an event with a calendar invitation.
    COUNTDOWN_STEP = "countdown-step"
    COUNTDOWN_EVENT = "countdown-event"
    COUNTDOWN_EVENT_CHANGED = "countdown-event-changed"
    COUNTDOWN_EVENT_CANCELLED = "countdown-event-cancelled"
    # Personal notes, replies from the inbox, surveys (docs/decisions/0510-0514).
    PERSONAL_NOTE = "personal-note"
    TEACHER_REPLY = "teacher-reply"
    SURVEY_QUESTION = "survey-question"
    SURVEY_COMMENT = "survey-comment"
    # One-to-one conferences (docs/decisions/0530).
    CONFERENCE_SIGNUP_OPEN = "conference-signup-open"
    CONFERENCE_CONFIRMED = "conference-confirmed"
    CONFERENCE_REMINDER_1D = "conference-reminder-1d"
    CONFERENCE_REMINDER_2H = "conference-reminder-2h"
    CONFERENCE_MOVED = "conference-moved"
    CONFERENCE_CANCELLED = "conference-cancelled"
    CONFERENCE_NUDGE = "conference-nudge"
    CONFERENCE_WAITLIST_OFFER = "conference-waitlist-offer"

    @property
    def is_reply(self) -> bool:
        """Answers to a text the person sent: never deferred, sent even when opted out."""
        return self.value.startswith("sms-")


REMINDER_TEMPLATES = {
    "7d": Template.MEETING_REMINDER_7D,
    "1d": Template.MEETING_REMINDER_1D,
    "2h": Template.MEETING_REMINDER_2H,
}


@dataclass(frozen=True)
class Contact:
    """A guardian's contact points, from the restricted contacts topic."""

    phone: str | None = None
    email: str | None = None
    language: str | None = None
    given_name: str | None = None


@dataclass(frozen=True)
class Preferences:
    """What the guardian chose in the app; None means "not chosen", so defaults apply."""

    language: str | None = None
    channels: tuple[Channel, ...] | None = None
    quiet_hours_set: bool = False
    quiet_hours: QuietHours | None = None

    def effective_quiet_hours(self) -> QuietHours | None:
        return self.quiet_hours if self.quiet_hours_set else DEFAULT_QUIET_HOURS


def effective_language(
    preferences: Preferences, contact: Contact | None, school_language: str | None
) -> str:
    return preferences.language or (contact and contact.language) or school_language or "en"


def default_channels(contact: Contact | None, *, sms_opted_out: bool) -> tuple[Channel, ...]:
    """SMS when a phone can take texts, else email. A phone that texted STOP is not one:
    STOP is about texts, not about hearing from the school, so email takes over."""
    if contact is None:
        return ()
    if contact.phone and not sms_opted_out:
        return ("sms",)
    if contact.email:
        return ("email",)
    return ("sms",) if contact.phone else ()


@dataclass(frozen=True)
class ChannelPlan:
    send: tuple[Channel, ...]
    # Channels the guardian would get but may not: opted out, or no address for it.
    suppressed: tuple[Channel, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def inbox_only(self) -> bool:
        return not self.send


def plan_channels(
    preferences: Preferences, contact: Contact | None, *, sms_opted_out: bool
) -> ChannelPlan:
    wanted = (
        preferences.channels
        if preferences.channels is not None
        else default_channels(contact, sms_opted_out=sms_opted_out)
    )
    send: list[Channel] = []
    suppressed: list[Channel] = []
    reasons: dict[str, str] = {}
    for channel in wanted:
        if channel == "sms":
            if not (contact and contact.phone):
                suppressed.append("sms")
                reasons["sms"] = "no-phone"
            elif sms_opted_out:
                suppressed.append("sms")
                reasons["sms"] = "opted-out"
            else:
                send.append("sms")
        elif contact and contact.email:
            send.append("email")
        else:
            suppressed.append("email")
            reasons["email"] = "no-email"
    return ChannelPlan(tuple(send), tuple(suppressed), reasons)


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


# Carrier and Twilio keyword lists (CTIA); matched on the whole message, any case.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def classify_inbound(body: str) -> Keyword | None:
    word = body.strip().strip(".!¡?¿ ").upper()
    if word in STOP_WORDS:
        return Keyword.STOP
    if word in START_WORDS:
        return Keyword.START
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


class MessageStatus(StrEnum):
    """A message to one guardian. `pending` waits for its time, contacts or school."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    SUPPRESSED = "suppressed"
    EXPIRED = "expired"
    DROPPED = "dropped"  # the meeting changed or was cancelled before it went out


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # the number texted STOP after the message was planned


def inbox_status(message_status: str, deliveries: Sequence[str]) -> str:
    """What the guardian sees: pending, sent, failed, suppressed or expired."""
    if message_status != MessageStatus.DISPATCHED:
        return message_status
    if not deliveries:
        return "sent"  # the app was the channel
    if any(status == DeliveryStatus.SENT for status in deliveries):
        return "sent"
    final = (DeliveryStatus.FAILED, DeliveryStatus.SUPPRESSED)
    if deliveries and all(status in final for status in deliveries):
        return "failed" if DeliveryStatus.FAILED in deliveries else "suppressed"
    return "pending"


@dataclass(frozen=True)
class Meeting:
    """What notify keeps of a team meeting to word and time its messages."""

    meeting_id: str
    classroom_id: str
    school_id: str
    starts_at: datetime
    duration_minutes: int
    focus_skill_code: str | None
    cancelled: bool = False
