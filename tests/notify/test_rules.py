"""Channel choice, inbound keywords, SMS segments and webhook signatures: pure rules."""

from __future__ import annotations

import pytest
from aptt_notify.domain.model import (
    Contact,
    Keyword,
    Preferences,
    classify_inbound,
    effective_language,
    inbox_status,
    plan_channels,
)
from aptt_platform.sms import count_segments, signature_matches, webhook_signature

PHONE = Contact(phone="+14155550100", language="en")
EMAIL = Contact(email="ana@example.org", language="es")
BOTH = Contact(phone="+14155550100", email="ana@example.org", language="es")
DEFAULT = Preferences()


def test_default_is_sms_when_a_phone_is_known_else_email() -> None:
    assert plan_channels(DEFAULT, PHONE, sms_opted_out=False).send == ("sms",)
    assert plan_channels(DEFAULT, EMAIL, sms_opted_out=False).send == ("email",)
    assert plan_channels(DEFAULT, BOTH, sms_opted_out=False).send == ("sms",)


def test_the_guardians_choice_overrides_the_default() -> None:
    both = Preferences(channels=("sms", "email"))
    assert plan_channels(both, BOTH, sms_opted_out=False).send == ("sms", "email")
    email_only = Preferences(channels=("email",))
    assert plan_channels(email_only, BOTH, sms_opted_out=False).send == ("email",)


def test_after_stop_email_takes_over_when_the_guardian_has_one() -> None:
    plan = plan_channels(DEFAULT, BOTH, sms_opted_out=True)
    assert (plan.send, plan.suppressed) == (("email",), ())
    chosen = plan_channels(Preferences(channels=("sms", "email")), BOTH, sms_opted_out=True)
    assert (chosen.send, chosen.suppressed) == (("email",), ("sms",))


def test_after_stop_without_email_only_the_inbox_is_left() -> None:
    plan = plan_channels(DEFAULT, PHONE, sms_opted_out=True)
    assert plan.inbox_only
    assert plan.suppressed == ("sms",)
    assert plan.reasons == {"sms": "opted-out"}
    sms_only = plan_channels(Preferences(channels=("sms",)), BOTH, sms_opted_out=True)
    assert sms_only.inbox_only, "an explicit SMS-only choice is respected: no email after STOP"


def test_a_chosen_channel_without_an_address_is_suppressed() -> None:
    plan = plan_channels(Preferences(channels=("email",)), PHONE, sms_opted_out=False)
    assert plan.inbox_only
    assert plan.reasons == {"email": "no-email"}


def test_language_preference_then_contact_then_school() -> None:
    assert effective_language(Preferences(language="es"), PHONE, "en") == "es"
    assert effective_language(DEFAULT, EMAIL, "en") == "es"
    assert effective_language(DEFAULT, None, "vi") == "vi"
    assert effective_language(DEFAULT, None, None) == "en"


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", Keyword.STOP),
        (" stop ", Keyword.STOP),
        ("Stop.", Keyword.STOP),
        ("STOPALL", Keyword.STOP),
        ("unsubscribe", Keyword.STOP),
        ("Cancel", Keyword.STOP),
        ("END", Keyword.STOP),
        ("quit", Keyword.STOP),
        ("START", Keyword.START),
        ("yes", Keyword.START),
        ("UNSTOP", Keyword.START),
        ("help", Keyword.HELP),
        ("INFO", Keyword.HELP),
        ("please stop texting me", None),
        ("Thanks!", None),
        ("", None),
    ],
)
def test_inbound_keywords(body: str, keyword: Keyword | None) -> None:
    assert classify_inbound(body) is keyword


@pytest.mark.parametrize(
    ("body", "encoding", "count"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),  # é, ñ, ü are in the GSM alphabet
        ("reunión" + "a" * 63, "UCS-2", 1),  # ó is not: the whole text is UCS-2
        ("reunión" + "a" * 64, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # a surrogate pair counts twice
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments(body: str, encoding: str, count: int) -> None:
    segments = count_segments(body)
    assert (segments.encoding, segments.count) == (encoding, count)


def test_webhook_signature_is_the_one_twilio_computes() -> None:
    # Twilio's published example (its security documentation).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    example = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    assert webhook_signature(url, example, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert webhook_signature(url, reversed(example), "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    url = "https://notify.example.org/v1/sms/inbound"
    params = [("From", "+14155550100"), ("Body", "STOP"), ("MessageSid", "SM1"), ("To", "+1")]
    token = "secret-token"
    signed = webhook_signature(url, params, token)
    assert signature_matches(url, params, token, signed)
    assert not signature_matches(url, params, "other-token", signed)
    tampered = [*params[:1], ("Body", "START"), *params[2:]]
    assert not signature_matches(url, tampered, token, signed)


def test_inbox_status_follows_the_deliveries() -> None:
    assert inbox_status("pending", []) == "pending"
    assert inbox_status("suppressed", []) == "suppressed"
    assert inbox_status("dispatched", ["pending"]) == "pending"
    assert inbox_status("dispatched", ["failed", "sent"]) == "sent"
    assert inbox_status("dispatched", ["failed", "failed"]) == "failed"
    assert inbox_status("dispatched", ["suppressed"]) == "suppressed"
    assert inbox_status("dispatched", []) == "sent"  # the guardian chose the app alone
