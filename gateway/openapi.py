"""The OpenAPI 3.1 document, built from the application's own routes (each describes itself
with gateway/apidoc.py's `@operation`) and the pydantic models that validate requests."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from channels.app.models import ErrorBody
from gateway.apidoc import Operation, Schema, operation_of
from gateway.routes.public import VERSION

_REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")
DOCUMENT = web.AppKey("openapi_document", dict)

routes = web.RouteTableDef()

_ERROR_TEXTS = {
    400: "Malformed request", 401: "No, unknown or expired staff token",
    403: "A role or code that may not do this", 404: "Unknown tracking ID",
    409: "Not possible in the case's state", 413: "Body too large",
    415: "Not application/json", 422: "Validation failed; `fields` names each field and reason",
    429: "Too many attempts; retry after `Retry-After` seconds",
    503: "Store busy; retry after `Retry-After` seconds",
}  # fmt: skip


def build_openapi(app: web.Application) -> dict[str, Any]:
    """The document of every route of `app` that describes itself, at the path it serves."""
    documented = [
        (route.resource.canonical, route.method.lower(), op)
        for route in app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"  # aiohttp's automatic twin of each GET
        and (op := operation_of(route.handler)) is not None
    ]
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in sorted(documented, key=lambda d: (d[0], d[1])):
        paths.setdefault(path, {})[method] = _operation(path, op, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "LAPOR! intake gateway", "version": VERSION},
        "paths": paths,
        "components": {
            "schemas": components.schemas(),
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }


class _Components:
    """The schemas the operations refer to, gathered as they are described."""

    def __init__(self) -> None:
        self._models: dict[str, type[BaseModel]] = {"ErrorBody": ErrorBody}
        self._written: dict[str, Any] = {}

    def ref(self, schema: Schema) -> dict[str, Any]:
        if isinstance(schema, Mapping):
            # A schema written out (a union of action bodies): its definitions join ours.
            self._written.update(schema.get("$defs", {}))
            return {k: v for k, v in schema.items() if k != "$defs"}
        self._models[schema.__name__] = schema
        return {"$ref": _REF.format(model=schema.__name__)}

    def parameters(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        schema = model.model_json_schema(by_alias=True, ref_template=_REF)
        self._written.update(schema.get("$defs", {}))
        required = set(schema.get("required", []))
        return [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema["properties"].items()
        ]

    def schemas(self) -> dict[str, Any]:
        modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [
            (m, "validation" if m.__name__.endswith(("Request", "Form")) else "serialization")
            for m in self._models.values()
        ]
        _, generated = models_json_schema(modes, ref_template=_REF)
        return {**self._written, **generated.get("$defs", {})}


def _operation(path: str, op: Operation, components: _Components) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(path)
    ]
    if op.query is not None:
        parameters += components.parameters(op.query)
    parameters += [dict(header) for header in op.headers]
    described: dict[str, Any] = {"summary": op.summary, "responses": {}}
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": components.ref(op.body)}},
        }
    if op.secured:
        described["security"] = [{"staffToken": []}]
    for status, (schema, text) in op.responses.items():
        described["responses"][str(status)] = _response(status, schema, text, op, components)
    for status in op.errors:
        text = _ERROR_TEXTS[status]
        described["responses"][str(status)] = _response(status, ErrorBody, text, op, components)
    return described


def _response(
    status: int, schema: Schema | None, text: str, op: Operation, components: _Components
) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if schema is not None:
        content["application/json"] = {"schema": components.ref(schema)}
    for media in op.files.get(status, ()):
        content[media] = {"schema": {"type": "string"}}
    if status in op.html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": text, "content": content} if content else {"description": text}


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[DOCUMENT])
