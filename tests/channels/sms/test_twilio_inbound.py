"""Twilio's incoming-message webhook: the signature, the form as Twilio posts it, TwiML."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from channels.sms.inbound_fields import MAX_TEXT_CHARS
from channels.sms.models import ForbiddenSms, InvalidSms, MediaRef, SmsMessage
from channels.sms.twilio.inbound import parse, twiml, verify_signature
from normalizer.models import RawPayload

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
RECEIVED_AT = datetime(2026, 8, 14, 3, 0, 5, tzinfo=UTC)
Params = list[tuple[str, str]]

# The worked example of Twilio's "Webhooks security" page: auth token, URL, the POST
# parameters of a <Gather>, and the X-Twilio-Signature Twilio sends for them.
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

WEBHOOK_URL = "https://lapor.ketapangkab.go.id/webhooks/sms/twilio"
TOKEN = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c"
ACCOUNT = "AC3f9c2b7d41e85a60b9d2c4e7f1a80b5c"
MMS_SID = "MMb2d4f6081a3c5e7092b4d6f8a1c3e5f7"


def form(name: str) -> Params:
    return parse_qsl((FIXTURES / name).read_text(), keep_blank_values=True, strict_parsing=True)


def raw(name: str) -> RawPayload:
    body = (FIXTURES / name).read_bytes()
    return RawPayload(content_type="application/x-www-form-urlencoded", body=body)


def twilio_signature(token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """The algorithm as Twilio's security page states it, written independently of the
    SDK: the URL, then each name and value sorted (by name, then value), HMAC-SHA1."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def edited(params: Params, changes: Mapping[str, str | None]) -> Params:
    """`params` with fields replaced in place, removed (None) or appended (new names)."""
    kept = [(name, changes.get(name, value)) for name, value in params]
    added = [(name, value) for name, value in changes.items() if name not in dict(params)]
    return [(name, value) for name, value in kept + added if value is not None]


def media_url(media_sid: str) -> str:
    return (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS_SID}/Media/{media_sid}"
    )


def test_our_signature_oracle_reproduces_twilios_documented_example() -> None:
    assert twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS) == DOC_SIGNATURE


@pytest.mark.parametrize(
    ("url", "params", "signature"),
    [
        pytest.param(DOC_URL, DOC_PARAMS, DOC_SIGNATURE, id="twilio-documented-example"),
        pytest.param(
            DOC_URL, list(reversed(DOC_PARAMS)), DOC_SIGNATURE, id="documented-any-param-order"
        ),
        pytest.param(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            DOC_PARAMS,
            DOC_SIGNATURE,
            id="signed-without-port-checked-with-443",
        ),
        pytest.param(
            WEBHOOK_URL,
            form("sms.form"),
            twilio_signature(
                TOKEN, "https://lapor.ketapangkab.go.id:443/webhooks/sms/twilio", form("sms.form")
            ),
            id="signed-with-port-checked-without",
        ),
        pytest.param(
            WEBHOOK_URL,
            form("mms_two_media.form"),
            twilio_signature(TOKEN, WEBHOOK_URL, form("mms_two_media.form")),
            id="fixture-mms",
        ),
        pytest.param(
            WEBHOOK_URL,
            [("Body", "a"), ("Tag", "zeta"), ("Tag", "alpha")],
            twilio_signature(
                TOKEN, WEBHOOK_URL, [("Body", "a"), ("Tag", "zeta"), ("Tag", "alpha")]
            ),
            id="repeated-key-every-value-signed",
        ),
    ],
)
def test_a_genuine_signature_is_accepted(url: str, params: Params, signature: str) -> None:
    token = DOC_TOKEN if url.startswith("https://mycompany.com") else TOKEN
    verify_signature(token, url, params, signature)


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        pytest.param(DOC_TOKEN, DOC_URL, DOC_PARAMS, "1/KCTR6DLpKmkAf8muzZqo1nDgQ=", id="wrong"),
        pytest.param(
            DOC_TOKEN,
            DOC_URL,
            edited(DOC_PARAMS, {"Digits": "9999"}),
            DOC_SIGNATURE,
            id="signature-of-other-params",
        ),
        pytest.param(
            DOC_TOKEN, DOC_URL, [*DOC_PARAMS, ("Body", "x")], DOC_SIGNATURE, id="param-added"
        ),
        pytest.param(DOC_TOKEN, DOC_URL, DOC_PARAMS, None, id="missing-header"),
        pytest.param(DOC_TOKEN, DOC_URL, DOC_PARAMS, "", id="empty-header"),
        pytest.param(
            DOC_TOKEN,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            DOC_PARAMS,
            DOC_SIGNATURE,
            id="http-instead-of-https",
        ),
        pytest.param(
            DOC_TOKEN,
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            DOC_PARAMS,
            DOC_SIGNATURE,
            id="other-query",
        ),
        pytest.param("54321", DOC_URL, DOC_PARAMS, DOC_SIGNATURE, id="other-auth-token"),
        pytest.param(
            "",
            WEBHOOK_URL,
            DOC_PARAMS,
            twilio_signature("", WEBHOOK_URL, DOC_PARAMS),
            id="no-auth-token-configured",
        ),
        pytest.param(
            TOKEN,
            WEBHOOK_URL,
            [("Body", "a"), ("Tag", "alpha")],
            twilio_signature(
                TOKEN, WEBHOOK_URL, [("Body", "a"), ("Tag", "zeta"), ("Tag", "alpha")]
            ),
            id="repeated-key-value-dropped",
        ),
    ],
)
def test_anything_else_is_forbidden(
    token: str, url: str, params: Params, signature: str | None
) -> None:
    with pytest.raises(ForbiddenSms):
        verify_signature(token, url, params, signature)


