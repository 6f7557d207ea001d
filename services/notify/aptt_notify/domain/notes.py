"""Personal notes: one sentence from a teacher about one student, to that student's family.

A note is written either with the sentence builder (catalogued phrases, translated in every
supported language, so the family reads a correct sentence in its own language) or as free
text, sent as written with a line saying which language the teacher wrote it in. No machine
translation unless a district plugs in a `providers.Translator` (docs/decisions/0510).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

FREE_TEXT_MAX = 200


class PhrasePart(StrEnum):
    """The parts of a built sentence, in the order the family reads them."""

    WENT_WELL = "went_well"
    NEXT_STEP = "next_step"
    HOME_ACTION = "home_action"


# Phrase ids per part; each id is a catalogue message `phrase.<id>` in every language.
PHRASES: Mapping[PhrasePart, tuple[str, ...]] = {
    PhrasePart.WENT_WELL: ("well.effort", "well.progress", "well.questions"),
    PhrasePart.NEXT_STEP: ("next.daily-practice", "next.read-aloud", "next.explain"),
    PhrasePart.HOME_ACTION: ("home.read-20", "home.ask-about-day", "home.count-together"),
}


class NoteKind(StrEnum):
    BUILDER = "builder"
    FREE_TEXT = "free_text"


class NoteRefused(ValueError):
    """A note the rules refuse; the message says what to change."""


@dataclass(frozen=True)
class NoteDraft:
    kind: NoteKind
    phrases: Mapping[PhrasePart, str]
    skill_code: str | None
    text: str | None
    written_in: str | None

    def check(self) -> None:
        if self.kind is NoteKind.BUILDER:
            if self.text is not None:
                raise NoteRefused("a built note takes phrase ids, not text")
            if not self.phrases:
                raise NoteRefused("choose at least one phrase")
            if not self.skill_code:
                raise NoteRefused("name the skill the note is about")
            for part, phrase_id in self.phrases.items():
                if phrase_id not in PHRASES[part]:
                    raise NoteRefused(f"{phrase_id!r} is not a phrase for {part}")
            return
        if self.phrases:
            raise NoteRefused("a free-text note takes text, not phrase ids")
        if not self.text or not self.text.strip():
            raise NoteRefused("write the sentence")
        if len(self.text) > FREE_TEXT_MAX:
            raise NoteRefused(f"one sentence: at most {FREE_TEXT_MAX} characters")
        if not self.written_in:
            raise NoteRefused("say which language the note is written in")

    def params(self) -> dict[str, object]:
        """What the message keeps to word the note in each guardian's language."""
        if self.kind is NoteKind.BUILDER:
            return {
                "phrases": {str(p): self.phrases[p] for p in PhrasePart if p in self.phrases},
                "skill_code": self.skill_code,
            }
        return {"text": " ".join((self.text or "").split()), "written_in": self.written_in}
