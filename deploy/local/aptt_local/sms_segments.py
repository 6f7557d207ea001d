"""SMS segment counting the way carriers (and Twilio's `num_segments`) count.

A body that fits the GSM 03.38 alphabet is sent as GSM-7: 160 septets in one segment, 153 per
segment once split (the rest is the concatenation header); characters of the extension table
take two septets and an escape pair is never split across segments. Any other character
switches the whole message to UCS-2: 70 UTF-16 code units, 67 per segment when split, and a
surrogate pair is never split either. Twilio's optional "smart encoding" (replacing curly
quotes and the like) is off here, as it is by default for a plain API send.
"""

from __future__ import annotations

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
    total = sum(unit_sizes)
    if total <= single:
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
