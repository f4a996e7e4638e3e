"""Types of the query parameters more than one route takes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

LocalDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
"""A local date of the regency. Bounded: a day at the edge of the calendar (0001-01-01)
has no instant in UTC to compare with, and no complaint was made then."""
