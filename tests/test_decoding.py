"""Pure response decoding: envelopes, both error shapes, HTML and truncated bodies."""

from __future__ import annotations

import pytest

from consigno_async.decoding import (
    decode_payload,
    error_from_response,
    loads_json,
    parse_error_message,
    parse_retry_after,
)
from consigno_async.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
)

JSON = "application/json"


def test_success_envelope_returns_the_response_member() -> None:
    body = b'{"msg":"OK","parameters":{},"response":{"metadata":{"documentId":"a"}}}'
    assert decode_payload(body, status=201, content_type=JSON) == {"metadata": {"documentId": "a"}}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b'{"msg":"OK","response":{"id":"a', "truncated"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
        (b"plain words", "not JSON"),
        (b'{"msg":"OK"}', "envelope"),
        (b"[1,2]", "envelope"),
    ],
)
def test_bodies_that_are_not_an_envelope_raise_response_format_error(
    body: bytes, fragment: str
) -> None:
    with pytest.raises(ResponseFormatError) as info:
        decode_payload(body, status=200, content_type=JSON)
    assert fragment in str(info.value)
    assert info.value.status == 200
    assert info.value.snippet == body[:200].decode()


def test_html_detected_from_content_type_even_without_markup() -> None:
    with pytest.raises(ResponseFormatError, match="HTML"):
        loads_json(b"Service down", status=502, content_type="text/html; charset=utf-8")


def test_parse_error_message() -> None:
    assert parse_error_message("[5004 - ENTITY_NOT_FOUND] Workflow x not found") == (
        "5004",
        "ENTITY_NOT_FOUND",
        "Workflow x not found",
    )
    assert parse_error_message("[4290 - TOO_MANY_REQUESTS]") == (
        "4290",
        "TOO_MANY_REQUESTS",
        "TOO_MANY_REQUESTS",
    )
    assert parse_error_message("no brackets") == (None, None, "no brackets")


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "4000", BadRequestError),
        (401, "1002", AuthenticationError),
        (403, "1004", PermissionDeniedError),
        (404, "5004", NotFoundError),
        (400, "5004", NotFoundError),  # the code wins over the status
        (409, "4090", ConflictError),
        (415, "4001", BadRequestError),
        (500, "9999", ServerError),
        (503, "5030", ServerError),
    ],
)
def test_service_error_shape_maps_to_the_right_class(
    status: int, code: str, cls: type[ApiError]
) -> None:
    body = (
        b'{"code":"' + code.encode() + b'","msg":"[' + code.encode() + b" - SOME_NAME] what "
        b'happened","parameters":{"rule":"no_signer","path":"actions"}}'
    )
    exc = error_from_response(status, body, content_type=JSON)
    assert type(exc) is cls
    assert isinstance(exc, ApiError)
    assert (exc.status, exc.code, exc.name, exc.message) == (
        status,
        code,
        "SOME_NAME",
        "what happened",
    )
    assert exc.parameters == {"rule": "no_signer", "path": "actions"}


def test_numeric_code_and_missing_prefix_are_tolerated() -> None:
    exc = error_from_response(404, b'{"code":5004,"msg":"gone"}', content_type=JSON)
    assert isinstance(exc, NotFoundError)
    assert (exc.code, exc.name, exc.message) == ("5004", None, "gone")


def test_framework_error_shape() -> None:
    body = (
        b'{"timestamp":"2026-01-01T00:00:00Z","status":405,"error":"Method Not Allowed",'
        b'"message":"Request method PATCH not supported","path":"/api/v1/workflows"}'
    )
    exc = error_from_response(405, body, content_type=JSON)
    assert isinstance(exc, BadRequestError)
    assert exc.message == "Request method PATCH not supported"
    assert exc.code is None
    assert exc.name is None
    assert exc.parameters["path"] == "/api/v1/workflows"
    exc = error_from_response(404, b'{"status":404,"error":"Not Found"}', content_type=JSON)
    assert isinstance(exc, NotFoundError)
    assert exc.message == "Not Found"


