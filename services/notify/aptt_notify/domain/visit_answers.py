"""The words a family texts to answer a home-visit invitation, in the ten languages
(docs/decisions/0541). Matched on the whole message, any case, as the keywords are."""

from __future__ import annotations

from typing import Literal

Answer = Literal["yes", "no"]

# Russian as escapes: its letters look like Latin ones to a reader and to the linter.
RUSSIAN_YES, RUSSIAN_NO = "\u0414\u0410", "\u041d\u0415\u0422"

YES_WORDS = frozenset(
    {"YES", "Y", "SÍ", "SI", "是", "CÓ", "CO", "نعم", "SIM", "HAA", RUSSIAN_YES, "WI", "OO"}
)
NO_WORDS = frozenset(
    {
        "NO",
        "N",
        "不",
        "否",
        "KHÔNG",
        "KHONG",
        "لا",
        "NÃO",
        "NAO",
        "MAYA",
        RUSSIAN_NO,
        "NON",
        "HINDI",
    }
)


def visit_answer(body: str) -> Answer | None:
    word = body.strip().strip(".!¡?¿ ").upper()
    if word in YES_WORDS:
        return "yes"
    if word in NO_WORDS:
        return "no"
    return None
