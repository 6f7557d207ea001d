"""One cursor for every paged list: a caller gets back the page after the one it read, and a
cursor it made up is a client error, never a 500."""

from __future__ import annotations

from datetime import datetime

import pytest
from aptt_platform.errors import DomainError
from aptt_platform.web import decoded_cursor, encoded_cursor


def _after(raw: str) -> tuple[datetime, str]:
    at, meeting_id = raw.split("|", 1)
    return datetime.fromisoformat(at), meeting_id


def test_a_cursor_gives_back_what_placed_the_last_item() -> None:
    at = datetime(2026, 10, 1, 18, 30)
    cursor = encoded_cursor(at.isoformat(), "meeting|with a bar")
    assert decoded_cursor(cursor, _after) == (at, "meeting|with a bar")
    assert decoded_cursor(encoded_cursor(50), int) == 50


@pytest.mark.parametrize("cursor", ["###", "nonsense", encoded_cursor("no bar"), "//79"])
def test_a_cursor_the_api_did_not_give_out_is_a_422_problem(cursor: str) -> None:
    with pytest.raises(DomainError) as refused:
        decoded_cursor(cursor, _after)
    assert (refused.value.status, refused.value.code) == (422, "bad-cursor")
