"""The scheduling service's catalogues: every text in every language, no server needed."""

from __future__ import annotations

from aptt_scheduling.i18n import CATALOGUES, MESSAGE_IDS, meeting_summary


def test_every_message_is_in_every_catalogue() -> None:
    assert all(CATALOGUES.has(msgid) for msgid in MESSAGE_IDS), "missing in the fallback"
    assert CATALOGUES.missing() == {language: set() for language in CATALOGUES.languages}


def test_the_calendar_title_reads_in_the_readers_language() -> None:
    assert meeting_summary("es", cancelled=False) == "Reunión de equipo de la clase"
    assert meeting_summary("es", cancelled=True) == "Cancelada: Reunión de equipo de la clase"
    assert meeting_summary("en", cancelled=True) == "Cancelled: Class team meeting"
