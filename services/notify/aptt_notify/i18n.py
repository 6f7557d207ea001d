"""Message texts from the gettext catalogues, with dates, times and numbers worded by Babel.

The catalogues are `.po` files in the package (`locales/<lang>/LC_MESSAGES/notify.po`), read
through the platform's `Catalogues` (one gettext mechanism for every service). Message ids
are keys (`<template>.<part>`) so one template's parts stay together for translators. The
platform's ten languages are complete; any other language gets English text and English
formats, with one line above it, in the family's own language when we can, saying so; a
regional tag (`es-MX`) reads its language's catalogue with its own formats
(docs/decisions/0502, 0006). Arabic email bodies are marked right to left.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aptt_platform.i18n import (
    LANGUAGES,
    Catalogues,
    direction,
    fallback_notice,
    format_number,
    missing_language_notice,
    one_point,
    primary_language,
)
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time

from aptt_notify.domain.model import Template

SUPPORTED_LANGUAGES: tuple[str, ...] = LANGUAGES
CATALOGUES = Catalogues(Path(__file__).resolve().parent / "locales", "notify", SUPPORTED_LANGUAGES)
FALLBACK_LANGUAGE = CATALOGUES.fallback

# Babel puts narrow and non-breaking spaces in times ("6:00\u202fPM"); one of them would
# turn a whole English text into UCS-2 and double its segments.
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})


def plain_spaces(text: str) -> str:
    return text.translate(_SPACES)


def text_language(tag: str | None) -> str:
    """The catalogue language for a BCP 47 tag: es-MX -> es, vi -> en."""
    return CATALOGUES.language_for(tag)


def lookup(language: str, key: str) -> str:
    if not CATALOGUES.has(key):
        raise KeyError(key)  # a template without its text is a bug, not a message to send
    return CATALOGUES.gettext(key, language)


@dataclass(frozen=True)
class Rendered:
    language: str
    short: str  # the SMS and in-app text
    subject: str
    text: str  # the email's plain-text part
    html: str
    notice: str = ""  # "we have no messages in your language yet", when the family's is missing
    # A calendar invitation's title and place, in the message's language (countdown events).
    summary: str = ""
    location: str = ""


@dataclass(frozen=True)
class SkillWords:
    """A skill's name by language; built-in skills have friendlier words in the catalogue."""

    code: str
    names: Mapping[str, str]
    units: Mapping[str, str]


def _skill_fields(skill: SkillWords | None, language: str) -> dict[str, str]:
    if skill is None:
        return {"skill": lookup(language, "skill.unknown.name"), "unit": ""}
    name_key, unit_key = f"skill.{skill.code}.name", f"skill.{skill.code}.unit"
    name = (CATALOGUES.has(name_key) and CATALOGUES.gettext(name_key, language)) or (
        skill.names.get(language)
    )
    unit = (CATALOGUES.has(unit_key) and CATALOGUES.gettext(unit_key, language)) or (
        skill.units.get(language)
    )
    return {
        "skill": name or skill.names.get(FALLBACK_LANGUAGE) or skill.code,
        "unit": unit or skill.units.get(FALLBACK_LANGUAGE) or "",
    }


def _number(value: Any, locale: Locale) -> str:
    return format_number(float(value), "#,##0.#", locale)


def _fields(
    params: Mapping[str, Any], locale: Locale, zone: ZoneInfo, language: str
) -> dict[str, str]:
    fields: dict[str, str] = {}
    for prefix in ("", "previous_"):
        moment = params.get(f"{prefix}starts_at")
        if isinstance(moment, datetime):
            fields[f"{prefix}date"] = format_skeleton("MMMEd", moment, tzinfo=zone, locale=locale)
            fields[f"{prefix}long_date"] = format_date(
                moment.astimezone(zone).date(), "full", locale=locale
            )
            fields[f"{prefix}time"] = format_time(moment, "short", tzinfo=zone, locale=locale)
    ends_on = params.get("ends_on")
    if isinstance(ends_on, date):
        fields["end_date"] = format_skeleton("MMMd", ends_on, locale=locale)
    for name in ("score", "target", "baseline"):
        if params.get(name) is not None:
            fields[name] = _number(params[name], locale)
    for name in ("number", "minutes", "percent"):
        if params.get(name) is not None:
            fields[name] = str(params[name])
    if params.get("child"):
        fields["child"] = " ".join(str(params["child"]).split())
    location = " ".join(str(params.get("location") or "").split())
    fields["where"] = lookup(language, "meeting.where.short").format(location=location)
    fields["where_line"] = lookup(language, "meeting.where.line").format(location=location)
    if not location:
        fields["where"] = fields["where_line"] = ""
    return {k: plain_spaces(v) for k, v in fields.items()}


