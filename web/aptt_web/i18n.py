"""The pages' words, from gettext catalogues in the ten languages (docs/decisions/0006).

Message ids are the English texts of the templates and pages (`_("...")`);
`tests/web/test_i18n.py` extracts them and fails when a catalogue lacks one in English or
Spanish. The reader's language is the one they chose on a page, else their browser's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aptt_platform.i18n import LANGUAGES, Catalogues, direction, language_name

CATALOGUES = Catalogues(Path(__file__).parent / "locales", "web", LANGUAGES)
# Each language named in itself, for the switcher.
LANGUAGE_NAMES = {code: (language_name(code, in_language=code) or code) for code in LANGUAGES}


def translator(language: str) -> Callable[[str], str]:
    def gettext(message: str) -> str:
        return CATALOGUES.gettext(message, language)

    return gettext


__all__ = ["CATALOGUES", "LANGUAGE_NAMES", "direction", "translator"]
