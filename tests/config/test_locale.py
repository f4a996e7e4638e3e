"""Sizes and dates as people in Indonesia read them."""

from __future__ import annotations

from datetime import date

import pytest

from config.locale import file_size, long_date


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (20 * 1024 * 1024, "20 MB"),
        (1536 * 1024, "1,5 MB"),
        (512 * 1024, "512 KB"),  # once "0 MB": the limit in whole megabytes
        (500_000, "488,3 KB"),
        (900, "900 byte"),
        (3 * 1024**3, "3 GB"),
    ],
)
def test_a_size_is_said_in_the_unit_it_reaches(size: int, shown: str) -> None:
    assert file_size(size) == shown


def test_dates_read_as_in_indonesia() -> None:
    assert long_date(date(2026, 8, 17)) == "Senin, 17 Agustus 2026"
