"""How a route describes itself for the OpenAPI document: `@operation(...)` on the handler,
beside the route it serves. gateway/openapi.py builds the document from the application's
routes, so a path is documented only where it is served, and a served API path that is not
documented is caught by a test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

H = TypeVar("H", bound=Callable[..., Any])
Schema = type[BaseModel] | Mapping[str, Any]
"""A pydantic model (its JSON Schema), or a JSON Schema written out."""

ATTRIBUTE = "__openapi_operation__"


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: Mapping[int, tuple[Schema | None, str]]
    """Status → (the JSON body's schema, or None for none; what it means)."""
    errors: tuple[int, ...] = ()
    """Statuses answered with the house's error body (ErrorBody)."""
    body: Schema | None = None
    """The JSON request body."""
    query: type[BaseModel] | None = None
    """The query string, one parameter per field (by alias)."""
    headers: tuple[Mapping[str, Any], ...] = ()
    secured: bool = False
    """Needs `Authorization: Bearer <token>`."""
    html: tuple[int, ...] = ()
    """Statuses also answered as an HTML page (for a browser's Accept)."""
    files: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    """Status → the media types of downloads answered instead of JSON."""


def operation(
    summary: str,
    responses: Mapping[int, tuple[Schema | None, str]],
    **details: Any,
) -> Callable[[H], H]:
    """Document the handler it decorates (put it below the route decorator)."""

    def attach(handler: H) -> H:
        setattr(handler, ATTRIBUTE, Operation(summary, responses, **details))
        return handler

    return attach


def operation_of(handler: object) -> Operation | None:
    found = getattr(handler, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None