def sms(**fields: Any) -> dict[str, Any]:
    return {"gateway": "twilio", "recipient": "+6285574001708", "part": None, **fields}


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        pytest.param(
            "sms.form",
            sms(
                message_id="SM8a1f0c3e5d7b9246a1c3e5f7092b4d6e",
                sender="+6281234567890",
                text="Jalan di Desa Sukamaju rusak parah & berlubang <50cm>, mohon diperbaiki.",
            ),
            id="sms",
        ),
        pytest.param(
            "mms_two_media.form",
            sms(
                message_id=MMS_SID,
                sender="+6281398765432",
                text="Sampah menumpuk di pasar, foto dan video terlampir",
                media=(
                    MediaRef(
                        url=media_url("ME1c3e5a7092b4d6f8a1c3e5f7092b4d6f"),
                        content_type="image/jpeg",
                    ),
                    MediaRef(
                        url=media_url("ME2d4f6b8103c5e7092b4d6f8a1c3e5f70"),
                        content_type="video/mp4",
                    ),
                ),
            ),
            id="mms-two-media",
        ),
        pytest.param(
            "mms_photo_only.form",
            sms(
                message_id=MMS_SID,
                sender="+6281398765432",
                text="",
                media=(
                    MediaRef(
                        url=media_url("ME1c3e5a7092b4d6f8a1c3e5f7092b4d6f"),
                        content_type="image/jpeg",
                    ),
                ),
            ),
            id="mms-photo-without-text",
        ),
    ],
)
def test_a_twilio_form_becomes_one_sms(fixture: str, expected: dict[str, Any]) -> None:
    message = parse(form(fixture), RECEIVED_AT, raw(fixture))

    assert message == SmsMessage(**expected, received_at=RECEIVED_AT, raw=raw(fixture))


def test_the_longest_body_we_take_is_accepted() -> None:
    body = "a" * MAX_TEXT_CHARS

    message = parse(edited(form("sms.form"), {"Body": body}), RECEIVED_AT, raw("sms.form"))

    assert message.text == body


def test_smssid_stands_in_for_a_missing_messagesid() -> None:
    params = edited(form("sms.form"), {"MessageSid": None, "SmsMessageSid": None})

    assert parse(params, RECEIVED_AT, raw("sms.form")).message_id == dict(params)["SmsSid"]


