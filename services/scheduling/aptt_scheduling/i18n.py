"""Texts the scheduling service renders for people: the title of a team meeting in a
calendar file. Catalogues are `locales/<language>/LC_MESSAGES/scheduling.po`."""

from __future__ import annotations

from pathlib import Path

from aptt_platform.i18n import LANGUAGES, Catalogues

CATALOGUES = Catalogues(Path(__file__).parent / "locales", "scheduling", LANGUAGES)

MEETING_TITLE = "Class team meeting"
CANCELLED_TITLE = "Cancelled: {title}"
VISIT_TITLE = "Home visit"
MESSAGE_IDS: tuple[str, ...] = (MEETING_TITLE, CANCELLED_TITLE, VISIT_TITLE)


def meeting_summary(language: str, *, cancelled: bool) -> str:
    """The calendar entry's title, in the reader's language."""
    title = CATALOGUES.gettext(MEETING_TITLE, language)
    if not cancelled:
        return title
    return CATALOGUES.gettext(CANCELLED_TITLE, language).format(title=title)


def visit_summary(language: str, *, cancelled: bool) -> str:
    """A home visit's title in the pair's calendars."""
    title = CATALOGUES.gettext(VISIT_TITLE, language)
    if not cancelled:
        return title
    return CATALOGUES.gettext(CANCELLED_TITLE, language).format(title=title)


# The consolidated year's chart (decision 0330).
CONSOLIDATION_TITLE = "Family events, school year {year}"
CONSOLIDATION_SUBTITLE = "Aim: about one learning-linked event a month ({aim} a year)"
LINKED = "Linked to learning: {n}"
UNLINKED = "Not linked to learning: {n}"
AIM_LINE = "One a month"
CROWDED = "crowded"
CHART_IDS = (CONSOLIDATION_TITLE, CONSOLIDATION_SUBTITLE, LINKED, UNLINKED, AIM_LINE, CROWDED)
MESSAGE_IDS = (*MESSAGE_IDS, *CHART_IDS)
