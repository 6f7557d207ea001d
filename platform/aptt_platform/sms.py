"""SMS facts every part of the system counts the same way: segments and webhook signatures.

Segments are counted as carriers (and Twilio's `num_segments`) count them. A body that fits
the GSM 03.38 alphabet is sent as GSM-7: 160 septets in one segment, 153 per segment once
split (the rest is the concatenation header); characters of the extension table take two
septets and an escape pair is never split across segments. Any other character switches the
whole message to UCS-2: 70 UTF-16 code units, 67 per segment when split, and a surrogate pair
is never split either. Twilio's optional "smart encoding" is off, as it is by default.

The notify service stores the count per SMS; the local SMS stand-in reports it as Twilio
does. Both sign and check webhooks with `webhook_signature`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
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


Params = Mapping[str, str] | Iterable[tuple[str, str]]


def webhook_signature(url: str, params: Params, auth_token: str) -> str:
    """Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the auth token, of the full
    URL followed by every POST parameter's name and value, sorted by name then value; a
    repeated pair counts once, as in Twilio's own helper libraries."""
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    data = url + "".join(name + value for name, value in sorted(set(pairs)))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(url: str, params: Params, auth_token: str, signature: str) -> bool:
    expected = webhook_signature(url, params, auth_token)
    return hmac.compare_digest(expected.encode(), signature.encode())
