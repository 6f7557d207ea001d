"""Keeps the web's gettext catalogues in step with its templates and pages.

python -m aptt_web.catalogue   # adds new message ids to every language, drops unused ones

Translations already made are kept; a new message is left empty (shown in English) until a
translator fills it. English holds every message as its own text.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from aptt_web.i18n import CATALOGUES

PACKAGE = Path(__file__).resolve().parent
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}


def messages() -> list[str]:
    """Every message id the templates and the pages' code use, in order of first use."""
    found: dict[str, None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        PACKAGE, METHODS, options_map=OPTIONS, keywords={"_": None}
    ):
        if isinstance(message, str) and message:
            found[message] = None
    return list(found)


def update() -> None:
    ids = messages()
    for language in CATALOGUES.languages:
        path = CATALOGUES.path(language)
        old = CATALOGUES.catalogue(language) if path.exists() else Catalog(locale=language)
        catalog = Catalog(
            locale=language,
            domain="web",
            project="APTT web pages",
            version="1",
            copyright_holder="APTT",
            charset="utf-8",
        )
        for msgid in ids:
            kept = old.get(msgid)
            string = msgid if language == "en" else (kept.string if kept else "")
            catalog.add(msgid, string)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, omit_header=False, sort_output=False)


if __name__ == "__main__":
    update()
