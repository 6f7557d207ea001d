"""The class chart's words in the chart's language, from gettext catalogues.

The catalogues are `locales/<lang>/LC_MESSAGES/data.po`, read through the platform's
`Catalogues` at start-up. Message ids are the English texts below (every one of them is in
`MESSAGES`, and a test fails when a catalogue lacks one or changes its {placeholders}). The
ten languages are the platform's `LANGUAGES`; Arabic is drawn right to left. A language we
have no catalogue for reads English; skill names come from the skill itself. Numbers
are worded by Babel in the reader's own locale (`es-MX`) when the text is in that locale's
language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aptt_platform.i18n import LANGUAGES, Catalogues, direction, format_number
from babel import Locale

CATALOGUES = Catalogues(Path(__file__).parent / "locales", "data", LANGUAGES)

TITLE = "{skill}: our class"
SUBTITLE = "{unit} · each bar is one student's private number"
BENCHMARK = "{grade} benchmark ({season}): {value}"
GRADE = "Grade {grade}"
KINDERGARTEN = "Kindergarten"
SEASONS = {"fall": "fall", "winter": "winter", "spring": "spring"}
BANDS = {
    "well_below": "Well below",
    "below": "Below",
    "at": "At benchmark",
    "above": "Above",
}
PREVIOUS = "last meeting"
NO_SCORE = "no score yet"
TOO_FEW = "Fewer than {n} students have a score yet."
NO_BENCHMARK = "This skill has no benchmark for this grade and season."
NO_CHART = "No chart, so that no student can be recognised."
GROWTH = "Median growth since last meeting: {value}"

MESSAGES: tuple[str, ...] = (
    TITLE,
    SUBTITLE,
    BENCHMARK,
    GRADE,
    KINDERGARTEN,
    *SEASONS.values(),
    *BANDS.values(),
    PREVIOUS,
    NO_SCORE,
    TOO_FEW,
    NO_BENCHMARK,
    NO_CHART,
    GROWTH,
)
NUMBER_FORMAT = "#,##0.#"


@dataclass(frozen=True)
class Words:
    """The chart's texts and numbers for one reader."""

    language: str  # the catalogue's language: `es` for an `es-MX` reader
    locale: Locale  # how numbers are written: `es_MX`

    @property
    def direction(self) -> str:
        return direction(self.language)

    def text(self, msgid: str, **values: object) -> str:
        return CATALOGUES.gettext(msgid, self.language).format(**values)

    def number(self, value: float) -> str:
        return format_number(value, NUMBER_FORMAT, self.locale)

    def signed(self, value: float) -> str:
        return ("+" if value > 0 else "") + self.number(value)


def words_for(tag: str | None) -> Words:
    """The words for a BCP 47 tag (`?lang=`, or the school's language)."""
    language = CATALOGUES.language_for(tag)
    return Words(language=language, locale=CATALOGUES.formatting_locale(tag, language))


# The outcome attendance chart (decision 0231).
OUTCOME_TITLE = "Families at team meetings, {year}"
OUTCOME_REFERENCE = "Reference: {rate} of families"
OUTCOME_AT_OR_ABOVE = "At or above the reference"
OUTCOME_BELOW = "Below the reference"
OUTCOME_WITHHELD = "Withheld: fewer than {n}"
OUTCOME_TOO_FEW = "Too few families attended to show figures."
OUTCOME_MESSAGES = (
    OUTCOME_TITLE,
    OUTCOME_REFERENCE,
    OUTCOME_AT_OR_ABOVE,
    OUTCOME_BELOW,
    OUTCOME_WITHHELD,
    OUTCOME_TOO_FEW,
)
MESSAGES = (*MESSAGES, *OUTCOME_MESSAGES)
