"""Guardian-facing words in the guardian's language, from gettext catalogues.

The catalogues are the `.po` files in `locales/<lang>/LC_MESSAGES/goals.po`, read through
the platform's `Catalogues`. The message ids are the English sentences of
`aptt_goals.domain.text`; a sentence without a translation is shown in English. Numbers,
dates and lists in a sentence are formatted the way its language writes them (Babel).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from aptt_platform.i18n import (
    FALLBACK_LANGUAGE,
    LANGUAGES,
    Catalogues,
    format_number,
    one_point,
)
from babel.dates import format_date
from babel.lists import format_list

from aptt_goals.domain.text import Localized, Param, Text

CATALOGUES = Catalogues(Path(__file__).parent / "locales", "goals", LANGUAGES)


def pick(names: Localized, language: str) -> str:
    """A display name in the language, else English, else any."""
    return names.get(language) or names.get(FALLBACK_LANGUAGE) or next(iter(names.values()), "")


def _format(value: Param, language: str) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_number(value, None, language)
    if isinstance(value, float):
        return format_number(value, "#,##0.##", language)
    if isinstance(value, date):
        return format_date(value, format="long", locale=language)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return pick(value, language)
    return format_list([pick(v, language) for v in value], style="or", locale=language)


def render(message: Text, language: str) -> str:
    """The sentence in the language (one of CATALOGUES.languages), its values filled in."""
    template = CATALOGUES.gettext(message.msgid, language)
    values = {name: _format(value, language) for name, value in message.params.items()}
    return one_point(template.format(**values))
