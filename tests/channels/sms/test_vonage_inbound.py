"""Vonage's inbound-SMS webhook: signed requests, and the fields of each delivery."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from channels.sms.inbound_fields import MAX_TEXT_CHARS
from channels.sms.models import ConcatPart, ForbiddenSms, InvalidSms, SmsMessage
from channels.sms.vonage.inbound import MAX_CLOCK_SKEW, RETRY_PERIOD, parse, verify_signature
from normalizer.models import RawPayload

FIXTURES = Path(__file__).parent / "fixtures" / "vonage"
RECEIVED_AT = datetime(2026, 8, 14, 3, 0, 20, tzinfo=UTC)
SECRET = "Zk8wQ3rT6yP1sV4n"
SIGNED_AT = datetime(2026, 8, 14, 3, 0, tzinfo=UTC)  # the fixtures' timestamp=1786676400
CONTENT_TYPES = {
    "query": "application/x-www-form-urlencoded",
    "form": "application/x-www-form-urlencoded; charset=UTF-8",
    "json": "application/json",
}
Params = dict[str, str]


def fields(name: str) -> Params:
    """The flat mapping the route makes of a GET query, a POST form or a POST JSON body."""
    text = (FIXTURES / name).read_text()
    if name.endswith(".json"):
        loaded: Params = json.loads(text)
        return loaded
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))


def raw(name: str) -> RawPayload:
    content_type = CONTENT_TYPES[name.rpartition(".")[2]]
    return RawPayload(content_type=content_type, body=(FIXTURES / name).read_bytes())


def edited(params: Params, changes: Mapping[str, str | None]) -> Params:
    """`params` with fields replaced or added, or removed where the change is None."""
    merged = {**params, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


SIGNED = [
    pytest.param("signed_md5hash.query", "md5hash", id="md5hash-get"),
    pytest.param("signed_md5.query", "md5", id="hmac-md5-get"),
    pytest.param("signed_sha1.form", "sha1", id="hmac-sha1-post-form"),
    pytest.param("signed_sha256.json", "sha256", id="hmac-sha256-post-json"),
    pytest.param("signed_sha512.query", "sha512", id="hmac-sha512-get"),
]


@pytest.mark.parametrize(("fixture", "method"), SIGNED)
def test_a_delivery_signed_with_each_method_verifies(fixture: str, method: str) -> None:
    verify_signature(fields(fixture), SECRET, method, SIGNED_AT + timedelta(seconds=20))


@pytest.mark.parametrize(("fixture", "method"), SIGNED)
def test_upper_case_signatures_verify_too(fixture: str, method: str) -> None:
    params = fields(fixture)

    verify_signature(edited(params, {"sig": params["sig"].upper()}), SECRET, method, SIGNED_AT)


# Known-good vectors from Vonage's own SDK test suites: the legacy "MD5 hash" one from
# the Python SDK 2.x/3.x, the HMAC ones from vonage_http_client (SDK 4.x).
SDK_VECTORS = [
    pytest.param(
        {"a": "1", "b": "2", "timestamp": "1461605396", "sig": "6af838ef94998832dbfc29020b564830"},
        "secret",
        "md5hash",
        id="sdk-md5hash",
    ),
    pytest.param(
        {"param": "value", "timestamp": "1234567890", "sig": "655a4d0b7f064dff438defc52b012cf5"},
        "signature_secret",
        "md5",
        id="sdk-hmac-md5",
    ),
    pytest.param(
        {
            "param1": "value1",
            "param2": "value2",
            "timestamp": "1234567890",
            "sig": "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287",
        },
        "signature_secret",
        "sha256",
        id="sdk-hmac-sha256",
    ),
    pytest.param(
        {
            "param1": "value&1",
            "param2": "value=2",
            "timestamp": "1234567890",
            "sig": "2bbf0abafb2c55e5af6231513896a2ac",
        },
        "signature_secret",
        "md5",
        id="sdk-hmac-md5-ampersand-and-equals-in-values",
    ),
]


@pytest.mark.parametrize(("params", "secret", "method"), SDK_VECTORS)
def test_vonage_sdk_vectors_verify(params: Params, secret: str, method: str) -> None:
    signed_at = datetime.fromtimestamp(int(params["timestamp"]), UTC)

    verify_signature(params, secret, method, signed_at)


SHA256 = fields("signed_sha256.json")


@pytest.mark.parametrize(
    ("params", "secret", "method", "now"),
    [
        pytest.param(edited(SHA256, {"sig": None}), SECRET, "sha256", SIGNED_AT, id="no-sig"),
        pytest.param(edited(SHA256, {"sig": ""}), SECRET, "sha256", SIGNED_AT, id="empty-sig"),
        pytest.param(
            edited(SHA256, {"sig": "0" + SHA256["sig"][1:]}),
            SECRET,
            "sha256",
            SIGNED_AT,
            id="wrong-sig",
        ),
        pytest.param(
            edited(SHA256, {"sig": SHA256["sig"] + "é"}),
            SECRET,
            "sha256",
            SIGNED_AT,
            id="non-ascii-sig",
        ),
        pytest.param(
            edited(SHA256, {"text": "Tidak ada pungutan"}),
            SECRET,
            "sha256",
            SIGNED_AT,
            id="signature-of-other-text",
        ),
        pytest.param(
            edited(SHA256, {"msisdn": "6289999999999"}),
            SECRET,
            "sha256",
            SIGNED_AT,
            id="signature-of-other-sender",
        ),
        pytest.param(
            edited(SHA256, {"concat": "true"}), SECRET, "sha256", SIGNED_AT, id="param-added"
        ),
        pytest.param(SHA256, "another-secret", "sha256", SIGNED_AT, id="other-secret"),
        pytest.param(SHA256, SECRET, "sha512", SIGNED_AT, id="other-method"),
        pytest.param(SHA256, "", "sha256", SIGNED_AT, id="no-secret-configured"),
        pytest.param(
            edited(SHA256, {"timestamp": None}), SECRET, "sha256", SIGNED_AT, id="no-timestamp"
        ),
        pytest.param(
            edited(SHA256, {"timestamp": "soon"}), SECRET, "sha256", SIGNED_AT, id="timestamp-word"
        ),
        pytest.param(
            edited(SHA256, {"timestamp": "１７８６６７６４００"}),
            SECRET,
            "sha256",
            SIGNED_AT,
            id="timestamp-fullwidth-digits",
        ),
        pytest.param(
            edited(SHA256, {"timestamp": "9" * 5000}),
            SECRET,
            "sha256",
            SIGNED_AT,
            id="timestamp-5000-digits",
        ),
        pytest.param(
            SHA256,
            SECRET,
            "sha256",
            SIGNED_AT + RETRY_PERIOD + MAX_CLOCK_SKEW + timedelta(seconds=1),
            id="older-than-vonage-retries",
        ),
        pytest.param(
            SHA256,
            SECRET,
            "sha256",
            SIGNED_AT - MAX_CLOCK_SKEW - timedelta(seconds=1),
            id="from-the-future",
        ),
    ],
)
def test_anything_else_is_forbidden(
    params: Params, secret: str, method: str, now: datetime
) -> None:
    with pytest.raises(ForbiddenSms):
        verify_signature(params, secret, method, now)


@pytest.mark.parametrize(
    "now",
    [
        SIGNED_AT - MAX_CLOCK_SKEW,  # our clock five minutes behind Vonage's
        SIGNED_AT + timedelta(minutes=10),
        SIGNED_AT + timedelta(hours=23, minutes=59),  # Vonage's last retries, a day late
        SIGNED_AT + RETRY_PERIOD + MAX_CLOCK_SKEW,
    ],
)
def test_a_delivery_is_taken_as_long_as_vonage_retries_it(now: datetime) -> None:
    verify_signature(SHA256, SECRET, "sha256", now)


def test_a_replayed_delivery_is_refused_even_with_a_fresh_timestamp() -> None:
    # Changing the timestamp to pass the freshness check breaks the signature instead.
    replayed = edited(SHA256, {"timestamp": unix(RECEIVED_AT + timedelta(hours=1))})

    with pytest.raises(ForbiddenSms):
        verify_signature(replayed, SECRET, "sha256", RECEIVED_AT + timedelta(hours=1))


@pytest.mark.parametrize("method", ["sha384", "hmac-sha256", "md5 hash", ""])
def test_an_unknown_method_is_a_configuration_error(method: str) -> None:
    with pytest.raises(ValueError, match="unknown Vonage signature method"):
        verify_signature(SHA256, SECRET, method, SIGNED_AT)


def test_the_method_name_forgives_case_and_padding_from_settings() -> None:
    verify_signature(fields("signed_md5hash.query"), SECRET, " MD5Hash ", SIGNED_AT)


def sms(**overrides: Any) -> dict[str, Any]:
    return {
        "gateway": "vonage",
        "sender": "+6281234567890",
        "recipient": "6285574001708",
        "part": None,
        **overrides,
    }


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        pytest.param(
            "single.query",
            sms(message_id="1700000A1B2C3D4E", text="Lampu jalan mati di Jl. Merdeka sejak 3 hari"),
            id="single-get",
        ),
        pytest.param(
            "concat_part1.form",
            sms(
                message_id="1700000A1B2C3D51",
                text="Saya ingin melaporkan bahwa jembatan penghubung antara Desa Sukamaju dan "
                "Desa Sukajadi sudah retak di beberapa bagian dan sangat berbahaya bagi "
                "anak-anak sekol",
                part=ConcatPart(reference=108, total=3, seq=1),
            ),
            id="part-1-of-3",
        ),
        pytest.param(
            "concat_part2.form",
            sms(
                message_id="1700000A1B2C3D52",
                text="ah yang melewatinya setiap pagi. Kemarin sore sebuah sepeda motor hampir "
                "terperosok karena papan lantainya lepas. Mohon dinas terkait segera "
                "meninjau lokas",
                part=ConcatPart(reference=108, total=3, seq=2),
            ),
            id="part-2-of-3",
        ),
        pytest.param(
            "concat_part3.form",
            sms(
                message_id="1700000A1B2C3D53",
                text="i dan memperbaikinya sebelum musim hujan. Terima kasih.",
                part=ConcatPart(reference=108, total=3, seq=3),
            ),
            id="part-3-of-3",
        ),
        pytest.param(
            "unicode_emoji.json",
            sms(
                message_id="1700000A1B2C3D60",
                sender="+6281398765432",
                text="Banjir 🌊 setinggi lutut di RT 03, warga butuh bantuan 🙏",
            ),
            id="unicode-emoji-json",
        ),
        pytest.param(
            "signed_sha1.form",
            sms(
                message_id="1700000A1B2C3D82",
                text="Pungutan liar di kantor desa: biaya KTP Rp50.000 & KK Rp100.000 (a=b)",
            ),
            id="signed",
        ),
    ],
)
def test_a_vonage_delivery_becomes_one_sms_or_part(fixture: str, expected: dict[str, Any]) -> None:
    message = parse(fields(fixture), RECEIVED_AT, raw(fixture))

    assert message == SmsMessage(**expected, received_at=RECEIVED_AT, raw=raw(fixture))


@pytest.mark.parametrize("text", [None, "", "  "])
def test_an_empty_sms_is_still_an_sms(text: str | None) -> None:
    """A pocket send is answered (with help), not refused: Vonage would retry a 4xx."""
    message = parse(edited(SINGLE, {"text": text}), RECEIVED_AT, raw("single.query"))
    assert message.text == (text or "")


def test_concat_other_than_true_is_a_whole_message() -> None:
    params = edited(fields("concat_part1.form"), {"concat": "false"})

    assert parse(params, RECEIVED_AT, raw("concat_part1.form")).part is None


SINGLE = fields("single.query")
PART = fields("concat_part2.form")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param(fields("binary.query"), "type", id="binary"),
        pytest.param(edited(SINGLE, {"type": None}), "type", id="no-type"),
        pytest.param(edited(SINGLE, {"type": "wap"}), "type", id="unknown-type"),
        pytest.param(edited(SINGLE, {"msisdn": None}), "msisdn", id="no-msisdn"),
        pytest.param(edited(SINGLE, {"msisdn": "62" * 100}), "msisdn", id="msisdn-200-chars"),
        pytest.param(edited(SINGLE, {"msisdn": "62812\x1b3"}), "msisdn", id="msisdn-escape"),
        pytest.param(edited(SINGLE, {"to": "62 812;DROP"}), "to", id="to-punctuation"),
        pytest.param(edited(SINGLE, {"messageId": None}), "messageId", id="no-message-id"),
        pytest.param(edited(SINGLE, {"messageId": "a b"}), "messageId", id="message-id-space"),
        pytest.param(edited(SINGLE, {"messageId": "A" * 65}), "messageId", id="message-id-long"),
        pytest.param(
            edited(SINGLE, {"text": "a" * (MAX_TEXT_CHARS + 1)}), "text", id="text-too-long"
        ),
        pytest.param(edited(SINGLE, {"text": "x" * 10_001}), "text", id="text-10001"),
        pytest.param(edited(SINGLE, {"text": "nul\x00byte"}), "text", id="text-nul"),
        pytest.param(edited(SINGLE, {"text": "lone \ud83c"}), "text", id="text-lone-surrogate"),
        pytest.param(edited(PART, {"concat-ref": None}), "concat-ref", id="no-concat-ref"),
        pytest.param(edited(PART, {"concat-ref": "70000"}), "concat-ref", id="ref-over-16-bit"),
        pytest.param(edited(PART, {"concat-ref": "-1"}), "concat-ref", id="ref-negative"),
        pytest.param(edited(PART, {"concat-total": "x"}), "concat-total", id="total-word"),
        pytest.param(edited(PART, {"concat-total": "1"}), "concat-total", id="total-one"),
        pytest.param(edited(PART, {"concat-total": "256"}), "concat-total", id="total-256"),
        pytest.param(edited(PART, {"concat-total": "３"}), "concat-total", id="total-fullwidth"),
        pytest.param(edited(PART, {"concat-part": "0"}), "concat-part", id="part-zero"),
        pytest.param(edited(PART, {"concat-part": "4"}), "concat-part", id="part-past-total"),
        pytest.param(edited(PART, {"concat-part": ""}), "concat-part", id="part-blank"),
    ],
)
def test_a_bad_field_is_named_and_refused(params: Params, field: str) -> None:
    with pytest.raises(InvalidSms) as refused:
        parse(params, RECEIVED_AT, raw("single.query"))

    assert (refused.value.field, refused.value.status) == (field, 422)


def test_binary_messages_are_refused_as_unsupported() -> None:
    with pytest.raises(InvalidSms, match="binary messages are not supported"):
        parse(fields("binary.query"), RECEIVED_AT, raw("binary.query"))
