"""Dates as people in Indonesia write them, for every page and message."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember")  # fmt: skip
_DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def long_date(value: date) -> str:
    """'Senin, 24 Agustus 2026'."""
    return f"{_DAYS[value.weekday()]}, {value.day} {_MONTHS[value.month - 1]} {value.year}"


def local_time(value: datetime, zone: tzinfo) -> str:
    """'Senin, 24 Agustus 2026, 14.05 WIB': an instant as the regency's clocks show it."""
    local = value.astimezone(zone)
    return f"{long_date(local.date())}, {local:%H.%M} {local.tzname()}"


_UNITS = (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024))


def file_size(size: int) -> str:
    """A size as people read it, in the largest unit it reaches, with a decimal comma:
    '20 MB', '1,5 MB', '512 KB', '900 byte' (never '0 MB' for a limit under a megabyte)."""
    for unit, scale in _UNITS:
        if size >= scale:
            amount = round(size / scale, 1)
            text = f"{amount:.1f}".replace(".", ",").removesuffix(",0")
            return f"{text} {unit}"
    return f"{size} byte"
