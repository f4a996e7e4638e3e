"""The first word of a text message decides what it is: a table of what citizens type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normalizer.commands import Intent, parse_command

ID = "CZ6EN34VL"  # a valid tracking ID (its check symbol is right)
TYPO = "CZ6EN34VK"  # the same with the check symbol wrong
MIN = 25

CASES = [
    # message, intent, text, tracking_id, id_problem, keyword
    ("LAPOR jalan di depan SDN 3 berlubang", Intent.COMPLAINT, "jalan di depan SDN 3 berlubang", None, None, True),  # noqa: E501
    ("lapor: jalan rusak parah", Intent.COMPLAINT, "jalan rusak parah", None, None, True),
    ("  #LAPOR   lampu jalan mati  ", Intent.COMPLAINT, "lampu jalan mati", None, None, True),
    ("Lapor.Sampah menumpuk", Intent.COMPLAINT, "Sampah menumpuk", None, None, True),
    ("LAPOR", Intent.COMPLAINT, "LAPOR", None, None, True),
    ("LAPORAN warga: air PDAM mati", Intent.COMPLAINT, "LAPORAN warga: air PDAM mati", None, None, False),  # noqa: E501
    ("Air PDAM mati tiga hari di Delta Pawan", Intent.COMPLAINT, "Air PDAM mati tiga hari di Delta Pawan", None, None, False),  # noqa: E501
    ("e-KTP saya belum jadi", Intent.COMPLAINT, "e-KTP saya belum jadi", None, None, False),
    ("😡 jalan rusak", Intent.COMPLAINT, "😡 jalan rusak", None, None, False),
    (f"CEK {ID}", Intent.STATUS, "", ID, None, True),
    (f"cek {ID.lower()}", Intent.STATUS, "", ID, None, True),
    (f"Cek: {ID[:4]}-{ID[4:]}.", Intent.STATUS, "", ID, None, True),
    (f"cek {ID[:4]} {ID[4:]}", Intent.STATUS, "", ID, None, True),
    (f"STATUS {ID} tolong dibalas", Intent.STATUS, "", ID, None, True),
    (f"cek#{ID}", Intent.STATUS, "", ID, None, True),
    ("CEK", Intent.STATUS, "", None, "missing", True),
    (f"CEK {TYPO}", Intent.STATUS, TYPO, None, "checksum", True),
    ("CEK laporan saya", Intent.STATUS, "laporan saya", None, "format", True),
    ("INFO", Intent.HELP, "", None, None, True),
    ("bantuan?", Intent.HELP, "", None, None, True),
    ("Help me", Intent.HELP, "me", None, None, True),
    ("INFO jalan di desa kami rusak parah sejak Juni", Intent.COMPLAINT, "INFO jalan di desa kami rusak parah sejak Juni", None, None, False),  # noqa: E501
    (f"TAMBAH {ID} lubangnya sudah dua meter", Intent.FOLLOW_UP, "lubangnya sudah dua meter", ID, None, True),  # noqa: E501
    (f"tambah {ID[:4]}-{ID[4:]}: fotonya menyusul", Intent.FOLLOW_UP, "fotonya menyusul", ID, None, True),  # noqa: E501
    ("TAMBAH", Intent.FOLLOW_UP, "", None, "missing", True),
    (f"TAMBAH {TYPO} lagi", Intent.FOLLOW_UP, f"{TYPO} lagi", None, "checksum", True),
    (f"{ID} lubangnya makin besar", Intent.FOLLOW_UP, "lubangnya makin besar", ID, None, False),
    (f"{ID.lower()}, sudah 2 minggu", Intent.FOLLOW_UP, "sudah 2 minggu", ID, None, False),
    # An ID alone is not a follow-up (nothing to add): it is a complaint text, too short.
    (ID, Intent.COMPLAINT, ID, None, None, False),
    (f"{TYPO} lubangnya makin besar", Intent.COMPLAINT, f"{TYPO} lubangnya makin besar", None, None, False),  # noqa: E501
    (f"PUAS {ID}", Intent.RATING, "", ID, None, True),
    (f"puas {ID.lower()} terima kasih pak", Intent.RATING, "terima kasih pak", ID, None, True),
    ("PUAS", Intent.RATING, "", None, "missing", True),
    (f"TIDAK PUAS {ID} jalannya belum diperbaiki", Intent.RATING, "jalannya belum diperbaiki", ID, None, True),  # noqa: E501
    (f"tdk puas: {ID[:4]}-{ID[4:]} masih bocor", Intent.RATING, "masih bocor", ID, None, True),
    # Without a tracking ID after it, "tidak puas …" is a complaint in the citizen's words.
    ("Tidak puas dengan pelayanan puskesmas", Intent.COMPLAINT, "Tidak puas dengan pelayanan puskesmas", None, None, False),  # noqa: E501
    (f"TIDAK PUAS {TYPO} masih", Intent.COMPLAINT, f"TIDAK PUAS {TYPO} masih", None, None, False),
    ("", Intent.HELP, "", None, None, False),
    ("...", Intent.HELP, "...", None, None, False),
    ("?", Intent.HELP, "?", None, None, False),
    ("😡😡", Intent.HELP, "😡😡", None, None, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("message", "intent", "text", "tracking_id", "problem", "keyword"),
    CASES,
    ids=[c[0][:30] or "<empty>" for c in CASES],
)
def test_first_word_decides(
    message: str,
    intent: Intent,
    text: str,
    tracking_id: str | None,
    problem: str | None,
    keyword: bool,
) -> None:
    command = parse_command(message, MIN)
    assert command.intent is intent
    assert command.text == text
    assert command.tracking_id == tracking_id
    assert command.id_problem == problem
    assert command.keyword is keyword
    assert (command.satisfied is not None) is (intent is Intent.RATING)


@given(st.text(max_size=300))
def test_any_text_parses_and_keeps_its_words(message: str) -> None:
    """Whatever arrives has a meaning, and a complaint never loses the citizen's words."""
    command = parse_command(message, MIN)
    if command.intent is Intent.COMPLAINT and not command.keyword:
        assert command.text == message.strip()
