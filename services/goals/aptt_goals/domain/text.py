"""Words for people, kept language-neutral in the domain and translated at the edge.

A rule that fails says why as a `Text`: the English sentence (also the gettext message id)
and the values to put in it. `aptt_goals.i18n` renders it in the guardian's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

# A value in the sentence: a number or date (formatted for the language), a plain code,
# a display name by language (skill and activity names), or a list of such names.
Localized = Mapping[str, str]
Param = str | int | float | date | Localized | Sequence[Localized]


@dataclass(frozen=True)
class Text:
    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)


def text(msgid: str, **params: Param) -> Text:
    return Text(msgid, params)
