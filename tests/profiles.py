"""Profiles for tests: small hand-built ones, and the shipped Ketapang profile broken on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from config.profile import PROFILES_DIR, Profile, load_profile

KETAPANG_FILE = PROFILES_DIR / "ketapang.toml"

# -- small hand-built profiles -------------------------------------------------------------

# What a hand-built profile takes from its regency; the test brings categories and agencies.
REGENCIES: dict[str, dict[str, Any]] = {
    "ketapang": {
        "regency": "Kabupaten Ketapang",
        "timezone": "Asia/Pontianak",
        "office": {
            "government": "Pemerintah Kabupaten Ketapang",
            "department": "Bagian Organisasi",
            "address": "Jl. Jenderal Sudirman No. 1",
        },
        "sla": {"completion_working_days": 5},
        "kecamatan": ["Delta Pawan"],
    },
    "soppeng": {
        "regency": "Kabupaten Soppeng",
        "timezone": "Asia/Makassar",
        "office": {
            "government": "Pemerintah Kabupaten Soppeng",
            "department": "Dinas Komunikasi dan Informatika",
            "address": "Jalan Salotungo 90812",
        },
        "sla": {"completion_working_days": 3},
        "kecamatan": ["Lalabata"],
    },
}


def make_profile(
    categories: list[dict[str, Any]],
    agencies: dict[str, str] | None = None,
    *,
    regency: str = "ketapang",
    key: str | None = None,
) -> Profile:
    """A profile of `regency` (its key unless `key` is given) with just these categories.

    `agencies` maps code → name, in the order given; without it, one "Dinas <code>" for each
    agency the categories name, in code order. A category without a name is named after its
    code in title case."""
    if agencies is None:
        agencies = {code: f"Dinas {code}" for code in sorted({c["agency"] for c in categories})}
    return Profile.model_validate(
        {
            "key": key or regency,
            **REGENCIES[regency],
            "agencies": [{"code": code, "name": name} for code, name in agencies.items()],
            "categories": [{"name": c["code"].title(), **c} for c in categories],
        }
    )


# -- the Ketapang profile, broken ------------------------------------------------------------

Mutation = Callable[[str], str]


def replace(old: str, new: str) -> Mutation:
    """Edit the Ketapang text; fail loudly if the line to edit is not there."""

    def mutate(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} must occur once in ketapang.toml"
        return text.replace(old, new)

    return mutate


def bpbd_category_field() -> str:
    """The field path of the one category that BPBD handles, e.g. categories.10.agency."""
    categories = load_profile("ketapang").categories
    (index,) = [i for i, c in enumerate(categories) if c.agency == "BPBD"]
    return f"categories.{index}.agency"


class BrokenProfile(NamedTuple):
    """ketapang.toml with one mistake, and what the error must name: field and reason."""

    case: str
    mutate: Mutation
    field: str
    reason: str

    def write(self, path: Path) -> Path:
        path.write_text(self.mutate(KETAPANG_FILE.read_text(encoding="utf-8")), encoding="utf-8")
        return path


BROKEN_PROFILES: list[BrokenProfile] = [
    BrokenProfile(
        "unknown agency",
        replace('agency = "BPBD"', 'agency = "BASARNAS"'),
        bpbd_category_field(),
        "'BASARNAS' is not one of the agencies",
    ),
    BrokenProfile(
        "bad timezone",
        replace('timezone = "Asia/Pontianak"', 'timezone = "Asia/Ketapang"'),
        "timezone",
        "unknown time zone 'Asia/Ketapang'",
    ),
    BrokenProfile(
        "missing completion days",
        replace("completion_working_days = 5\n", ""),
        "sla.completion_working_days",
        "Field required",
    ),
    BrokenProfile(
        "negative SLA",
        replace("completion_working_days = 5", "completion_working_days = -5"),
        "sla.completion_working_days",
        "greater than or equal to 1",
    ),
    BrokenProfile(
        "SLA too long",
        replace("verification_working_days = 3", "verification_working_days = 31"),
        "sla.verification_working_days",
        "less than or equal to 30",
    ),
    BrokenProfile(
        "unknown messages key",
        replace("[messages]\n", '[messages]\n"receipt.bodi" = "Terima kasih."\n'),
        "messages.receipt.bodi",
        "not a key of the message catalogue",
    ),
    BrokenProfile(
        "unknown placeholder",
        replace(
            "[messages]\n",
            '[messages]\n"status.not_found" = "Nomor {nomor} tidak ditemukan."\n',
        ),
        "messages.status.not_found",
        "unknown placeholder(s) nomor",
    ),
    BrokenProfile(
        "duplicate agency code",
        replace('code = "DISTAN"', 'code = "DLH"'),
        "agencies",
        "agency codes must be unique",
    ),
    BrokenProfile(
        "lowercase agency code",
        replace('code = "DISKOMINFO"', 'code = "diskominfo"'),
        "agencies.0.code",
        "should match pattern",
    ),
    BrokenProfile(
        "unknown field",
        replace('key = "ketapang"\n', 'key = "ketapang"\nnomor_wa = "0812"\n'),
        "nomor_wa",
        "Extra inputs are not permitted",
    ),
    BrokenProfile(
        "invalid TOML",
        replace('key = "ketapang"', 'key = "ketapang'),
        "-",
        "not valid TOML",
    ),
    BrokenProfile(
        "invalid TOML in regency",
        replace('regency = "Kabupaten Ketapang"', 'regency = "Kabupaten Ketapang'),
        "-",
        "not valid TOML",
    ),
    BrokenProfile(
        "missing required field",
        replace('regency = "Kabupaten Ketapang"\n', ""),
        "regency",
        "Field required",
    ),
]


def broken_profile_id(broken: BrokenProfile) -> str:
    return broken.case
