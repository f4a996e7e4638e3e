from __future__ import annotations

import pytest

from config.profile import Profile
from tests.profiles import make_profile
from workflow.routing import suggest_agency


@pytest.fixture(scope="module")
def profile() -> Profile:
    return make_profile(
        [
            {"code": "kesehatan", "name": "Kesehatan", "agency": "DINKES"},
            {"code": "jalan_rusak", "name": "Jalan Rusak", "agency": "DPUPR"},
            {"code": "puskesmas", "name": "Puskesmas", "agency": "DINKES"},
        ],
        {"DINKES": "Dinas Kesehatan", "DPUPR": "Dinas Pekerjaan Umum dan Penataan Ruang"},
    )


@pytest.mark.parametrize(
    ("category", "agency"),
    [("kesehatan", "DINKES"), ("jalan_rusak", "DPUPR"), ("puskesmas", "DINKES")],
)
def test_known_category_suggests_its_agency(profile: Profile, category: str, agency: str) -> None:
    assert suggest_agency(category, profile) == agency


# Agency codes and differently-cased slugs are not categories: no guessing.
@pytest.mark.parametrize("category", [None, "", "banjir", "KESEHATAN", "DINKES"])
def test_no_or_unknown_category_suggests_nothing(profile: Profile, category: str | None) -> None:
    assert suggest_agency(category, profile) is None