def test_rate_limit_carries_retry_after() -> None:
    body = b'{"code":"4290","msg":"[4290 - TOO_MANY_REQUESTS] slow down"}'
    exc = error_from_response(429, body, content_type=JSON, retry_after="0.25")
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 0.25


def test_html_error_page_and_empty_bodies() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head></html>"
    exc = error_from_response(502, html, content_type="text/html")
    assert isinstance(exc, ResponseFormatError)
    assert exc.status == 502
    assert "502 Bad Gateway" in exc.snippet
    empty = error_from_response(503, b"", content_type=None, retry_after="2")
    assert isinstance(empty, ServerError)
    assert "empty" in empty.message
    limited = error_from_response(429, b"", content_type=None, retry_after="2")
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 2.0


def test_json_that_is_neither_shape() -> None:
    assert isinstance(error_from_response(400, b"[]", content_type=JSON), ResponseFormatError)
    assert isinstance(error_from_response(400, b'{"x":1}', content_type=JSON), ResponseFormatError)


def test_scrub_removes_secrets_from_messages_and_parameters() -> None:
    body = b'{"code":"4000","msg":"[4000 - VALIDATION_FAILED] answer Rex-1234 too short",'
    body += b'"parameters":{"value":"Rex-1234"}}'
    exc = error_from_response(
        400, body, content_type=JSON, scrub=lambda s: s.replace("Rex-1234", "***")
    )
    assert isinstance(exc, ApiError)
    assert "Rex-1234" not in str(exc)
    assert "Rex-1234" not in repr(exc.parameters)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("nan") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0
    assert parse_retry_after("tomorrow") is None


def test_workflow_model_is_tolerant_and_keeps_its_json() -> None:
    import datetime as dt

    from consigno_async import ActionStatus, Workflow, WorkflowStatus
    from consigno_async.responses import structure

    data = {
        "id": "0123456789abcdef01234567",
        "name": "NDA",
        "status": 2,
        "createdOn": "2026-12-04T15:44:03.123Z",
        "expiresOn": "2027-01-03",
        "totalActions": "1",
        "documents": [{"documentId": "a" * 24, "fields": [{"x": 1}], "futureMember": 1}],
        "actions": [
            {
                "id": "b" * 24,
                "ref": 1,
                "status": "COMPLETED",
                "signer": {"email": "a@example.com", "amr": ["link"], "secretAnswer": "Rex!"},
            }
        ],
        "brandNewMember": {"x": 1},
    }
    wf = structure(data, Workflow)
    assert wf.status is WorkflowStatus.COMPLETED
    assert wf.created_on == dt.datetime(2026, 12, 4, 15, 44, 3, 123000, tzinfo=dt.UTC)
    assert wf.expires_on == dt.date(2027, 1, 3)
    assert wf.total_actions == 1
    assert wf.actions[0].ref == "1"
    assert wf.actions[0].status is ActionStatus.COMPLETED
    assert wf.document_ids == {"a" * 24}
    assert "Rex!" not in repr(wf)
    wire = wf.to_dict()
    assert wire["brandNewMember"] == {"x": 1}
    assert "secretAnswer" not in wire["actions"][0]["signer"]
    wire["name"] = "changed"
    assert wf.to_dict()["name"] == "NDA"


@pytest.mark.parametrize(
    "data",
    [
        {"name": "no id"},
        {"id": "x", "status": 42},
        {"id": "x", "documents": "not a list"},
        {"id": "x", "actions": [{"status": "SOMETHING_NEW"}]},
        "not an object",
    ],
)
def test_wrong_shapes_raise_response_format_error(data: object) -> None:
    from consigno_async import Workflow
    from consigno_async.responses import structure

    with pytest.raises(ResponseFormatError, match="shape of a Workflow"):
        structure(data, Workflow)