SMS_FORM = form("sms.form")
MMS_FORM = form("mms_two_media.form")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param(edited(SMS_FORM, {"From": None}), "From", id="no-from"),
        pytest.param(edited(SMS_FORM, {"From": ""}), "From", id="blank-from"),
        pytest.param(edited(SMS_FORM, {"From": "+62" + "1" * 197}), "From", id="from-200-chars"),
        pytest.param(edited(SMS_FORM, {"From": "+6281\x00234567"}), "From", id="from-nul"),
        pytest.param(edited(SMS_FORM, {"From": "<script>"}), "From", id="from-markup"),
        pytest.param([*SMS_FORM, ("From", "+6289999999999")], "From", id="from-twice"),
        pytest.param(edited(SMS_FORM, {"To": "+62\n81"}), "To", id="to-newline"),
        pytest.param(
            edited(SMS_FORM, {"MessageSid": None, "SmsSid": None}), "MessageSid", id="no-sid"
        ),
        pytest.param(edited(SMS_FORM, {"MessageSid": "SM123"}), "MessageSid", id="short-sid"),
        pytest.param(edited(SMS_FORM, {"AccountSid": None}), "AccountSid", id="no-account"),
        pytest.param(
            edited(SMS_FORM, {"AccountSid": "AC" + "z" * 32}), "AccountSid", id="account-not-hex"
        ),
        pytest.param(
            edited(SMS_FORM, {"Body": "a" * (MAX_TEXT_CHARS + 1)}), "Body", id="body-too-long"
        ),
        pytest.param(edited(SMS_FORM, {"Body": "x" * 10_001}), "Body", id="body-10001"),
        pytest.param(edited(SMS_FORM, {"Body": "ada\x07bel"}), "Body", id="body-control"),
        pytest.param(edited(SMS_FORM, {"NumMedia": "abc"}), "NumMedia", id="num-media-word"),
        pytest.param(edited(SMS_FORM, {"NumMedia": "-1"}), "NumMedia", id="num-media-negative"),
        pytest.param(edited(SMS_FORM, {"NumMedia": "11"}), "NumMedia", id="num-media-over-10"),
        pytest.param(edited(SMS_FORM, {"NumMedia": "1.0"}), "NumMedia", id="num-media-decimal"),
        pytest.param(edited(SMS_FORM, {"NumMedia": "٢"}), "NumMedia", id="num-media-arabic-2"),
        pytest.param(edited(SMS_FORM, {"NumMedia": " 1"}), "NumMedia", id="num-media-space"),
        pytest.param(edited(SMS_FORM, {"NumMedia": "1"}), "MediaUrl0", id="media-url-missing"),
        pytest.param(
            edited(MMS_FORM, {"MediaContentType1": None}),
            "MediaContentType1",
            id="media-type-missing",
        ),
        pytest.param(
            edited(MMS_FORM, {"MediaUrl0": "http://api.twilio.com/x.jpg"}),
            "MediaUrl0",
            id="media-url-http",
        ),
        pytest.param(
            edited(MMS_FORM, {"MediaUrl1": "javascript:alert(1)"}), "MediaUrl1", id="media-url-js"
        ),
        pytest.param(
            edited(MMS_FORM, {"MediaUrl0": "https://[::1/x"}), "MediaUrl0", id="media-url-broken"
        ),
        pytest.param(
            edited(MMS_FORM, {"MediaUrl0": "https://a.example/" + "x" * 2048}),
            "MediaUrl0",
            id="media-url-too-long",
        ),
        pytest.param(
            edited(MMS_FORM, {"MediaContentType0": "image/jpeg\r\nX-Evil: 1"}),
            "MediaContentType0",
            id="media-type-header-injection",
        ),
    ],
)
def test_a_bad_field_is_named_and_refused(params: Params, field: str) -> None:
    with pytest.raises(InvalidSms) as refused:
        parse(params, RECEIVED_AT, raw("sms.form"))

    assert (refused.value.field, refused.value.status) == (field, 422)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        pytest.param(None, '<?xml version="1.0" encoding="UTF-8"?><Response />', id="nothing"),
        pytest.param("", '<?xml version="1.0" encoding="UTF-8"?><Response />', id="empty"),
        pytest.param(
            "Laporan diterima. Nomor: K7M2XQ9PD",
            '<?xml version="1.0" encoding="UTF-8"?>'
            "<Response><Message>Laporan diterima. Nomor: K7M2XQ9PD</Message></Response>",
            id="reply",
        ),
        pytest.param(
            'Anda menulis "<b>Tom & Jerry</b>"',
            '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
            'Anda menulis "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"</Message></Response>',
            id="citizen-markup-escaped",
        ),
    ],
)
def test_twiml_answers_with_one_message_or_none(reply: str | None, expected: str) -> None:
    assert twiml(reply) == expected


@pytest.mark.parametrize(
    ("reply", "text"),
    [
        pytest.param('<Say>&amp;"</Say>', '<Say>&amp;"</Say>', id="markup-round-trips"),
        pytest.param("Nomor\x01 K7M2\x1b", "Nomor K7M2", id="control-chars-dropped"),
        pytest.param("Banjir 🌊\nRT 03", "Banjir 🌊\nRT 03", id="emoji-and-newline-kept"),
    ],
)
def test_twiml_is_well_formed_whatever_the_reply_holds(reply: str, text: str) -> None:
    message = ET.fromstring(twiml(reply)).find("Message")

    assert message is not None
    assert message.text == text


# What XML can carry (the control characters it cannot are dropped, tested above).
_XML_CHARS = st.characters(
    exclude_categories=["Cs"],
    exclude_characters=[c for c in map(chr, range(32)) if c not in "\t\n\r"] + ["\ufffe", "\uffff"],
)


@given(st.text(_XML_CHARS))
def test_twiml_is_what_twilios_own_library_writes(reply: str) -> None:
    expected = MessagingResponse()
    if reply:
        expected.message(reply)
    assert twiml(reply) == str(expected.to_xml())
