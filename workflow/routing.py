"""Which agency a complaint probably belongs to.

Only a suggestion: the Admin Penghubung confirms or changes it when forwarding.
"""

from __future__ import annotations

from config.profile import Profile


def suggest_agency(category: str | None, profile: Profile) -> str | None:
    """The agency code the profile maps `category` to; None if there is no such category."""
    if category is None:
        return None
    found = profile.category_by_code.get(category)
    return found.agency if found is not None else None
