"""The OpenAPI 3.1 document, generated from the pydantic models that validate requests."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from channels.app.models import AppComplaintRequest, ComplaintCreated, ErrorBody
from channels.desk.models import DeskComplaintRequest
from gateway.routes.admin import (
    ActionRefused,
    AdminComplaintDetail,
    QueueParams,
    QueueResponse,
)
from gateway.routes.auth import TokenIssued, TokenRequest
from gateway.routes.public import VERSION, CitizenForm, PublicStatus
from workflow.actions import ActionEnvelope
from workflow.recap import Recap

routes = web.RouteTableDef()

_REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "Malformed request", 401: "No or unknown staff token", 403: "Wrong role",
        404: "Unknown tracking ID", 413: "Body too large", 415: "Not application/json",
        422: "Validation failed; `fields` names each field and reason",
        429: "Too many failed sign-ins; retry after `Retry-After` seconds",
        503: "Store busy; retry after `Retry-After` seconds",
    }  # fmt: skip
    return {str(code): _json(ErrorBody, texts[code]) for code in codes}


def _intake_operation(model: type[BaseModel], summary: str, secured: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Retries with the same key return the same complaint.",
                "schema": {"type": "string", "maxLength": 255},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(model)}},
        },
        "responses": {
            "201": _json(ComplaintCreated, "Committed; the tracking ID is durable"),
            **_errors(400, 413, 415, 422, 503, *((401, 403) if secured else ())),
        },
    }
    if secured:
        operation["security"] = [{"staffToken": []}]
    return operation


def _query_parameters() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The queue's query parameters, and the schemas they refer to (enums) for components."""
    schema = QueueParams.model_json_schema(by_alias=True, ref_template=_REF)
    parameters = [
        {"name": name, "in": "query", "required": False, "schema": prop}
        for name, prop in schema["properties"].items()
    ]
    return parameters, schema.get("$defs", {})


def build_openapi() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        AppComplaintRequest, DeskComplaintRequest, ComplaintCreated, ErrorBody,
        QueueResponse, AdminComplaintDetail, PublicStatus, TokenRequest, TokenIssued,
        ActionEnvelope, ActionRefused, Recap, CitizenForm,
    ]  # fmt: skip
    _, schemas = models_json_schema(
        [(m, "validation" if m.__name__.endswith("Request") else "serialization") for m in models],
        ref_template=_REF,
    )
    query, query_schemas = _query_parameters()
    tracking = {"name": "tracking_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "LAPOR! intake gateway", "version": VERSION},
        "paths": {
            "/api/v1/complaints": {
                "post": _intake_operation(
                    AppComplaintRequest, "File a complaint (mobile app)", False
                ),
                "get": {
                    "summary": "The unified admin queue",
                    "security": [{"staffToken": []}],
                    "parameters": query,
                    "responses": {
                        "200": _json(QueueResponse, "One page of the queue"),
                        **_errors(400, 401, 403, 422),
                    },
                },
            },
            "/api/v1/complaints/{tracking_id}": {
                "get": {
                    "summary": "One complaint with its timeline",
                    "security": [{"staffToken": []}],
                    "parameters": [tracking],
                    "responses": {
                        "200": _json(AdminComplaintDetail, "The complaint"),
                        **_errors(401, 403, 404),
                    },
                }
            },
            "/api/v1/desk/complaints": {
                "post": _intake_operation(
                    DeskComplaintRequest, "Log a walk-in or phone complaint (front desk)", True
                )
            },
            "/api/v1/complaints/{tracking_id}/actions": {
                "post": {
                    "summary": "Take one workflow action on the case's current version",
                    "security": [{"staffToken": []}],
                    "parameters": [tracking],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _action_schema()}},
                    },
                    "responses": {
                        "200": _json(AdminComplaintDetail, "Taken; the case as it is now"),
                        "409": _json(ActionRefused, "Not in this state, or a stale version"),
                        **_errors(400, 401, 403, 404, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/auth/token": {
                "post": {
                    "summary": "Sign in with a staff account for a bearer token",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(TokenRequest)}},
                    },
                    "responses": {
                        "200": _json(TokenIssued, "Signed in"),
                        **_errors(400, 401, 413, 415, 422, 429),
                    },
                }
            },
            "/api/v1/auth/logout": {
                "post": {
                    "summary": "Revoke the bearer token",
                    "security": [{"staffToken": []}],
                    "responses": {"204": {"description": "Revoked"}, **_errors(401)},
                }
            },
            "/api/v1/recap": {
                "get": {
                    "summary": "The recap of a period (format=csv or xlsx for a download)",
                    "security": [{"staffToken": []}],
                    "parameters": [
                        {"name": "from", "in": "query", "required": True, "schema": _date()},
                        {"name": "to", "in": "query", "required": True, "schema": _date()},
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": ["json", "csv", "xlsx"], "default": "json"},
                        },
                    ],
                    "responses": {
                        "200": _json(Recap, "The recap (or a CSV / XLSX download)"),
                        **_errors(401, 403, 422),
                    },
                }
            },
            "/status/{tracking_id}": {
                "get": {
                    "summary": "Public status (send Accept: application/json)",
                    "parameters": [tracking],
                    "responses": {"200": _json(PublicStatus, "Status"), **_errors(404)},
                }
            },
            **{
                f"/status/{{tracking_id}}/{step}": {
                    "post": {
                        "summary": summary,
                        "parameters": [tracking],
                        "requestBody": {
                            "required": True,
                            "content": {"application/json": {"schema": _ref(CitizenForm)}},
                        },
                        "responses": {
                            "202": {"description": "Taken"},
                            "403": {"description": "Wrong code"},
                            "409": {"description": "The case does not wait for this"},
                            **_errors(400, 404, 413, 422),
                        },
                    }
                }
                for step, summary in (
                    ("code", "Send a 6-digit code to the complaint's reply address"),
                    ("reply", "Answer the question on hold (needs the code)"),
                    ("rating", "Rate the published answer (needs the code)"),
                )
            },
        },
        "components": {
            "schemas": query_schemas | schemas.get("$defs", {}),
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }


def _action_schema() -> dict[str, Any]:
    return {"$ref": _REF.format(model="ActionEnvelope") + "/properties/request"}


def _date() -> dict[str, str]:
    return {"type": "string", "format": "date"}


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(build_openapi())