def variant_of(template: Template, params: Mapping[str, Any]) -> str:
    """Some templates have wordings for different facts, e.g. a goal closed met or not."""
    if template is Template.GOAL_CLOSED:
        return f"{template}.{'met' if params.get('outcome') == 'met' else 'not-met'}"
    if template is Template.PRIVATE_NUMBER and not isinstance(params.get("starts_at"), datetime):
        return f"{template}.no-date"
    if template is Template.PERSONAL_NOTE and params.get("text") is not None:
        return f"{template}.free"
    return str(template)


def _text(language: str, base: str, part: str, params: Mapping[str, Any]) -> str:
    """Our text, or the district's own for this language where it wrote one (a countdown
    step's `texts`: language -> part -> text)."""
    for name in ("texts", "own_texts"):
        own = params.get(name)
        if isinstance(own, Mapping):
            chosen = (own.get(language) or {}).get(part)
            if isinstance(chosen, str) and chosen:
                return chosen
    return lookup(language, f"{base}.{part}")


def render(
    template: Template,
    tag: str | None,
    params: Mapping[str, Any],
    *,
    zone: ZoneInfo,
    given_name: str | None = None,
    skill: SkillWords | None = None,
) -> Rendered:
    """Every text of one message in the guardian's language (English when not offered)."""
    language = text_language(tag)
    own = params.get("own_texts")
    if isinstance(own, Mapping) and language not in own:
        language = FALLBACK_LANGUAGE  # the district did not write the family's language
    locale = CATALOGUES.formatting_locale(tag, language)
    fields = _fields(params, locale, zone, language) | _skill_fields(skill, language)
    fields |= _written_fields(params, locale, language)
    fields |= _conference_fields(params, locale, zone, language)
    fields |= _own_step_fields(params, locale, language)
    base = variant_of(template, params)
    short = one_point(_text(language, base, "sms", params).format_map(fields))
    if template.is_reply:
        return Rendered(language, short, "", "", "")
    found = (
        missing_language_notice(tag, set(own))
        if isinstance(own, Mapping)
        else fallback_notice(tag, CATALOGUES)
    )
    notice, notice_language = found or ("", language)
    if notice:
        short = f"{notice}\n{short}"
    subject = one_point(_text(language, base, "subject", params).format_map(fields))
    greeting = (
        lookup(language, "email.greeting").format(name=given_name)
        if given_name
        else lookup(language, "email.greeting.no-name")
    )
    body = one_point(_text(language, base, "body", params).format_map(fields))
    text = f"{greeting}\n\n{body}\n\n{lookup(language, 'email.footer')}\n"
    page = to_html(text, subject, language, notice=notice, notice_language=notice_language)
    if notice:
        text = f"{notice}\n\n{text}"
    summary, location = fields.get("title", ""), fields.get("place", "")
    return Rendered(language, short, subject, text, page, notice, summary, location)


def _paragraph(text: str) -> str:
    return "<p>" + html.escape(text).replace("\n", "<br>\n") + "</p>"


def to_html(
    text: str, subject: str, language: str, *, notice: str = "", notice_language: str = ""
) -> str:
    """The email's HTML part, marked with its language and writing direction (`dir="rtl"`
    for Arabic, so mail clients lay it out right to left)."""
    paragraphs = [_paragraph(p) for p in text.strip().split("\n\n") if p]
    if notice:
        own = html.escape(notice_language)
        paragraphs.insert(
            0, f'<p lang="{own}" dir="{direction(notice_language)}">{html.escape(notice)}</p>'
        )
    body = "\n".join(paragraphs)
    lang, dir_ = html.escape(language), direction(language)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{dir_}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(subject)}</title>\n</head>\n"
        '<body style="font-family: sans-serif; font-size: 16px; line-height: 1.5">\n'
        f"{body}\n</body>\n</html>\n"
    )


def all_keys() -> set[str]:
    return set(CATALOGUES.texts[FALLBACK_LANGUAGE])


# Personal notes, replies from the inbox and survey questions (docs/decisions/0510, 0514).


