from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from config.profile import Profile
from normalizer.models import (
    Attachment,
    Channel,
    Classification,
    Inbound,
    RawPayload,
    ReplyAddress,
    Reporter,
)
from normalizer.normalize import normalize
from normalizer.phone import InvalidPhone
from tests.profiles import make_profile

WITA = timezone(timedelta(hours=8))
RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=WITA)


@pytest.fixture(scope="module")
def profile() -> Profile:
    return make_profile(
        [
            {
                "code": "jalan_rusak",
                "name": "Jalan Rusak",
                "agency": "PUPR",
                "keywords": ["jalan rusak", "jalan berlubang"],
            },
            {
                "code": "kesehatan",
                "name": "Kesehatan",
                "agency": "DINKES",
                "keywords": ["puskesmas"],
            },
        ],
        {"PUPR": "Dinas Pekerjaan Umum", "DINKES": "Dinas Kesehatan"},
        regency="soppeng",
    )


def inbound(**fields: Any) -> Inbound:
    values: dict[str, Any] = {
        "channel": Channel.WEB,
        "text": "Jalan rusak di depan pasar",
        "received_at": RECEIVED,
    }
    values.update(fields)
    return Inbound(**values)


def test_text_is_cleaned_and_the_original_kept(profile: Profile) -> None:
    raw = "  Jalan\u200b rusak\r\n\r\n\r\ndi  depan pasar\x00 "
    draft = normalize(inbound(text=raw), profile)
    assert draft.text == "Jalan rusak\n\ndi depan pasar"
    assert draft.text_original == raw


@pytest.mark.parametrize("text", ["", "   ", "\u200b\x00\n\t", "\ufeff"])
def test_empty_text_is_refused(profile: Profile, text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        normalize(inbound(text=text), profile)


def test_reporter_is_normalised(profile: Profile) -> None:
    reporter = Reporter(name="  Andi\u00a0 Baso ", phone="0812 3456 7890", email=" Andi@Mail.ID ")
    draft = normalize(inbound(reporter=reporter), profile)
    assert draft.reporter == Reporter(
        name="Andi Baso", phone="+6281234567890", email="andi@mail.id"
    )


def test_blank_reporter_fields_become_none(profile: Profile) -> None:
    draft = normalize(inbound(reporter=Reporter(name=" \u200b", phone="  ", email="")), profile)
    assert draft.reporter == Reporter()
    assert draft.reply_to is None


def test_an_invalid_reporter_phone_is_refused(profile: Profile) -> None:
    with pytest.raises(InvalidPhone):
        normalize(inbound(reporter=Reporter(phone="nomor saya")), profile)


@pytest.mark.parametrize(
    ("channel", "sender"),
    [
        (Channel.SMS, "+6281234567890"),
        (Channel.X, "1234567890"),
        (Channel.EMAIL, "Warga@Example.org"),
        (Channel.TELEGRAM, "987654321"),
    ],
)
def test_messaging_channels_reply_to_the_sender(
    profile: Profile, channel: Channel, sender: str
) -> None:
    reporter = Reporter(phone="0813 0000 1111", email="lain@example.org")
    draft = normalize(inbound(channel=channel, sender=sender, reporter=reporter), profile)
    assert draft.reply_to == ReplyAddress(channel=channel, address=sender)


@pytest.mark.parametrize("channel", [Channel.WEB, Channel.APP, Channel.WALKIN, Channel.PHONE])
def test_other_channels_prefer_email_then_phone(profile: Profile, channel: Channel) -> None:
    both = Reporter(phone="0813 0000 1111", email="Warga@Example.org")
    phone_only = Reporter(phone="0813 0000 1111")

    def reply_to(reporter: Reporter) -> ReplyAddress | None:
        # the sender is ignored on these channels: the reporter's contact is what counts
        return normalize(inbound(channel=channel, sender="x", reporter=reporter), profile).reply_to

    assert reply_to(both) == ReplyAddress(channel=Channel.EMAIL, address="warga@example.org")
    assert reply_to(phone_only) == ReplyAddress(channel=Channel.SMS, address="+6281300001111")
    assert reply_to(Reporter(name="Andi")) is None


@pytest.mark.parametrize("sender", [None, "", "  "])
def test_messaging_channel_without_sender_falls_back_to_contact(
    profile: Profile, sender: str | None
) -> None:
    reporter = Reporter(phone="0813 0000 1111")
    draft = normalize(inbound(channel=Channel.TELEGRAM, sender=sender, reporter=reporter), profile)
    assert draft.reply_to == ReplyAddress(channel=Channel.SMS, address="+6281300001111")


def test_received_at_is_converted_to_utc(profile: Profile) -> None:
    draft = normalize(inbound(), profile)
    assert draft.received_at == RECEIVED
    assert draft.received_at.utcoffset() == timedelta(0)
    assert draft.received_at == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_classification_defaults_to_pengaduan(profile: Profile) -> None:
    assert normalize(inbound(), profile).classification is Classification.PENGADUAN
    given = inbound(classification=Classification.ASPIRASI)
    assert normalize(given, profile).classification is Classification.ASPIRASI


def test_category_is_guessed_from_the_cleaned_text(profile: Profile) -> None:
    assert normalize(inbound(text="Jalan\u200b rusak parah"), profile).category == "jalan_rusak"
    assert normalize(inbound(text="Antrean PUSKESMAS lama"), profile).category == "kesehatan"
    assert normalize(inbound(text="Tidak ada kata kunci"), profile).category is None


def test_given_category_is_kept(profile: Profile) -> None:
    draft = normalize(inbound(text="Antrean puskesmas lama", category="jalan_rusak"), profile)
    assert draft.category == "jalan_rusak"


@pytest.mark.parametrize(
    ("location", "expected"),
    [(None, None), (" \u200b ", None), (" Jl.  Kemakmuran\t", "Jl. Kemakmuran")],
)
def test_location_is_cleaned(profile: Profile, location: str | None, expected: str | None) -> None:
    assert normalize(inbound(location=location), profile).location == expected


def test_everything_else_is_copied(profile: Profile) -> None:
    attachment = Attachment(filename="foto.jpg", content_type="image/jpeg", size=3, sha256="a" * 64)
    raw = RawPayload(content_type="application/json", body=b"{}")
    source = inbound(
        channel=Channel.WALKIN,
        external_id="desk-17",
        request_hash="f" * 64,
        anonymous=True,
        confidential=True,
        incident_date=date(2026, 2, 27),
        attachments=(attachment,),
        raw=raw,
        logged_by="petugas-3",
    )
    draft = normalize(source, profile)
    assert draft.channel is Channel.WALKIN
    assert draft.external_id == "desk-17"
    assert draft.request_hash == "f" * 64
    assert draft.anonymous and draft.confidential
    assert draft.incident_date == date(2026, 2, 27)
    assert draft.attachments == (attachment,)
    assert draft.raw == raw
    assert draft.logged_by == "petugas-3"
    assert draft.profile == "soppeng"


def test_normalize_is_deterministic(profile: Profile) -> None:
    source = inbound(reporter=Reporter(name="Andi", phone="08123456789"))
    assert normalize(source, profile) == normalize(source, profile)


@pytest.mark.parametrize(("given", "kept"), [("", None), ("  ", None), (None, None), ("a1", "a1")])
def test_a_blank_message_id_is_no_message_id(
    profile: Profile, given: str | None, kept: str | None
) -> None:
    # A blank id kept as a key would make every later blank-id message a "retry" of the first.
    assert normalize(inbound(channel=Channel.SMS, external_id=given), profile).external_id == kept
