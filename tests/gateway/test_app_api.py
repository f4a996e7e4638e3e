"""The JSON intake APIs: the mobile app's `POST /api/v1/complaints`, the front desk's
`POST /api/v1/desk/complaints`, their idempotency keys, and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from pydantic import BaseModel
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from channels.app.models import AppComplaintRequest
from channels.desk.models import DeskComplaintRequest
from normalizer.models import Channel, ReplyAddress
from normalizer.tracking import parse_tracking_id
from tests.conftest import ADMIN_AUTH, DESK_AUTH, Running, eventually, start_gateway

APP = "/api/v1/complaints"
DESK = "/api/v1/desk/complaints"
TEXT = "Lampu jalan di Jl. Merdeka padam sejak seminggu, malam hari sangat gelap dan rawan."
APP_BODY: dict[str, object] = {
    "text": TEXT,
    "name": "Rahmat Hidayat",
    "phone": "0812-3456-7890",
    "location": "Jl. Merdeka, Kecamatan Delta Pawan",
    "incident_date": "2026-08-10",
}


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


async def post_json(
    running: Running,
    path: str,
    body: object,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    async with running.http.post(path, data=data, headers=all_headers) as response:
        return Answer(response.status, dict(response.headers), await response.json())


async def queue(running: Running) -> list[dict[str, Any]]:
    async with running.http.get(APP, headers=ADMIN_AUTH) as response:
        assert response.status == 200
        items: list[dict[str, Any]] = (await response.json())["items"]
        return items


def nothing_stored(running: Running) -> bool:
    return running.count("complaints") == 0 and running.count("outbox") == 0


# -- the mobile app ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "reply_to"),
    [
        ({}, ReplyAddress(channel=Channel.SMS, address="+6281234567890")),
        (
            {"email": "rahmat@example.id"},
            ReplyAddress(channel=Channel.EMAIL, address="rahmat@example.id"),
        ),
    ],
)
async def test_app_complaint_is_committed_and_becomes_a_diterima_case(
    gateway: Running, contact: dict[str, str], reply_to: ReplyAddress
) -> None:
    answer = await post_json(gateway, APP, APP_BODY | contact)

    assert answer.status == 201, answer.body
    tracking_id = answer.body["tracking_id"]
    assert parse_tracking_id(tracking_id) == tracking_id
    assert answer.headers["Location"] == f"/status/{tracking_id}"
    assert answer.body["status_url"] == gateway.url(f"/status/{tracking_id}")
    assert "Idempotent-Replayed" not in answer.headers

    complaint = await gateway.store.get_complaint(tracking_id)
    assert complaint is not None
    assert complaint.channel is Channel.APP
    assert complaint.reporter.phone == "+6281234567890"
    assert complaint.reporter.name == "Rahmat Hidayat"
    assert complaint.reply_to == reply_to
    assert complaint.received_at == gateway.clock.now
    assert complaint.logged_by is None
    assert gateway.count("outbox") == 1

    items = await eventually(lambda: queue(gateway), lambda items: bool(items and items[0]["case"]))
    [item] = items
    assert item["tracking_id"] == tracking_id
    assert item["channel"] == "app"
    assert item["case"]["state"] == "diterima"
    assert item["reply_channel"] == reply_to.channel.value


async def test_same_key_twice_is_one_complaint_and_the_retry_is_marked(gateway: Running) -> None:
    key = {"Idempotency-Key": "app-7f3c2a91-0001"}
    first = await post_json(gateway, APP, APP_BODY, key)
    # A retry after a lost answer; key order and phone spelling differ, the request does not.
    retry_body = dict(reversed(list(APP_BODY.items()))) | {"phone": "+62 812 3456 7890"}
    second = await post_json(gateway, APP, retry_body, key)

    assert (first.status, second.status) == (201, 201)
    assert second.body["tracking_id"] == first.body["tracking_id"]
    assert second.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert gateway.count("complaints") == 1
    assert gateway.count("outbox") == 1


async def test_without_a_key_each_new_text_is_a_new_complaint(gateway: Running) -> None:
    first = await post_json(gateway, APP, APP_BODY)
    second = await post_json(gateway, APP, {**APP_BODY, "text": TEXT + " Sudah dua kali lapor."})
    assert first.body["tracking_id"] != second.body["tracking_id"]
    assert gateway.count("complaints") == 2


@pytest.mark.parametrize(
    ("again", "same"),
    [
        ({}, True),  # an impatient citizen, or an app retrying without a key
        ({"text": "  " + TEXT.upper().replace(" ", "  ") + " "}, True),  # case and spacing
        ({"phone": "+62 812 3456 7890"}, True),  # the same number written otherwise
        ({"name": "Rahmat H."}, True),  # the words and the reply address decide
        ({"phone": "0813-1111-2222"}, False),  # another person
        ({"text": TEXT + " Tambahan: dua tiang."}, False),  # other words
    ],
)
async def test_the_same_words_from_the_same_phone_within_the_window_are_the_first_complaint(
    gateway: Running, again: dict[str, object], same: bool
) -> None:
    first = await post_json(gateway, APP, APP_BODY)
    gateway.clock.advance(minutes=9)
    second = await post_json(gateway, APP, {**APP_BODY, **again})
    assert second.status == 201
    assert (second.body["tracking_id"] == first.body["tracking_id"]) is same
    assert (second.headers.get("Idempotent-Replayed") == "true") is same
    assert gateway.count("complaints") == (1 if same else 2)


async def test_after_the_window_the_same_words_are_a_new_complaint(gateway: Running) -> None:
    first = await post_json(gateway, APP, APP_BODY)
    gateway.clock.advance(minutes=10, seconds=1)  # LAPOR_DUPLICATE_WINDOW_SECONDS=600
    second = await post_json(gateway, APP, APP_BODY)
    assert second.body["tracking_id"] != first.body["tracking_id"]
    assert gateway.count("complaints") == 2


async def test_anonymous_reports_without_contact_are_never_merged(gateway: Running) -> None:
    body = {"text": TEXT, "anonymous": True}
    answers = [await post_json(gateway, APP, body) for _ in range(2)]
    assert answers[0].body["tracking_id"] != answers[1].body["tracking_id"]
    assert gateway.count("complaints") == 2


async def test_a_duplicate_window_of_zero_turns_the_rule_off(tmp_path: Path) -> None:
    running = await start_gateway(tmp_path, duplicate_window_seconds=0)
    try:
        answers = [await post_json(running, APP, APP_BODY) for _ in range(2)]
        assert answers[0].body["tracking_id"] != answers[1].body["tracking_id"]
        assert running.count("complaints") == 2
    finally:
        await running.stop()


async def test_concurrent_retries_with_one_key_file_exactly_one_complaint(
    gateway: Running,
) -> None:
    key = {"Idempotency-Key": "burst-0001"}
    answers = await asyncio.gather(*(post_json(gateway, APP, APP_BODY, key) for _ in range(20)))

    assert {a.status for a in answers} == {201}
    assert len({a.body["tracking_id"] for a in answers}) == 1
    replayed = [a.headers.get("Idempotent-Replayed") == "true" for a in answers]
    assert replayed.count(False) == 1  # exactly one request created it
    assert gateway.count("complaints") == 1
    assert gateway.count("outbox") == 1


async def test_a_key_reused_for_another_body_is_refused(gateway: Running) -> None:
    key = {"Idempotency-Key": "reused-key-1"}
    first = await post_json(gateway, APP, APP_BODY, key)
    other = await post_json(gateway, APP, APP_BODY | {"text": TEXT + " Mohon segera."}, key)

    assert first.status == 201
    assert other.status == 422
    assert other.body["error"] == "idempotency_key_reused"
    assert gateway.count("complaints") == 1
    assert gateway.count("outbox") == 1


@pytest.mark.parametrize(
    "key",
    [
        "with space",
        "x" * 256,
        "x" * 300,
        "",
        "tab\there",
        "kunci-ñ",
    ],
    ids=["space", "256-chars", "300-chars", "empty", "tab", "non-ascii"],
)
async def test_an_invalid_idempotency_key_is_a_400(gateway: Running, key: str) -> None:
    answer = await post_json(gateway, APP, APP_BODY, {"Idempotency-Key": key})
    assert answer.status == 400
    assert answer.body["error"] == "invalid_idempotency_key"
    assert nothing_stored(gateway)


async def test_the_longest_allowed_key_is_taken(gateway: Running) -> None:
    answer = await post_json(gateway, APP, APP_BODY, {"Idempotency-Key": "k" * 255})
    assert answer.status == 201
    assert gateway.count() == 1


async def test_a_body_that_arrives_in_pieces_is_read_whole(gateway: Running) -> None:
    # Chunked, with a pause between the pieces so the server sees the first one alone:
    # one read of the request stream returns only what has arrived so far.
    body = json.dumps(APP_BODY).encode()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 40):
            yield body[start : start + 40]
            await asyncio.sleep(0.02)

    headers = {"Content-Type": "application/json"}
    async with gateway.http.post(APP, data=pieces(), headers=headers) as response:
        assert response.status == 201, await response.text()
        tracking_id = (await response.json())["tracking_id"]
    complaint = await gateway.store.get_complaint(tracking_id)
    assert complaint is not None and complaint.text == TEXT


# -- the front desk ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "challenge"),
    [
        ({}, 401, 'Bearer realm="lapor"'),
        ({"Authorization": "Basic YnVkaTpzZWNyZXQ="}, 401, 'Bearer realm="lapor"'),
        ({"Authorization": "Bearer "}, 401, 'Bearer realm="lapor"'),
        ({"Authorization": "Bearer not-a-known-token"}, 401, 'Bearer error="invalid_token"'),
        (ADMIN_AUTH, 403, None),
    ],
    ids=["no-token", "basic", "empty-bearer", "unknown-token", "admin-token"],
)
async def test_desk_intake_needs_a_desk_token(
    gateway: Running, headers: dict[str, str], status: int, challenge: str | None
) -> None:
    answer = await post_json(gateway, DESK, APP_BODY | {"channel": "walkin"}, headers)
    assert answer.status == status
    assert answer.body["error"] == ("unauthorized" if status == 401 else "forbidden")
    assert answer.headers.get("WWW-Authenticate") == challenge
    assert nothing_stored(gateway)


@pytest.mark.parametrize("channel", [Channel.WALKIN, Channel.PHONE])
async def test_desk_complaint_is_logged_by_the_staff_member(
    gateway: Running, channel: Channel
) -> None:
    answer = await post_json(gateway, DESK, APP_BODY | {"channel": channel.value}, DESK_AUTH)

    assert answer.status == 201, answer.body
    tracking_id = answer.body["tracking_id"]
    assert answer.headers["Location"] == f"/status/{tracking_id}"
    complaint = await gateway.store.get_complaint(tracking_id)
    assert complaint is not None
    assert complaint.channel is channel
    assert complaint.logged_by == "budi"
    assert complaint.reporter.phone == "+6281234567890"
    assert complaint.reply_to == ReplyAddress(channel=Channel.SMS, address="+6281234567890")

    items = await eventually(lambda: queue(gateway), lambda items: bool(items and items[0]["case"]))
    assert items[0]["channel"] == channel.value
    assert items[0]["logged_by"] == "budi"
    assert items[0]["case"]["state"] == "diterima"


@pytest.mark.parametrize(
    "channel",
    [None, "web", "sms", "WALKIN", "", 1],
    ids=["missing", "web", "sms", "upper-case", "empty", "number"],
)
async def test_desk_complaint_needs_walkin_or_phone(gateway: Running, channel: object) -> None:
    body = APP_BODY if channel is None else APP_BODY | {"channel": channel}
    answer = await post_json(gateway, DESK, body, DESK_AUTH)
    assert answer.status == 422
    assert answer.body["error"] == "validation_error"
    assert [f["field"] for f in answer.body["fields"]] == ["channel"]
    assert nothing_stored(gateway)


async def test_the_app_cannot_choose_a_channel(gateway: Running) -> None:
    answer = await post_json(gateway, APP, APP_BODY | {"channel": "walkin"})
    assert answer.status == 422
    assert [f["field"] for f in answer.body["fields"]] == ["channel"]
    assert nothing_stored(gateway)


# -- the OpenAPI document ------------------------------------------------------------------

COMPONENTS = "#/components/schemas/{model}"
DOC_URI = "urn:lapor:openapi"


async def openapi_document(running: Running) -> dict[str, Any]:
    async with running.http.get("/api/v1/openapi.json") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        document: dict[str, Any] = await response.json()
        return document


def validator_for(document: dict[str, Any], component: str) -> Any:
    """A JSON Schema validator for one component, with $refs resolved inside the document."""
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{component}"}
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


async def test_openapi_document_is_valid_openapi_3_1(gateway: Running) -> None:
    document = await openapi_document(gateway)
    assert document["openapi"].startswith("3.1")
    errors = [str(e.message) for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "model", "required"),
    [(APP, AppComplaintRequest, ["text"]), (DESK, DeskComplaintRequest, ["text", "channel"])],
)
async def test_request_schemas_are_the_models_that_validate(
    gateway: Running, path: str, model: type[BaseModel], required: list[str]
) -> None:
    document = await openapi_document(gateway)
    content = document["paths"][path]["post"]["requestBody"]["content"]
    assert content == {
        "application/json": {"schema": {"$ref": COMPONENTS.format(model=model.__name__)}}
    }

    expected = model.model_json_schema(ref_template=COMPONENTS)
    definitions = expected.pop("$defs", {})
    components = document["components"]["schemas"]
    assert components[model.__name__] == expected
    for name, schema in definitions.items():  # e.g. Classification
        assert components[name] == schema
    assert expected["required"] == required
    assert set(expected["properties"]) == set(model.model_fields)
    assert expected["additionalProperties"] is False


async def test_real_answers_validate_against_the_documented_schemas(gateway: Running) -> None:
    document = await openapi_document(gateway)
    created = await post_json(gateway, APP, APP_BODY)
    assert created.status == 201
    validator_for(document, "ComplaintCreated").validate(created.body)

    refused = await post_json(gateway, APP, {"text": "pendek"})
    assert refused.status == 422
    validator_for(document, "ErrorBody").validate(refused.body)

    items = await eventually(lambda: queue(gateway), lambda items: bool(items and items[0]["case"]))
    validator_for(document, "QueueResponse").validate({"items": items, "next_cursor": None})

    # The validator is not a rubber stamp: a body missing a required field fails it.
    broken = {k: v for k, v in created.body.items() if k != "tracking_id"}
    assert not validator_for(document, "ComplaintCreated").is_valid(broken)


async def test_documented_error_statuses_cover_what_the_app_endpoint_answers(
    tmp_path: Path,
) -> None:
    running = await start_gateway(tmp_path, max_json_bytes=200)
    try:
        document = await openapi_document(running)
        documented = set(document["paths"][APP]["post"]["responses"])
        answers = [
            await post_json(running, APP, b"{"),
            await post_json(running, APP, APP_BODY | {"text": TEXT * 3}),
            await post_json(running, APP, {"text": "pendek"}),
            await post_json(running, APP, APP_BODY, {"Idempotency-Key": "a b"}),
        ]
        async with running.http.post(APP, data="teks", headers={"Content-Type": "text/plain"}) as r:
            answers.append(Answer(r.status, dict(r.headers), await r.json()))
        statuses = {str(a.status) for a in answers}
        assert statuses == {"400", "413", "415", "422"}
        assert statuses <= documented
        for answer in answers:
            validator_for(document, "ErrorBody").validate(answer.body)
    finally:
        await running.stop()


async def test_every_api_route_is_documented_at_the_path_it_serves(gateway: Running) -> None:
    """The document is built from the routes: an API route cannot be served without being
    documented, nor documented where it is not served."""
    document = await openapi_document(gateway)
    served = {
        (route.resource.canonical, route.method.lower())
        for route in gateway.server.app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and route.resource.canonical.startswith("/api/v1/")
        and route.resource.canonical != "/api/v1/openapi.json"
    }
    documented = {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/api/v1/")
    }
    assert served == documented
    assert ("/api/v1/complaints/{tracking_id}/actions", "post") in documented
