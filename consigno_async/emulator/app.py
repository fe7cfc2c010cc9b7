"""
The service side of the emulator: the ``/api/v1`` routes of ConsignO Cloud.

==========================================  ==================================================
route                                       answer
==========================================  ==================================================
``POST /auth/login``                        200, token in ``X-Auth-Token``; body username
``POST /auth/logout``                       200; the token stops working
``HEAD /auth``                              200 for a valid token, 401 otherwise
``POST /documents``                         201 ``{"metadata": DocumentMetadata}`` (multipart)
``POST /workflows``                         201 Workflow (launched when ``status`` is 1)
``GET /workflows``                          200 ``{count, total, offset, workflows}``
``GET /workflows/deleted``                  200, the same for deleted workflows
``GET /workflows/{id}``                     200 Workflow
``PUT|PATCH /workflows/{id}``               200 Workflow (``status: 1`` launches a draft)
``DELETE /workflows/{id}``                  200 Workflow with status 6
``POST /workflows/{id}/documents``          200 PDF (one document) or zip (several), streamed
``POST /workflows/{id}/audit``              200 audit trail PDF; 409 code 4091 before completion
==========================================  ==================================================

Besides, ``editUrl`` (``/ui/workflows/{id}/edit``) opens a stand-in page, and an embedded
action's ``signUrl`` (``/ui/sign/{id}/{actionId}``) signs the action at once and redirects to
its ``returnUrl`` with ``?status=success`` — the signer's visit, without a browser.

The token is read from the ``X-Auth-Token`` header, the ``X-Auth-Token`` query parameter, or
the ``X-Auth-Token`` field of an urlencoded form body. Ids that are not 24 lowercase hex
characters answer ``5004`` like unknown ones.
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from aiohttp import web

from .codes import EmulatorError
from .documents import receive_upload
from .middleware import (
    CORE,
    DROP_AFTER,
    NEW_TOKEN,
    TRUNCATE,
    drop_connection,
    error_middleware,
    fault_middleware,
    json_response,
    stats_middleware,
)
from .tokens import Session

if TYPE_CHECKING:  # the server module imports this one: no import at run time
    from .server import Core

__all__ = ["build_app", "ok"]

_FORM = "application/x-www-form-urlencoded"
_STREAM_CHUNK = 256 * 1024
_SORT_FIELDS = ("createdOn", "name", "status")


def ok(payload: Any, status: int = 200) -> web.Response:
    """The service's success envelope around ``payload``."""
    return json_response({"msg": "OK", "parameters": {}, "response": payload}, status)


async def _token(request: web.Request) -> str | None:
    token = request.headers.get("X-Auth-Token") or request.query.get("X-Auth-Token")
    if token:
        return token
    if request.method == "POST" and request.content_type == _FORM:
        form = await request.post()
        value = form.get("X-Auth-Token")
        if isinstance(value, str) and value:
            return value
    return None


async def authenticate(request: web.Request) -> Session:
    """Check the request's token (header, query or form); note a rotated token for the answer."""
    core = request.app[CORE]
    session, new_token = core.tokens.authenticate(await _token(request))
    if new_token is not None:
        request[NEW_TOKEN] = new_token
    return session


