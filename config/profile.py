"""Deployment profiles: one TOML file per regency, like a FixMyStreet cobrand.

Everything that differs between regencies (agencies, categories, SLA days, time zone,
reply texts) is data here, so the code never branches on which regency it serves.
"""

from __future__ import annotations

import string
import tomllib
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

PROFILES_DIR = Path(__file__).parent / "profiles"
CATALOGUE_FILE = Path(__file__).parent / "messages" / "id.toml"

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,23}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Office(_Strict):
    government: Text
    department: Text
    address: Text
    phone: str | None = None
    email: str | None = None


class Sla(_Strict):
    verification_working_days: int = Field(default=3, ge=1, le=30)
    completion_working_days: int = Field(ge=1, le=60)
    on_time_target_percent: int = Field(
        default=90,
        ge=1,
        le=100,
        description="the share of answers (in percent) given within their deadline that the "
        "agencies aim for; the recap's on-time chart draws it as a line",
    )


class SmsProfile(_Strict):
    """How the regency's SMS number behaves; the reply texts are `sms.*` messages."""

    short_code: str = Field(default="1708", pattern=r"^\+?[0-9]{3,15}$")
    min_complaint_chars: int = Field(
        default=25, ge=1, le=500, description="a shorter complaint is asked for more detail"
    )


class NotaDinasProfile(_Strict):
    """How the regency numbers its answers (nota dinas)."""

    number_format: str = Field(
        default="{seq:03d}/LAPOR/{agency}/{year}",
        description="placeholders: seq (the agency's count this year), year, month, "
        "month_roman, agency (its code)",
    )

    @field_validator("number_format")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            value.format(seq=1, year=2026, month=1, month_roman="I", agency="DINAS")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"not a usable number format: {exc!r}") from None
        if "{seq" not in value:
            raise ValueError("must contain {seq}, or two answers would get one number")
        return value


class WorkflowProfile(_Strict):
    hold_working_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="a case on hold whose citizen does not answer within this is archived",
    )
    rating_working_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="an answered case the citizen does not rate within this is closed",
    )


class Agency(_Strict):
    code: Code
    name: Text


class Category(_Strict):
    code: Slug
    name: Text
    agency: Code
    keywords: list[Text] = Field(default_factory=list)


class Profile(_Strict):
    key: Slug
    regency: Text
    timezone: Text
    office: Office
    sla: Sla
    extra_holidays: list[date] = Field(default_factory=list)
    agencies: list[Agency] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    kecamatan: list[Text] = Field(min_length=1)
    sms: SmsProfile = SmsProfile()
    nota_dinas: NotaDinasProfile = NotaDinasProfile()
    workflow: WorkflowProfile = WorkflowProfile()
    messages: dict[str, Text] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> Profile:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from exc
        codes = [a.code for a in self.agencies]
        if len(set(codes)) != len(codes):
            raise ValueError("agencies: agency codes must be unique")
        slugs = [c.code for c in self.categories]
        if len(set(slugs)) != len(slugs):
            raise ValueError("categories: category codes must be unique")
        for i, category in enumerate(self.categories):
            if category.agency not in codes:
                raise ValueError(
                    f"categories.{i}.agency: {category.agency!r} is not one of the agencies"
                )
        catalogue = _catalogue()
        for key, text in self.messages.items():
            if key not in catalogue:
                raise ValueError(f"messages.{key}: not a key of the message catalogue")
            _check_placeholders(key, text, catalogue[key])
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def agency_names(self) -> dict[str, str]:
        return {a.code: a.name for a in self.agencies}

    @cached_property
    def category_by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    def message(self, key: str, **values: object) -> str:
        """A citizen-facing text: the profile's own wording, else the catalogue's."""
        template = self.messages.get(key) or _catalogue()[key]
        return template.format(**values)


class ProfileError(Exception):
    """A profile that cannot be used; names the file, each field and the reason."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{field}: {reason}" for field, reason in problems]
        super().__init__(f"invalid profile {source}:\n  " + "\n  ".join(lines))


def _check_placeholders(key: str, text: str, default: str) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"messages.{key}: {exc}") from None
    if any(f is not None and (not f.isidentifier() or spec) for _, f, spec, _ in parsed):
        raise ValueError(f"messages.{key}: placeholders must be plain {{names}}")
    names = {f for _, f, _, _ in parsed if f}
    allowed = {f for _, f, _, _ in string.Formatter().parse(default) if f}
    if not names <= allowed:
        unknown = ", ".join(sorted(names - allowed))
        raise ValueError(f"messages.{key}: unknown placeholder(s) {unknown}")


_CATALOGUE: dict[str, str] = {}


def _catalogue() -> dict[str, str]:
    if not _CATALOGUE:
        with CATALOGUE_FILE.open("rb") as fh:
            _CATALOGUE.update(tomllib.load(fh))
    return _CATALOGUE


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))


def resolve_profile_path(name_or_path: str) -> Path:
    """A bare name is a shipped profile; anything path-like is a file of the operator's."""
    if "/" in name_or_path or "\\" in name_or_path or name_or_path.endswith(".toml"):
        return Path(name_or_path)
    return PROFILES_DIR / f"{name_or_path}.toml"


def load_profile(name_or_path: str) -> Profile:
    path = resolve_profile_path(name_or_path)
    if not path.is_file():
        known = ", ".join(shipped_profiles())
        raise ProfileError(str(path), [("-", f"no such profile (shipped: {known})")])
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(str(path), [("-", f"not valid TOML (UTF-8): {exc}")]) from exc
    except OSError as exc:
        raise ProfileError(str(path), [("-", f"cannot read: {exc.strerror}")]) from exc
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(str(path), _problems(exc)) from exc


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "-"
        reason = err["msg"].removeprefix("Value error, ")
        if field == "-" and ": " in reason:  # model-level checks name their own field
            field, reason = reason.split(": ", 1)
        problems.append((field, reason))
    return problems
