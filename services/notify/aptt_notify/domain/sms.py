"""SMS segment counting, as carriers and Twilio's `num_segments` count.

A body that fits the GSM 03.38 alphabet goes as GSM-7: 160 septets in one segment, 153 per
segment once split; extension-table characters take two septets and an escape pair is never
split. Any other character makes the whole message UCS-2: 70 UTF-16 units, 67 per segment,
never splitting a surrogate pair. (The same rules as the local stand-in's counter, written
again here because the service must not depend on the local tooling.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class Segments:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    count: int


def _split(unit_sizes: list[int], single: int, multi: int) -> int:
    if sum(unit_sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in unit_sizes:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


def count_segments(body: str) -> Segments:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in body]
        return Segments("GSM-7", sum(sizes), _split(sizes, 160, 153))
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
    return Segments("UCS-2", sum(sizes), _split(sizes, 70, 67))


# Babel puts narrow and non-breaking spaces in times ("6:00\u202fPM"); one of them would
# turn a whole English text into UCS-2 and double its segments.
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})


def plain_spaces(text: str) -> str:
    return text.translate(_SPACES)


def webhook_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the auth token, of the full
    URL followed by every POST parameter's name and value, sorted."""
    data = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(
    url: str, params: Iterable[tuple[str, str]], auth_token: str, signature: str
) -> bool:
    expected = webhook_signature(url, params, auth_token)
    return hmac.compare_digest(expected.encode(), signature.encode())
