"""Front-desk intake: a walk-in or phone complaint typed in by staff."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from channels.complaint_fields import ComplaintFields


class DeskComplaintRequest(ComplaintFields):
    """A complaint logged by front-desk staff, with the reporter's details as given in person."""

    channel: Literal["walkin", "phone"] = Field(
        description="walkin: datang langsung; phone: melalui telepon."
    )
