"""Shared bounds of every request and event field: how long a string, how many items, how
large a number may be (docs/decisions/0015-bounded-inputs.md).

Bounds live in the models so that OpenAPI and the JSON Schemas show them; a service uses
these types rather than repeating numbers. Event types carry only upper bounds: a published
event type may gain one (`aptt_contracts.compat`), never a lower one.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# OneRoster sourcedIds are at most 255 characters (the roster import refuses longer ones);
# every other id is a uuid or a code; tokens with longer ids are refused.
MAX_ID = 255
# Codes: skills, activities, templates, reasons (lower-case words joined by hyphens).
MAX_CODE = 64
# BCP 47 tags: 35 characters hold every registered tag with its subtags.
MAX_LANGUAGE_TAG = 35
# IANA time zone names are at most 30 characters today.
MAX_TIMEZONE = 64
# A label is a few words: a place, a focus area, a skill's name or unit.
MAX_LABEL = 200
# Names as a SIS keeps them (the roster import refuses longer ones).
MAX_PERSON_NAME = MAX_LABEL
MAX_EMAIL = 254  # RFC 5321's limit of a forward path
MAX_PHONE = 32  # E.164 is 15 digits and a plus
# Ids in one event: a classroom's students, a guardian's schools. A record of the roster
# import holds far fewer; an event over 256 KiB was never published.
MAX_IDS = 5_000
# Languages a district offers a text in.
MAX_LANGUAGES = 20
# Every score of every skill scale we know fits (reading levels, scale scores in the
# thousands); Babel and the SMART arithmetic stay exact far beyond it.
SCORE_LIMIT = 1_000_000

Id = Annotated[str, Field(max_length=MAX_ID)]
IdList = Annotated[list[Id], Field(max_length=MAX_IDS)]
Code = Annotated[str, Field(max_length=MAX_CODE)]
LanguageTag = Annotated[str, Field(max_length=MAX_LANGUAGE_TAG)]
TimeZoneName = Annotated[str, Field(max_length=MAX_TIMEZONE)]
Label = Annotated[str, Field(max_length=MAX_LABEL)]
PersonName = Annotated[str, Field(max_length=MAX_PERSON_NAME)]
Email = Annotated[str, Field(max_length=MAX_EMAIL)]
Phone = Annotated[str, Field(max_length=MAX_PHONE)]
SchoolYear = Annotated[str, Field(max_length=9, pattern=r"^[0-9]{4}-[0-9]{4}$")]
# What a request may name: years a date can hold (year 0 cannot), 2026-2027.
SCHOOL_YEAR_PATTERN = r"^(19|20)[0-9]{2}-(19|20)[0-9]{2}$"
Score = Annotated[float, Field(allow_inf_nan=False, ge=-SCORE_LIMIT, le=SCORE_LIMIT)]
