"""The texts of personal notes, replies and surveys exist in all ten languages with the
same placeholders, and the sentence builder only takes catalogued phrases."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aptt_notify.domain.model import Template
from aptt_notify.domain.notes import PHRASES, NoteDraft, NoteKind, NoteRefused, PhrasePart
from aptt_notify.domain.surveys import BUILT_IN_SETS
from aptt_notify.i18n import render
from babel.messages.pofile import read_po

LOCALES = Path(__import__("aptt_notify").__file__).parent / "locales"
TEN = ("en", "es", "zh", "vi", "ar", "pt", "so", "ru", "ht", "tl")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
OURS = (
    "personal-note.",
    "teacher-reply.",
    "note.written-in",
    "phrase.",
    "survey-question.",
    "survey-comment.",
    "survey.q.",
)


def catalogue(language: str) -> dict[str, str]:
    with (LOCALES / language / "LC_MESSAGES" / "notify.po").open("rb") as handle:
        found = read_po(handle)
    return {str(m.id): str(m.string) for m in found if m.id and m.string}


def test_every_language_has_every_note_and_survey_text() -> None:
    english = {k: v for k, v in catalogue("en").items() if k.startswith(OURS)}
    wanted = {f"phrase.{p}" for ids in PHRASES.values() for p in ids}
    wanted |= {q.text_id for s in BUILT_IN_SETS.values() for q in s.questions}
    assert wanted <= set(english)
    for language in TEN:
        texts = catalogue(language)
        for key, text in english.items():
            assert texts.get(key), (language, key)
            assert set(PLACEHOLDER.findall(texts[key])) == set(PLACEHOLDER.findall(text)), (
                language,
                key,
            )


@pytest.mark.parametrize(
    ("phrases", "skill", "text"),
    [
        ({}, "orf", None),
        ({PhrasePart.WENT_WELL: "home.read-20"}, "orf", None),  # a phrase of another part
        ({PhrasePart.WENT_WELL: "well.effort"}, None, None),
        ({PhrasePart.WENT_WELL: "well.effort"}, "orf", "and some free words"),
    ],
)
def test_the_builder_refuses_what_is_not_a_catalogued_sentence(
    phrases: dict[PhrasePart, str], skill: str | None, text: str | None
) -> None:
    with pytest.raises(NoteRefused):
        NoteDraft(NoteKind.BUILDER, phrases, skill, text, None).check()


def test_free_text_is_one_bounded_sentence_in_a_named_language() -> None:
    NoteDraft(NoteKind.FREE_TEXT, {}, None, "x" * 200, "en").check()
    for text, language in (("x" * 201, "en"), ("   ", "en"), ("fine", None)):
        with pytest.raises(NoteRefused):
            NoteDraft(NoteKind.FREE_TEXT, {}, None, text, language).check()


def test_the_written_in_line_names_the_language_in_the_familys_words() -> None:
    def short(family: str, written_in: str) -> str:
        params = {"text": "Hola", "written_in": written_in}
        return render(Template.PERSONAL_NOTE, family, params, zone=ZoneInfo("UTC")).short

    assert short("es", "en").endswith("\n(La maestra o el maestro lo escribió en inglés.)")
    assert short("en", "pt-BR").endswith("\n(The teacher wrote this in Portuguese.)")
    assert short("es", "es-MX") == "Una nota de la maestra o el maestro de su hijo/a: Hola"
    assert short("en", "xx").endswith("(The teacher wrote this in xx.)")  # a tag Babel lacks
