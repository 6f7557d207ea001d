"""Texts in the reader's language: one gettext mechanism for every service.

A service keeps its catalogues as `.po` files in its package
(`locales/<language>/LC_MESSAGES/<domain>.po`), read with Babel once per process: there are
no compiled `.mo` files to keep in step. A message missing from a language is shown in the
fallback language (English); a language we have no catalogue for reads the fallback too.
Dates and numbers are worded by Babel in the reader's own locale (`es-MX`) when the text is
in that locale's language.

Every service offers the same ten languages (`LANGUAGES`, docs/decisions/0006): the most
common home languages of English learners in US public schools. Arabic is written right to
left: whatever renders a text for people sets `dir` from `direction(language)`. A reader of
another language reads English, told so in their own language when we can say it and in
English, naming their language, when Babel knows its name (`fallback_notice`).
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Collection, Sequence
from functools import cached_property
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

FALLBACK_LANGUAGE = "en"
# English, Spanish, Chinese (Simplified), Vietnamese, Arabic, Portuguese, Somali, Russian,
# Haitian Creole, Tagalog.
LANGUAGES: tuple[str, ...] = ("en", "es", "zh", "vi", "ar", "pt", "so", "ru", "ht", "tl")
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ps", "ur", "yi"})


def primary_language(tag: str | None) -> str:
    """`es-MX` -> `es`; empty for no tag."""
    return (tag or "").replace("_", "-").split("-")[0].lower()


# Babel's dates may end in an abbreviation's point (Russian "2026 g.", Portuguese "set."):
# a sentence that ends with one keeps one point, not two. A real ellipsis is left alone.
_DOUBLE_POINT = re.compile(r"(?<!\.)\.\.(?!\.)")


def one_point(text: str) -> str:
    return _DOUBLE_POINT.sub(".", text)


# Enough digits for any float: Babel rounds in the current decimal context, whose default 28
# digits cannot hold 1e26 with its fraction digits (decimal.InvalidOperation).
_FLOAT_DIGITS = 800


def format_number(value: float | int, pattern: str | None, locale: Locale | str) -> str:
    """A number as the locale writes it (Babel's `format_decimal`), for any int or float."""
    with decimal.localcontext() as context:
        context.prec = max(_FLOAT_DIGITS, len(str(value)) + 20)
        return format_decimal(value, format=pattern, locale=locale)


def direction(language: str | None) -> str:
    """`rtl` for a language written right to left, else `ltr` (HTML's `dir`)."""
    return "rtl" if primary_language(language) in RIGHT_TO_LEFT else "ltr"


class Catalogues:
    """One service's catalogues: message id -> text, per language."""

    def __init__(
        self,
        locales: Path,
        domain: str,
        languages: Sequence[str] = LANGUAGES,
        *,
        fallback: str = FALLBACK_LANGUAGE,
    ) -> None:
        if fallback not in languages:
            raise ValueError("the fallback language needs a catalogue of its own")
        self.locales = locales
        self.domain = domain
        self.languages = tuple(languages)
        self.fallback = fallback

    def path(self, language: str) -> Path:
        return self.locales / language / "LC_MESSAGES" / f"{self.domain}.po"

    def catalogue(self, language: str) -> Catalog:
        with self.path(language).open("rb") as po:
            return read_po(po, locale=language, domain=self.domain)

    @cached_property
    def texts(self) -> dict[str, dict[str, str]]:
        """Every language's translated messages (fuzzy and empty entries left out)."""
        return {
            language: {
                str(m.id): str(m.string)
                for m in self.catalogue(language)
                if m.id and isinstance(m.string, str) and m.string and not m.fuzzy
            }
            for language in self.languages
        }

    def load(self) -> None:
        """Read every catalogue now: call at start-up, so a broken file stops the start and
        not a family's request."""
        _ = self.texts

    def missing(self) -> dict[str, set[str]]:
        """Per language, the fallback's message ids it lacks (a test keeps these empty)."""
        every = set(self.texts[self.fallback])
        return {language: every - set(texts) for language, texts in self.texts.items()}

    def language_for(self, tag: str | None) -> str:
        """The catalogue language for a BCP 47 tag: `es-MX` -> `es`; unknown -> fallback."""
        primary = primary_language(tag)
        return primary if primary in self.languages else self.fallback

    def negotiate(self, accept_language: str | None) -> str:
        """The best of our languages for an Accept-Language header; the fallback if none."""
        preferences: list[tuple[float, int, str]] = []
        for position, part in enumerate((accept_language or "").split(",")[:20]):
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
        for _, _, tag in sorted(preferences):
            primary = primary_language(tag)
            if primary in self.languages:
                return primary
        return self.fallback

    def gettext(self, msgid: str, language: str) -> str:
        """The message in the language, else in the fallback, else the id itself."""
        texts = self.texts.get(language) or {}
        if msgid in texts:
            return texts[msgid]
        return self.texts[self.fallback].get(msgid, msgid)

    def has(self, msgid: str, language: str | None = None) -> bool:
        return msgid in self.texts.get(language or self.fallback, {})

    def formatting_locale(self, tag: str | None, language: str) -> Locale:
        """Dates and numbers in the reader's own variant (`es-MX`) when the text is in that
        language; a fallback text (a `vi` reader of English) keeps the fallback's formats."""
        if tag and primary_language(tag) == language:
            try:
                return Locale.parse(tag.replace("_", "-"), sep="-")
            except (ValueError, UnknownLocaleError):
                pass
        return Locale.parse(language)


# The one sentence that tells a reader of a language we have no messages in that they read
# English. Its catalogue has more languages than LANGUAGES: one sentence is easy to get right.
NOTICE = "We do not have messages in {language} yet; here they are in English."
NOTICES = Catalogues(
    Path(__file__).resolve().parent / "locales",
    "platform",
    (*LANGUAGES, "fr", "de", "it", "pl", "uk", "ko", "ja", "hi", "ur", "fa", "bn"),
)


def language_name(language: str, *, in_language: str) -> str | None:
    """What `in_language` calls `language` (Babel's CLDR names); None when Babel has none."""
    try:
        return Locale.parse(in_language).languages.get(language)
    except (ValueError, UnknownLocaleError):
        return None


def fallback_notice(tag: str | None, catalogues: Catalogues) -> tuple[str, str] | None:
    """For a reader whose language `catalogues` lacks, the notice and its language: in their
    own language when we have the sentence, else in English naming their language in English
    and in itself ("Amharic (አማርኛ)"). None when they read their own language, or when we
    cannot name it."""
    return missing_language_notice(tag, catalogues.languages)


def missing_language_notice(tag: str | None, written: Collection[str]) -> tuple[str, str] | None:
    """`fallback_notice` for texts written in `written` only (a district's own texts)."""
    primary = primary_language(tag)
    if not primary or primary in written:
        return None
    own = language_name(primary, in_language=primary)
    if primary in NOTICES.languages and NOTICES.has(NOTICE, primary) and own:
        return NOTICES.gettext(NOTICE, primary).format(language=own), primary
    english = language_name(primary, in_language=FALLBACK_LANGUAGE)
    if not english:
        return None
    named = f"{english} ({own})" if own and own.lower() != english.lower() else english
    return NOTICES.gettext(NOTICE, FALLBACK_LANGUAGE).format(language=named), FALLBACK_LANGUAGE