def _written_fields(params: Mapping[str, Any], locale: Locale, language: str) -> dict[str, str]:
    """A built sentence from its phrase ids, or free text as written with the line saying
    which language the teacher wrote it in (left out when that is the family's language)."""
    fields = dict.fromkeys(("sentence", "text", "written_in", "question", "total"), "")
    phrases = params.get("phrases")
    if isinstance(phrases, Mapping):
        fields["sentence"] = " ".join(lookup(language, f"phrase.{p}") for p in phrases.values())
    text = params.get("text")
    if isinstance(text, str):
        fields["text"] = text
        written_in = str(params.get("written_in") or "")
        if written_in and primary_language(written_in) != primary_language(str(locale)):
            name = _language_name(written_in, locale)
            fields["written_in"] = "\n" + lookup(language, "note.written-in").format(language=name)
    questions = params.get("question_texts")
    if isinstance(questions, Mapping):
        fields["question"] = str(questions.get(language) or questions.get(FALLBACK_LANGUAGE, ""))
        fields["total"] = str(params.get("total", ""))
    return {k: plain_spaces(v) for k, v in fields.items()}


def _language_name(tag: str, locale: Locale) -> str:
    try:
        return Locale.parse(tag.replace("-", "_")).get_language_name(locale) or tag
    except (ValueError, TypeError, UnknownLocaleError):
        return tag


# One-to-one conferences (docs/decisions/0530).

CONFERENCE_REASONS = frozenset(
    {
        "teacher_unavailable",
        "illness",
        "school_closure",
        "schedule_change",
        "family_request",
        "other",
    }
)


def _conference_fields(
    params: Mapping[str, Any], locale: Locale, zone: ZoneInfo, language: str
) -> dict[str, str]:
    """The sign-up's link and close date, a hold's end, and the lines that say the child
    leads, which interpreter is booked and why a teacher cancelled (a code, in our words)."""
    fields = dict.fromkeys(
        ("link", "close_date", "hold_time", "led_line", "interpreter_line", "reason_line"), ""
    )
    fields["link"] = str(params.get("link") or "")
    closes_at = params.get("closes_at")
    if isinstance(closes_at, datetime):
        fields["close_date"] = format_skeleton("MMMEd", closes_at, tzinfo=zone, locale=locale)
    hold = params.get("hold_expires_at")
    if isinstance(hold, datetime):
        fields["hold_time"] = format_time(hold, "short", tzinfo=zone, locale=locale)
    if params.get("student_led"):
        fields["led_line"] = " " + lookup(language, "conference.student-led")
    interpreter = params.get("interpreter_language")
    if isinstance(interpreter, str) and interpreter:
        name = _language_name(interpreter, locale)
        fields["interpreter_line"] = " " + lookup(language, "conference.interpreter").format(
            language=name
        )
    reason = params.get("reason_code")
    if isinstance(reason, str) and reason in CONFERENCE_REASONS:
        fields["reason_line"] = " " + lookup(language, f"conference.reason.{reason}")
    return {k: plain_spaces(v) for k, v in fields.items()}


# A district's own kindergarten events (docs/decisions/0520).


def _own_step_fields(params: Mapping[str, Any], locale: Locale, language: str) -> dict[str, str]:
    """An event's title, place and details in the district's words for this language, and
    its day and hours worded for the family's locale on the clock of the event's zone."""
    fields = dict.fromkeys(
        ("title", "place", "details", "event_date", "event_long_date", "start_time", "end_time"),
        "",
    )
    own = params.get("own_texts")
    written = own.get(language) if isinstance(own, Mapping) else None
    if isinstance(written, Mapping):
        for name in ("title", "place"):
            fields[name] = " ".join(str(written.get(name) or "").split())
        details = str(written.get("details") or "").strip()
        fields["details"] = f"\n\n{details}" if details else ""
    starts, ends = params.get("event_starts_at"), params.get("event_ends_at")
    if isinstance(starts, datetime) and isinstance(ends, datetime):
        zone = ZoneInfo(str(params.get("event_zone") or "UTC"))
        fields["event_date"] = format_skeleton("MMMEd", starts, tzinfo=zone, locale=locale)
        fields["event_long_date"] = format_date(
            starts.astimezone(zone).date(), "full", locale=locale
        )
        fields["start_time"] = format_time(starts, "short", tzinfo=zone, locale=locale)
        fields["end_time"] = format_time(ends, "short", tzinfo=zone, locale=locale)
    return {k: plain_spaces(v) for k, v in fields.items()}
