"""Message texts from the gettext catalogues, with dates, times and numbers worded by Babel.

The catalogues are `.po` files in the package (`locales/<lang>/LC_MESSAGES/notify.po`), read
with Babel's `read_po` once per process: no compiled `.mo` files to keep in step. Message ids
are keys (`<template>.<part>`) so one template's parts stay together for translators; English
and Spanish are complete, any other language gets English (docs/decisions/0502).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from aptt_notify.domain.model import Template
from aptt_notify.domain.sms import plain_spaces

LOCALES = Path(__file__).resolve().parent.parent / "locales"
CATALOGUE_DOMAIN = "notify"
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es")
FALLBACK_LANGUAGE = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    """Message id -> text of one language's catalogue (fuzzy entries left out)."""
    path = LOCALES / language / "LC_MESSAGES" / f"{CATALOGUE_DOMAIN}.po"
    with path.open("rb") as po:
        entries = read_po(po, locale=language, domain=CATALOGUE_DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in entries
        if m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def text_language(tag: str | None) -> str:
    """The catalogue language for a BCP 47 tag: es-MX -> es, vi -> en."""
    primary = (tag or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE


def formatting_locale(tag: str | None, language: str) -> Locale:
    """Dates in the guardian's own variant (es-MX) when the text is in that language."""
    # Compare the tag's own language: a fallback (vi -> en texts) keeps English dates too.
    if tag and tag.replace("_", "-").split("-")[0].lower() == language:
        try:
            return Locale.parse(tag.replace("_", "-"), sep="-")
        except (ValueError, UnknownLocaleError):
            pass
    return Locale.parse(language)


def lookup(language: str, key: str) -> str:
    texts = catalogue(language)
    if key in texts:
        return texts[key]
    return catalogue(FALLBACK_LANGUAGE)[key]


@dataclass(frozen=True)
class Rendered:
    language: str
    short: str  # the SMS and in-app text
    subject: str
    text: str  # the email's plain-text part
    html: str


@dataclass(frozen=True)
class SkillWords:
    """A skill's name by language; built-in skills have friendlier words in the catalogue."""

    code: str
    names: Mapping[str, str]
    units: Mapping[str, str]


def _skill_fields(skill: SkillWords | None, language: str) -> dict[str, str]:
    if skill is None:
        return {"skill": lookup(language, "skill.unknown.name"), "unit": ""}
    texts = catalogue(language) | {
        k: v for k, v in catalogue(FALLBACK_LANGUAGE).items() if k not in catalogue(language)
    }
    name = texts.get(f"skill.{skill.code}.name") or skill.names.get(language)
    unit = texts.get(f"skill.{skill.code}.unit") or skill.units.get(language)
    return {
        "skill": name or skill.names.get(FALLBACK_LANGUAGE) or skill.code,
        "unit": unit or skill.units.get(FALLBACK_LANGUAGE) or "",
    }


def _number(value: Any, locale: Locale) -> str:
    return format_decimal(float(value), format="#,##0.#", locale=locale)


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
    return str(template)


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
    locale = formatting_locale(tag, language)
    fields = _fields(params, locale, zone, language) | _skill_fields(skill, language)
    base = variant_of(template, params)
    short = lookup(language, f"{base}.sms").format_map(fields)
    if template.is_reply:
        return Rendered(language, short, "", "", "")
    subject = lookup(language, f"{base}.subject").format_map(fields)
    greeting = (
        lookup(language, "email.greeting").format(name=given_name)
        if given_name
        else lookup(language, "email.greeting.no-name")
    )
    body = lookup(language, f"{base}.body").format_map(fields)
    text = f"{greeting}\n\n{body}\n\n{lookup(language, 'email.footer')}\n"
    return Rendered(language, short, subject, text, to_html(text, subject, language))


def to_html(text: str, subject: str, language: str) -> str:
    paragraphs = [p for p in text.strip().split("\n\n") if p]
    body = "\n".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(subject)}</title>\n</head>\n"
        '<body style="font-family: sans-serif; font-size: 16px; line-height: 1.5">\n'
        f"{body}\n</body>\n</html>\n"
    )


def all_keys() -> set[str]:
    return set(catalogue(FALLBACK_LANGUAGE))
