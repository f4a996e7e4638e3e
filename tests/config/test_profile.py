"""Deployment profiles: the shipped regencies load, and a broken profile says what is wrong."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from config.profile import (
    PROFILES_DIR,
    Profile,
    ProfileError,
    load_profile,
    shipped_profiles,
)
from tests.profiles import BROKEN_PROFILES, KETAPANG_FILE, BrokenProfile, broken_profile_id

SHIPPED = ["ketapang", "soppeng"]


# --- the shipped profiles ---------------------------------------------------------------


def test_shipped_profiles_are_listed() -> None:
    assert set(SHIPPED) <= set(shipped_profiles())


@pytest.mark.parametrize(
    ("name", "regency", "timezone", "verification_days", "completion_days", "kecamatan"),
    [
        ("ketapang", "Kabupaten Ketapang", "Asia/Pontianak", 3, 5, 20),
        ("soppeng", "Kabupaten Soppeng", "Asia/Makassar", 3, 3, 8),
    ],
)
def test_shipped_profile_loads(
    name: str,
    regency: str,
    timezone: str,
    verification_days: int,
    completion_days: int,
    kecamatan: int,
) -> None:
    profile = load_profile(name)

    assert profile.key == name
    assert profile.regency == regency
    assert profile.timezone == timezone
    assert profile.zone.key == timezone
    assert profile.sla.verification_working_days == verification_days
    assert profile.sla.completion_working_days == completion_days
    assert len(profile.kecamatan) == kecamatan
    assert len(set(profile.kecamatan)) == kecamatan
    assert profile.office.department == "Dinas Komunikasi dan Informatika"


def test_ketapang_office() -> None:
    office = load_profile("ketapang").office
    assert office.government == "Pemerintah Kabupaten Ketapang"
    assert office.address == "Jl. Jendral Urip Sumoharjo No. 06 Ketapang 78813"
    assert office.phone == "(0534)-3069638"


def test_soppeng_office_and_holidays() -> None:
    profile = load_profile("soppeng")
    assert profile.office.government == "Pemerintah Kabupaten Soppeng"
    assert profile.office.address == "Jalan Salotungo 90812"
    assert profile.office.phone is None
    assert date(2026, 3, 23) in profile.extra_holidays  # Hari Jadi Soppeng


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_categories_are_consistent(name: str) -> None:
    profile = load_profile(name)

    assert 12 <= len(profile.agencies) <= 16
    assert 12 <= len(profile.categories) <= 16
    for category in profile.categories:
        assert category.agency in profile.agency_names, category.code
        assert category.keywords, f"{category.code} has no keywords"
        for keyword in category.keywords:
            assert keyword == keyword.lower().strip(), keyword

    owner: dict[str, str] = {}
    for category in profile.categories:
        for keyword in category.keywords:
            assert keyword not in owner, (
                f"{keyword!r} is in both {owner[keyword]!r} and {category.code!r}"
            )
            owner[keyword] = category.code


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_core_agencies(name: str) -> None:
    codes = set(load_profile(name).agency_names)
    core = {"PUPR", "DINKES", "DISDUKCAPIL", "DISHUB", "DINSOS", "DLH", "RSUD", "PDAM"}
    assert core <= codes
    assert codes & {"DISDIKBUD", "DISDIK"}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_holidays_are_2026_or_2027(name: str) -> None:
    for day in load_profile(name).extra_holidays:
        assert day.year in (2026, 2027)


# --- messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "regency"), [("ketapang", "Ketapang"), ("soppeng", "Soppeng")])
def test_message_fills_in_values(name: str, regency: str) -> None:
    profile = load_profile(name)
    text = profile.message(
        "receipt.body",
        tracking_id="LPR-2026-ABCD1234",
        status_url="https://lapor.example.go.id/status",
    )
    assert "LPR-2026-ABCD1234" in text
    assert "https://lapor.example.go.id/status" in text
    assert regency in text  # the profile's own wording
    assert "{" not in text and "}" not in text


def test_message_falls_back_to_the_catalogue() -> None:
    profile = load_profile("ketapang")
    assert "receipt.title" not in profile.messages
    assert profile.message("receipt.title") == "Laporan Anda telah kami terima"
    assert profile.message("status.not_found", tracking_id="X1") == (
        "Nomor pelacakan X1 tidak ditemukan."
    )


# --- load_profile by path ---------------------------------------------------------------


def test_load_profile_accepts_a_path(tmp_path: Path) -> None:
    own = tmp_path / "kabupaten-contoh.toml"
    shutil.copyfile(KETAPANG_FILE, own)

    from_path = load_profile(str(own))
    assert isinstance(from_path, Profile)
    assert from_path == load_profile("ketapang")
    assert load_profile(str(KETAPANG_FILE)) == from_path


# --- broken profiles --------------------------------------------------------------------


@pytest.mark.parametrize("broken", BROKEN_PROFILES, ids=broken_profile_id)
def test_broken_profile_names_file_field_and_reason(tmp_path: Path, broken: BrokenProfile) -> None:
    path = broken.write(tmp_path / "broken.toml")

    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))

    error = caught.value
    assert error.source == str(path)
    assert str(path) in str(error)
    assert f"{broken.field}: " in str(error)
    assert broken.reason in str(error)
    assert any(f == broken.field and broken.reason in r for f, r in error.problems), error.problems


def test_nonexistent_file(tmp_path: Path) -> None:
    path = tmp_path / "tidak-ada.toml"
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    assert str(path) in str(caught.value)
    assert "no such profile" in str(caught.value)


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile("atlantis")
    message = str(caught.value)
    assert str(PROFILES_DIR / "atlantis.toml") in message
    assert "no such profile" in message
    for name in SHIPPED:
        assert name in message