async def read_json(request: web.Request, core: Core) -> Any:
    """The request's JSON body; 4002 when it is not JSON."""
    raw = await request.read()
    core.store.stats.counters["bytes_received"] += len(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EmulatorError("4002", "The request body is not valid JSON", field="body") from exc


# -- auth ------------------------------------------------------------------------------------


async def login(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/auth/login: check the credentials (and loginAs headers), answer with a token."""
    core = request.app[CORE]
    body = await read_json(request, core)
    if not isinstance(body, dict):
        raise EmulatorError("4002", "The body must be a JSON object", field="body")
    for key in ("username", "password"):
        if not isinstance(body.get(key), str):
            raise EmulatorError("4002", f"{key} is required and must be a string", field=key)
    tenant = body.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise EmulatorError("4002", "tenant must be a string", field="tenant")
    token, session = core.tokens.login(body["username"], body["password"], tenant, request.headers)
    response = ok({"username": session.user, "tenant": session.tenant, "loginAs": session.login_as})
    response.headers["X-Auth-Token"] = token
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/auth/logout: invalidate the request's token."""
    core = request.app[CORE]
    await authenticate(request)
    token = await _token(request)
    assert token is not None
    core.tokens.logout(token)
    request.pop(NEW_TOKEN, None)
    return ok({})


async def verify(request: web.Request) -> web.StreamResponse:
    """HEAD /api/v1/auth: 200 when the request's token is valid (401 otherwise)."""
    await authenticate(request)
    return web.Response(status=200)


# -- documents and workflows -----------------------------------------------------------------


async def upload_document(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/documents: receive a multipart PDF upload, answer its metadata."""
    core = request.app[CORE]
    session = await authenticate(request)
    document = await receive_upload(request, core.store, core.data_dir, session.user)
    return ok({"metadata": document.metadata()}, 201)


async def create_workflow(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/workflows: check and create a workflow (launched with status 1)."""
    core = request.app[CORE]
    session = await authenticate(request)
    record = await core.engine.create(await read_json(request, core), session.user)
    return ok(core.engine.render(record), 201)


async def get_workflow(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/workflows/{id}: one workflow (deleted ones answer with status 6)."""
    core = request.app[CORE]
    await authenticate(request)
    return ok(core.engine.render(core.engine.workflow(request.match_info["id"])))


async def update_workflow(request: web.Request) -> web.StreamResponse:
    """PUT or PATCH /api/v1/workflows/{id}: change a workflow (e.g. launch a draft)."""
    core = request.app[CORE]
    await authenticate(request)
    body = await read_json(request, core)
    record = await core.engine.update(request.match_info["id"], body)
    return ok(core.engine.render(record))


async def delete_workflow(request: web.Request) -> web.StreamResponse:
    """DELETE /api/v1/workflows/{id}: mark the workflow deleted (status 6)."""
    core = request.app[CORE]
    await authenticate(request)
    record = await core.engine.delete(request.match_info["id"])
    return ok(core.engine.render(record))


def _int_param(request: web.Request, name: str, default: int | None, low: int, high: int) -> Any:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EmulatorError("4002", f"{name} must be an integer", field=name) from None
    if value < low:
        raise EmulatorError("4002", f"{name} must be at least {low}", field=name)
    return min(value, high)


def _list_query(request: web.Request) -> dict[str, Any]:
    sort_field = request.query.get("sortField", "createdOn")
    if sort_field not in _SORT_FIELDS:
        raise EmulatorError(
            "4002", f"sortField must be one of {', '.join(_SORT_FIELDS)}", field="sortField"
        )
    sort_dir = request.query.get("sortDir", "desc").lower()
    if sort_dir not in ("asc", "desc"):
        raise EmulatorError("4002", "sortDir must be asc or desc", field="sortDir")
    status = _int_param(request, "filterStatus", None, 0, 6)
    if status is not None and status > 6:
        raise EmulatorError("4002", "filterStatus must be between 0 and 6", field="filterStatus")
    return {
        "offset": _int_param(request, "offset", 0, 0, 10**9),
        "nbItems": _int_param(request, "nbItems", 20, 1, 100),
        "filterStatus": status,
        "filterName": request.query.get("filterName") or None,
        "sortField": sort_field,
        "sortDir": sort_dir,
    }


async def list_workflows(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/workflows: one page of workflows, filtered and sorted by the query."""
    core = request.app[CORE]
    await authenticate(request)
    return ok(core.engine.list(_list_query(request)))


async def list_deleted(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/workflows/deleted: one page of deleted workflows."""
    core = request.app[CORE]
    await authenticate(request)
    return ok(core.engine.list(_list_query(request), deleted=True))


# -- downloads -------------------------------------------------------------------------------


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


async def stream_file(
    request: web.Request, source: Path | bytes, content_type: str, filename: str
) -> web.StreamResponse:
    """Stream ``source`` in chunks with Content-Length, honouring truncate and drop faults."""
    if request.get(DROP_AFTER):
        return drop_connection(request)
    if isinstance(source, bytes):
        size = len(source)
    else:
        size = (await asyncio.to_thread(source.stat)).st_size
    response = web.StreamResponse(
        headers={"Content-Type": content_type, "Content-Disposition": _disposition(filename)}
    )
    response.content_length = size
    token = request.get(NEW_TOKEN)
    if token:
        response.headers["X-Auth-Token"] = token
    limit = size // 2 if request.get(TRUNCATE) else size
    await response.prepare(request)
    sent = 0
    if isinstance(source, bytes):
        await response.write(source[:limit])
        sent = limit
    else:
        handle = await asyncio.to_thread(source.open, "rb")
        try:
            while sent < limit:
                chunk = await asyncio.to_thread(handle.read, min(_STREAM_CHUNK, limit - sent))
                if not chunk:
                    break
                await response.write(chunk)
                sent += len(chunk)
        finally:
            handle.close()
    if sent < size:
        drop_connection(request)
        return response
    await response.write_eof()
    return response


async def download_documents(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/workflows/{id}/documents: stream the signed PDF (or a ZIP)."""
    core = request.app[CORE]
    await authenticate(request)
    source, content_type, filename, temporary = await core.engine.documents_file(
        request.match_info["id"]
    )
    try:
        return await stream_file(request, source, content_type, filename)
    finally:
        if temporary and isinstance(source, Path):
            source.unlink(missing_ok=True)


async def download_audit(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/workflows/{id}/audit: stream the audit trail PDF (4091 before completion)."""
    core = request.app[CORE]
    await authenticate(request)
    workflow_id = request.match_info["id"]
    data = core.engine.audit(workflow_id)
    return await stream_file(request, data, "application/pdf", f"audit-{workflow_id}.pdf")


# -- the web pages behind editUrl and signUrl ------------------------------------------------


def _page(title: str, text: str, status: int = 200) -> web.Response:
    body = f"<html><head><title>{html.escape(title)}</title></head><body><h1>"
    body += f"{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    return web.Response(text=body, status=status, content_type="text/html")


async def edit_page(request: web.Request) -> web.StreamResponse:
    """GET /ui/workflows/{id}/edit: what ``editUrl`` opens, a stand-in for the workspace."""
    core = request.app[CORE]
    try:
        record = core.engine.workflow(request.match_info["id"])
    except EmulatorError as exc:
        return _page("Not found", exc.message, 404)
    return _page(f"Project {record.name}", f"Status {int(record.status)} (emulator workspace)")


async def sign_page(request: web.Request) -> web.StreamResponse:
    """
    GET /ui/sign/{id}/{action}: what an embedded signer's ``signUrl`` does in the emulator:
    sign the action at once, then redirect to its ``returnUrl`` with ``?status=success``
    (``expired`` when too late).
    """
    core = request.app[CORE]
    workflow_id, action_id = request.match_info["id"], request.match_info["action"]
    try:
        record = core.engine.workflow(workflow_id)
        action = next((a for a in record.actions if a.id == action_id), None)
        if action is None:
            raise EmulatorError("5004", "Action not found")
        status = "expired" if int(record.status) == 3 else "success"
        if status == "success":
            await core.engine.sign(workflow_id, action_id)
    except EmulatorError as exc:
        return _page("Cannot sign", exc.message, exc.status)
    if not action.return_url:
        return _page("Signed", "You may close this page.")
    separator = "&" if "?" in action.return_url else "?"
    raise web.HTTPFound(f"{action.return_url}{separator}status={status}")


def build_app(core: Core) -> web.Application:
    """The aiohttp application: ``/api/v1`` routes here, ``/_emulator`` routes from control."""
    from .control import add_control_routes

    app = web.Application(
        middlewares=[stats_middleware, fault_middleware, error_middleware],
        client_max_size=64 * 1024 * 1024,
    )
    app[CORE] = core
    api = "/api/v1"
    router = app.router
    router.add_post(f"{api}/auth/login", login)
    router.add_post(f"{api}/auth/logout", logout)
    router.add_route("HEAD", f"{api}/auth", verify)
    router.add_post(f"{api}/documents", upload_document)
    router.add_post(f"{api}/workflows", create_workflow)
    router.add_get(f"{api}/workflows", list_workflows, allow_head=False)
    router.add_get(f"{api}/workflows/deleted", list_deleted, allow_head=False)
    router.add_get(f"{api}/workflows/{{id}}", get_workflow, allow_head=False)
    router.add_put(f"{api}/workflows/{{id}}", update_workflow)
    router.add_patch(f"{api}/workflows/{{id}}", update_workflow)
    router.add_delete(f"{api}/workflows/{{id}}", delete_workflow)
    router.add_post(f"{api}/workflows/{{id}}/documents", download_documents)
    router.add_post(f"{api}/workflows/{{id}}/audit", download_audit)
    router.add_get("/ui/workflows/{id}/edit", edit_page, allow_head=False)
    router.add_get("/ui/sign/{id}/{action}", sign_page, allow_head=False)
    add_control_routes(app)
    return app
