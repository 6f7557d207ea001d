"""Incoming kindergarten families: the rules of one family, from a form or a CSV row.

A family is the district's own reference (`family_id`), the school of interest, the child's
first name and birth date, and one or two guardians with a language and a phone or an email.
No I/O: whether the school exists is the service's question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from aptt_data.oneroster import fields

MAX_NAME = 100
# A child who starts kindergarten within the next two school years is 3 to 7 years old.
MIN_AGE_YEARS, MAX_AGE_YEARS = 3, 7
CSV_COLUMNS: tuple[str, ...] = (
    "family_id",
    "school_id",
    "child_first_name",
    "birth_date",
    "guardian1_name",
    "guardian1_phone",
    "guardian1_email",
    "guardian1_language",
    "guardian2_name",
    "guardian2_phone",
    "guardian2_email",
    "guardian2_language",
)
REQUIRED_COLUMNS = ("family_id", "school_id", "child_first_name", "birth_date")


@dataclass(frozen=True)
class IncomingGuardian:
    given_name: str | None
    phone: str | None
    email: str | None
    language: str


@dataclass(frozen=True)
class IncomingFamily:
    family_id: str
    school_id: str
    child_first_name: str
    birth_date: date
    guardians: tuple[IncomingGuardian, ...]


Problem = tuple[str, str]  # (column, reason): never the value, which may be a contact


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _name(raw: str, column: str, problems: list[Problem], *, required: bool) -> str | None:
    value = " ".join(raw.split())
    if not value:
        if required:
            problems.append((column, "required"))
        return None
    if len(value) > MAX_NAME:
        problems.append((column, f"at most {MAX_NAME} characters"))
    return value


def _parsed(
    raw: str, column: str, parse: Callable[[str], str], problems: list[Problem]
) -> str | None:
    if not raw:
        return None
    try:
        return parse(raw)
    except fields.BadValue as exc:
        problems.append((column, str(exc)))
        return None


def _guardian(
    row: Mapping[str, str], n: int, phone: Callable[[str], str], problems: list[Problem]
) -> IncomingGuardian | None:
    prefix = f"guardian{n}_"
    raw = {k: (row.get(prefix + k) or "").strip() for k in ("name", "phone", "email", "language")}
    if not any(raw.values()):
        return None
    found = len(problems)
    name = _name(raw["name"], prefix + "name", problems, required=False)
    number = _parsed(raw["phone"], prefix + "phone", phone, problems)
    email = _parsed(raw["email"], prefix + "email", fields.email, problems)
    language = _parsed(raw["language"], prefix + "language", fields.language, problems)
    if not raw["language"]:
        problems.append((prefix + "language", "required: the language messages are sent in"))
    if not raw["phone"] and not raw["email"]:
        problems.append((prefix + "phone", "a phone or an email is required to reach them"))
    if len(problems) > found or language is None:
        return None
    return IncomingGuardian(given_name=name, phone=number, email=email, language=language)


def check_family(
    row: Mapping[str, str], *, today: date, phone_region: str
) -> tuple[IncomingFamily | None, list[Problem]]:
    """The family of a row (CSV columns as keys), or what is wrong with it, column by column."""
    problems: list[Problem] = []
    values = {k: (row.get(k) or "").strip() for k in REQUIRED_COLUMNS}
    for column in ("family_id", "school_id"):
        if not values[column]:
            problems.append((column, "required"))
        else:
            _parsed(values[column], column, fields.sourced_id, problems)
    child = _name(values["child_first_name"], "child_first_name", problems, required=True)
    born: date | None = None
    if not values["birth_date"]:
        problems.append(("birth_date", "required"))
    elif iso := _parsed(values["birth_date"], "birth_date", fields.iso_date, problems):
        born = date.fromisoformat(iso)
        earliest, latest = (_years_before(today, y) for y in (MAX_AGE_YEARS, MIN_AGE_YEARS))
        if not earliest <= born <= latest:
            problems.append(
                (
                    "birth_date",
                    f"a child starting kindergarten is {MIN_AGE_YEARS} to "
                    f"{MAX_AGE_YEARS} years old",
                )
            )
    phone = fields.phone_parser(phone_region)
    guardians = [g for n in (1, 2) if (g := _guardian(row, n, phone, problems)) is not None]
    if not guardians and not any(c.startswith("guardian") for c, _ in problems):
        problems.append(("guardian1_name", "at least one guardian with a language and a contact"))
    if problems or child is None or born is None:
        return None, problems
    family = IncomingFamily(
        family_id=values["family_id"],
        school_id=values["school_id"],
        child_first_name=child,
        birth_date=born,
        guardians=tuple(guardians),
    )
    return family, []
