"""Field rules of OneRoster CSV values: what each kind accepts and how it is normalised.

Each parser takes the raw cell (already stripped, never empty) and returns the normalised
value or raises `BadValue` with a reason a district admin can act on. A parser that reads a
value more leniently than the binding writes it returns `Lenient`: the value (or `DROPPED`)
and a warning for the import report (docs/decisions/0206-oneroster-versions-and-leniency.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import phonenumbers
from aptt_contracts.bounds import MAX_LABEL

GRADES = frozenset(
    {"IT", "PR", "PK", "TK", "KG", "PS", "UG", "Other", *(f"{g:02d}" for g in range(1, 14))}
)
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
# BCP 47 language tags (RFC 5646) as families' languages are written: a 2-3 letter language
# (and extended subtags), optional script, region and variants. No grandfathered, private or
# 5-8 letter language subtags, so "Spanish" is refused rather than kept. Only the syntax is
# checked: districts serve families speaking languages (Mam, Chuukese, Dari) that locale
# libraries do not all know.
BCP47 = re.compile(
    r"^(?P<language>[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<rest>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)$"
)
YEAR = re.compile(r"^[0-9]{4}$")


class BadValue(ValueError):
    pass


DROPPED = object()  # a Lenient value: the cell is left out, the rest of the row kept


@dataclass(frozen=True)
class Lenient:
    """A value read where the binding writes it otherwise, and what the report says of it."""

    value: Any
    warning: str


def text(raw: str) -> str:
    # Names and titles travel in events, whose labels are bounded (aptt_contracts.bounds).
    if len(raw) > MAX_LABEL:
        raise BadValue(f"a value is at most {MAX_LABEL} characters")
    return raw


def sourced_id(raw: str) -> str:
    if any(ch.isspace() for ch in raw):
        raise BadValue(f"{raw!r} is not a sourcedId: it contains white space")
    if len(raw) > 255:
        raise BadValue("a sourcedId is at most 255 characters")
    return raw


def sourced_ids(raw: str) -> list[str]:
    ids = [part.strip() for part in raw.split(",")]
    if any(not part for part in ids):
        raise BadValue("a list of sourcedIds is separated by single commas, with no empty item")
    return [sourced_id(part) for part in ids]


def boolean(raw: str) -> bool | Lenient:
    """true or false; spreadsheets write TRUE and True, which mean the same."""
    if raw in ("true", "false"):
        return raw == "true"
    folded = raw.lower()
    if folded not in ("true", "false"):
        raise BadValue(f"{raw!r} is not a boolean: write true or false")
    return Lenient(
        folded == "true", f"{raw!r} read as {folded} (OneRoster writes it in lower case)"
    )


def iso_date(raw: str) -> str:
    problem = f"{raw!r} is not a date: write YYYY-MM-DD"
    if len(raw) != 10:
        raise BadValue(problem)
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise BadValue(problem) from exc


def iso_datetime(raw: str) -> str:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadValue(f"{raw!r} is not a date-time: write e.g. 2026-08-01T00:00:00.000Z") from exc
    if value.tzinfo is None and "T" in raw:
        raise BadValue(f"{raw!r} has no time zone: end it with Z")
    return value.isoformat()


def grades(raw: str) -> list[str]:
    values = [part.strip() for part in raw.split(",")]
    unknown = [v for v in values if v not in GRADES]
    if unknown:
        raise BadValue(
            f"{', '.join(repr(v) for v in unknown)} not a CEDS grade level "
            "(KG, 01 to 13, PK, TK, IT, PR, PS, UG, Other)"
        )
    return values


def year(raw: str) -> str:
    if not YEAR.match(raw):
        raise BadValue(f"{raw!r} is not a school year: write the year it ends, e.g. 2027")
    return raw


# Contact values are not repeated in rejection reasons: reports are stored and shown again,
# and the line and column already say which value to fix.


def email(raw: str) -> str:
    if len(raw) > 254 or not EMAIL.match(raw):
        raise BadValue("not an email address")
    return raw


def phone_parser(region: str) -> Callable[[str], str]:
    """Phone numbers are normalised to E.164; a number without +country is read in `region`."""

    def phone(raw: str) -> str:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException as exc:
            raise BadValue("not a phone number") from exc
        if not phonenumbers.is_valid_number(number):
            raise BadValue(
                f"not a valid phone number (numbers without +country are read in {region})"
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return phone


def contact_email(raw: str) -> str | Lenient:
    """A user's email; one that cannot be read is left out, never the user with it."""
    try:
        return email(raw)
    except BadValue as exc:
        return Lenient(DROPPED, f"{exc}: left out, the rest of the user imported")


def contact_phone(region: str) -> Callable[[str], str | Lenient]:
    """OneRoster's phone and sms are free strings: a number with +country is kept as E.164, one
    without is read as a number of `region` (with a warning), and one that cannot be read as
    a phone number is left out (with a warning), never the user with it."""
    strict = phone_parser(region)

    def phone(raw: str) -> str | Lenient:
        try:
            value = strict(raw)
        except BadValue as exc:
            return Lenient(DROPPED, f"{exc}: left out, the rest of the user imported")
        if raw.lstrip().startswith("+"):
            return value
        return Lenient(value, f"no +country code: read as a number of {region}")

    return phone


def language(raw: str) -> str:
    """A BCP 47 tag in its conventional case: es, es-MX, zh-Hant-TW."""
    match = BCP47.match(raw.replace("_", "-"))
    if match is None:
        raise BadValue(f"{raw!r} is not a BCP 47 language tag (e.g. en, es, vi, zh-Hant)")
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["rest"].lower()


def enum(values: frozenset[str], *, extensible: bool = False) -> Callable[[str], str]:
    """One of `values`; OneRoster lets some vocabularies grow with `ext:` tokens."""

    def parse(raw: str) -> str:
        if raw in values or (extensible and raw.startswith("ext:") and len(raw) > 4):
            return raw
        raise BadValue(f"{raw!r} is not one of {', '.join(sorted(values))}")

    return parse


def number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise BadValue(f"{raw!r} is not a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise BadValue(f"{raw!r} is not a number")
    return value


Parser = Callable[[str], Any]
