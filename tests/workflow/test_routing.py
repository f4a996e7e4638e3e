from __future__ import annotations

import pytest

from config.profile import Profile
from workflow.routing import suggest_agency


@pytest.fixture(scope="module")
def profile() -> Profile:
    return Profile.model_validate(
        {
            "key": "ketapang",
            "regency": "Kabupaten Ketapang",
            "timezone": "Asia/Pontianak",
            "office": {
                "government": "Pemerintah Kabupaten Ketapang",
                "department": "Bagian Organisasi",
                "address": "Jl. Jenderal Sudirman No. 1",
            },
            "sla": {"completion_working_days": 5},
            "agencies": [
                {"code": "DINKES", "name": "Dinas Kesehatan"},
                {"code": "DPUPR", "name": "Dinas Pekerjaan Umum dan Penataan Ruang"},
            ],
            "categories": [
                {"code": "kesehatan", "name": "Kesehatan", "agency": "DINKES"},
                {"code": "jalan_rusak", "name": "Jalan Rusak", "agency": "DPUPR"},
                {"code": "puskesmas", "name": "Puskesmas", "agency": "DINKES"},
            ],
            "kecamatan": ["Delta Pawan"],
        }
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
