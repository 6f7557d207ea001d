"""Guardian-facing words in the guardian's language, from gettext catalogues.

The catalogues are the `.po` files in `locales/<lang>/LC_MESSAGES/goals.po`, read with Babel
at start-up (no compiled `.mo` to keep in step). The message ids are the English sentences
of `aptt_goals.domain.text`; a sentence without a translation is shown in English. Numbers,
dates and lists are formatted the way the language writes them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from aptt_goals.domain.text import Localized, Param, Text

LANGUAGES: tuple[str, ...] = ("en", "es")
DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).parent / "locales"
CATALOGUE_DOMAIN = "goals"


def catalogue_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{CATALOGUE_DOMAIN}.po"


@functools.cache
def catalogues() -> dict[str, Catalog]:
    """Every language's catalogue, read once; call at start-up so a broken file fails fast."""
    found: dict[str, Catalog] = {}
    for language in LANGUAGES:
        with catalogue_path(language).open("rb") as po:
            found[language] = read_po(po, locale=language, domain=CATALOGUE_DOMAIN)
    return found


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header; English when none fits."""
    preferences: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            preferences.append((-quality, position, tag.strip()))
    ordered = [tag for _, _, tag in sorted(preferences)]
    try:
        locale = Locale.negotiate(ordered, list(LANGUAGES), sep="-") if ordered else None
    except (ValueError, TypeError):
        locale = None
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def supported(language: str | None) -> str:
    """One of our languages for a BCP 47 tag (`es-MX` -> `es`), English otherwise."""
    return negotiate(language)


def gettext(msgid: str, language: str) -> str:
    catalogue = catalogues().get(language)
    message = catalogue.get(msgid) if catalogue is not None else None
    if message is not None and isinstance(message.string, str) and message.string:
        return message.string
    return msgid


def pick(names: Localized, language: str) -> str:
    """A display name in the language, else English, else any."""
    return names.get(language) or names.get(DEFAULT_LANGUAGE) or next(iter(names.values()), "")


def _format(value: Param, language: str) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_decimal(value, locale=language)
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.##", locale=language)
    if isinstance(value, date):
        return format_date(value, format="long", locale=language)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return pick(value, language)
    return format_list([pick(v, language) for v in value], style="or", locale=language)


def render(message: Text, language: str) -> str:
    template = gettext(message.msgid, language)
    values = {name: _format(value, language) for name, value in message.params.items()}
    return template.format(**values)
