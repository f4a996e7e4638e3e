"""Kannel's sms-service calling us: the shared secret, get-url queries, post-url bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.sms.inbound_fields import MAX_TEXT_CHARS
from channels.sms.kannel.inbound import MAX_QUERY_FIELDS, parse, verify_secret
from channels.sms.models import ConcatPart, ForbiddenSms, InvalidSms, SmsMessage
from normalizer.models import RawPayload

FIXTURES = Path(__file__).parent / "fixtures" / "kannel"
RECEIVED_AT = datetime(2026, 8, 14, 3, 0, 30, tzinfo=UTC)
SECRET = "kannel-rahasia-01"


class Delivery:
    """What the route hands over: the raw query, the body and the headers."""

    def __init__(
        self, query: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.query, self.body, self.headers = query, body, headers or {}

    @classmethod
    def load(cls, name: str) -> Delivery:
        """A get-url fixture is the query string as Kannel builds it; a post-url one is
        the whole HTTP request as Kannel sends it."""
        data = (FIXTURES / name).read_bytes()
        if name.endswith(".query"):
            return cls(data.decode("ascii"))
        head, _, body = data.partition(b"\r\n\r\n")
        request_line, *lines = head.decode("ascii").split("\r\n")
        query = request_line.split()[1].partition("?")[2]
        headers = dict(line.split(": ", 1) for line in lines)
        return cls(query, body, headers)

    def raw(self) -> RawPayload:
        content_type = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
        return RawPayload(content_type=content_type, body=self.body or self.query.encode())

    def parse(self) -> SmsMessage:
        return parse(self.query, self.body, self.headers, RECEIVED_AT, self.raw())

    def with_param(self, name: str, value: str | None) -> Delivery:
        """This delivery with one query parameter (percent-encoded already) replaced,
        added, or removed when `value` is None."""
        pairs = (pair.partition("=") for pair in self.query.split("&"))
        params = {**{key: old for key, _, old in pairs}, name: value}
        query = "&".join(f"{key}={new}" for key, new in params.items() if new is not None)
        return Delivery(query, self.body, self.headers)

    def with_header(self, name: str, value: str | None) -> Delivery:
        headers = {key: old for key, old in self.headers.items() if key != name}
        if value is not None:
            headers[name] = value
        return Delivery(self.query, self.body, headers)


def test_the_shared_secret_lets_kannel_in() -> None:
    verify_secret(SECRET, "kannel-rahasia-01")


@pytest.mark.parametrize(
    ("expected", "given"),
    [
        pytest.param(SECRET, None, id="missing"),
        pytest.param(SECRET, "", id="empty"),
        pytest.param(SECRET, "kannel-rahasia-02", id="wrong"),
        pytest.param(SECRET, SECRET[:-1], id="prefix"),
        pytest.param(SECRET, SECRET + "x", id="longer"),
        pytest.param(SECRET, "kannel-rahasiä-01", id="non-ascii"),
        pytest.param("", "", id="no-secret-configured"),
    ],
)
def test_any_other_secret_is_forbidden(expected: str, given: str | None) -> None:
    with pytest.raises(ForbiddenSms):
        verify_secret(expected, given)


def sms(**overrides: Any) -> dict[str, Any]:
    return {
        "gateway": "kannel",
        "sender": "+6281234567890",
        "recipient": "1708",
        "part": None,
        **overrides,
    }


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        pytest.param(
            "gsm7_utf8.query",
            sms(
                message_id="4d5b2a4e-1c3f-4a8e-9b7d-2f6e8c1a0b3d",
                text="Lampu jalan mati, denda €5 katanya",
            ),
            id="7bit-recoded-to-utf8",
        ),
        pytest.param(
            "gsm7_raw_no_charset.query",
            sms(
                message_id="9a0e7c41-5b2d-4f6a-8c3e-1d7b9f2a4c60",
                text="Kirim bukti ke budi@desa.id, pungli 5€ dan $10",
            ),
            id="7bit-raw-gsm-septets-without-charset",
        ),
        pytest.param(
            "ucs2_emoji.query",
            sms(message_id="c2f4a6e8-0b1d-4c3e-9f5a-7b8d0e2f4a61", text="Banjir 🌊 di RT 03"),
            id="ucs2-emoji",
        ),
        pytest.param(
            "multipart_part1.query",
            sms(
                message_id="1e3c5a79-2b4d-46f8-a0c2-e4f6a8b0c2d4",
                text="Jembatan di Desa Sukamaju retak dan ",
                part=ConcatPart(reference=0xCC, total=2, seq=1),
            ),
            id="part-1-of-2-udh",
        ),
        pytest.param(
            "post_utf8_part2.http",
            sms(
                message_id="7b9d1f3a-5c7e-4a0b-8d2f-4a6c8e0b2d4f",
                text="mohon segera diperbaiki. Terima kasih",
                part=ConcatPart(reference=0xCC, total=2, seq=2),
            ),
            id="post-url-kannel-1.4-percent-encoded-udh",
        ),
        pytest.param(
            "post_ucs2_hex_udh.http",
            sms(
                message_id=None,
                sender="+6281398765432",
                text="Air PDAM mati 💧",
                part=ConcatPart(reference=0x0102, total=3, seq=1),
            ),
            id="post-url-older-kannel-hex-udh-octet-stream",
        ),
    ],
)
def test_a_kannel_delivery_becomes_one_sms_or_part(fixture: str, expected: dict[str, Any]) -> None:
    delivery = Delivery.load(fixture)

    message = delivery.parse()

    assert message == SmsMessage(**expected, received_at=RECEIVED_AT, raw=delivery.raw())


def test_the_longest_text_we_take_is_accepted() -> None:
    text = "é" * MAX_TEXT_CHARS
    delivery = Delivery.load("ucs2_emoji.query").with_param("text", "%00%E9" * MAX_TEXT_CHARS)

    assert delivery.parse().text == text


def test_headers_are_read_whatever_their_case() -> None:
    delivery = Delivery.load("post_utf8_part2.http")
    lowered = Delivery(
        delivery.query, delivery.body, {k.lower(): v for k, v in delivery.headers.items()}
    )

    assert lowered.parse().model_dump(exclude={"raw"}) == delivery.parse().model_dump(
        exclude={"raw"}
    )


GET = Delivery.load("gsm7_utf8.query")
UCS2 = Delivery.load("ucs2_emoji.query")
POST = Delivery.load("post_utf8_part2.http")


@pytest.mark.parametrize(
    ("delivery", "field", "status"),
    [
        pytest.param(GET.with_param("charset", "X-NOT-A-CHARSET"), "charset", 422, id="charset"),
        pytest.param(GET.with_param("charset", "base64"), "charset", 422, id="charset-codec"),
        pytest.param(GET.with_param("udh", "%05%00%03"), "udh", 422, id="udh-short"),
        pytest.param(GET.with_param("udh", "%05%00%03%CC%02"), "udh", 422, id="udh-cut"),
        pytest.param(GET.with_param("coding", "7"), "coding", 422, id="coding-7"),
        pytest.param(GET.with_param("coding", "zero"), "coding", 422, id="coding-word"),
        pytest.param(GET.with_param("from", None), "from", 422, id="no-from"),
        pytest.param(GET.with_param("from", ""), "from", 422, id="blank-from"),
        pytest.param(GET.with_param("from", "6" * 200), "from", 422, id="from-200-chars"),
        pytest.param(GET.with_param("from", "%2B62%0A812"), "from", 422, id="from-newline"),
        pytest.param(GET.with_param("from", "%C3%A9"), "from", 422, id="from-non-ascii"),
        pytest.param(Delivery(GET.query + "&from=%2B6289999999999"), "from", 422, id="from-twice"),
        pytest.param(GET.with_param("to", "%3Cscript%3E"), "to", 422, id="to-markup"),
        pytest.param(GET.with_param("id", "a+b"), "id", 422, id="id-space"),
        pytest.param(GET.with_param("id", "f" * 65), "id", 422, id="id-too-long"),
        pytest.param(
            UCS2.with_param("text", "%00a" * (MAX_TEXT_CHARS + 1)), "text", 422, id="text-1601"
        ),
        pytest.param(GET.with_param("text", "x" * 10_001), "text", 422, id="text-10001"),
        pytest.param(UCS2.with_param("text", "%00a%00%00"), "text", 422, id="text-nul"),
        pytest.param(
            Delivery("&".join(f"p{n}=1" for n in range(MAX_QUERY_FIELDS + 1))),
            "query",
            400,
            id="too-many-parameters",
        ),
        pytest.param(POST.with_header("X-Kannel-From", None), "from", 422, id="post-no-sender"),
        pytest.param(POST.with_header("X-Kannel-UDH", "zz"), "udh", 422, id="post-udh-garbage"),
        pytest.param(
            POST.with_header("Content-Type", 'text/plain; charset="nope"'),
            "charset",
            422,
            id="post-unknown-charset",
        ),
        pytest.param(POST.with_header("X-Kannel-Coding", "3"), "coding", 422, id="post-coding"),
    ],
)
def test_a_bad_field_is_named_and_refused(delivery: Delivery, field: str, status: int) -> None:
    with pytest.raises(InvalidSms) as refused:
        delivery.parse()

    assert (refused.value.field, refused.value.status) == (field, status)
