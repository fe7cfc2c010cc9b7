"""
:class:`ConsignoClient`: the asyncio client for the ConsignO Cloud API.

One client wraps one aiohttp session and serves any number of concurrent tasks (a web
application keeps one for its lifetime). It logs in lazily, follows the service's token
rotation and idle expiry, bounds the requests in flight, retries only what is safe, streams
uploads and downloads, and never writes a secret into a log, a repr or an exception. ::

    async with ConsignoClient(base_url, username="demo", password="demo-password") as client:
        wf = await client.launch(builder)
        async for item in client.list_workflows(status=WorkflowStatus.LAUNCHED):
            print(item.id, item.name)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import os
import re
import ssl as ssl_module
import time
import warnings
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import orjson

from ._client_extras import ClientExtras
from ._http import Call, Hook, HttpCore, drain_true, read_payload, read_workflow
from ._logging import Redactor, logger, payload_secrets
from .auth import TokenManager
from .builder import WorkflowBuilder
from .downloads import DownloadedFile, resolve_destination, save_stream
from .enums import PdfaPolicy, WorkflowStatus
from .errors import (
    AmbiguousOutcomeError,
    AuthenticationError,
    ClientStateError,
    ConflictError,
    ConnectError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    ResponseFormatError,
)
from .reconcile import find_created_workflow
from .responses import DocumentMetadata, Workflow, WorkflowPage, structure
from .retry import RequestKind, RetryPolicy
from .uploads import DocumentSource, UploadSource, open_source, upload_data

if TYPE_CHECKING:
    from .spec import WorkflowSpec

__all__ = ["ConsignoClient"]

_log = logger.getChild("client")

#: Default per-attempt timeout of uploads and downloads: connect quickly, but let a 200 MB
#: transfer take its time (only silence longer than ``sock_read`` aborts it).
DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
#: Default per-attempt timeout of the small JSON calls: one deadline for the whole exchange
#: (a ``sock_read`` timer would be re-armed on every read of every answer).
DEFAULT_CALL_TIMEOUT: Final = aiohttp.ClientTimeout(total=120, sock_connect=30)
DEFAULT_CONCURRENCY: Final = 16
_ID = re.compile(r"[0-9a-f]{24}")
_DOCUMENT_ALREADY_USED: Final = "4090"
_PAGE_MAX: Final = 100


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


def _check_id(value: str, what: str = "workflow id") -> str:
    if type(value) is not str:
        raise InvalidArgumentTypeError(f"the {what} must be a str, not {type(value).__name__}")
    if _ID.fullmatch(value) is None:
        # The value may be anything a caller passed: show its length only.
        raise InvalidArgumentError(
            f"invalid {what}: expected 24 lowercase hexadecimal characters "
            f"(got {len(value)} characters)"
        )
    # Validated as 24 lowercase hex digits, the id is already quoted: quote_id(value) == value.
    return value


def _check_arguments(concurrency: int, max_retries: int, timeout: object) -> None:
    # Messages name the argument and what to pass; they never quote a credential.
    for name, value, least in (("concurrency", concurrency, 1), ("max_retries", max_retries, 0)):
        if type(value) is not int or value < least:
            cls = InvalidArgumentError if type(value) is int else InvalidArgumentTypeError
            raise cls(f"{name}= takes an int of at least {least} (got {value!r})")
    if not isinstance(timeout, aiohttp.ClientTimeout) and not (
        type(timeout) in (int, float) and timeout > 0  # type: ignore[operator]
    ):
        raise InvalidArgumentError(
            "timeout= takes a positive number of seconds or an aiohttp.ClientTimeout"
        )


class ConsignoClient(ClientExtras):
    """
    The asyncio client. Use it as an async context manager (or call :meth:`aclose`).

    Args:
        base_url: the API root, e.g. ``https://cloud.consigno.com/api/v1`` or an emulator's
            ``emu.base_url``.
        username, password: platform API key and secret, or (with ``client_id``) the user
            name and third-party application password of the user to act as (loginAs).
        tenant: the tenant, when the account needs one.
        client_id, client_secret: the platform's key and secret for loginAs.
        session: an existing :class:`aiohttp.ClientSession` to use; the client then does not
            close it.
        timeout: seconds (total per attempt) or an :class:`aiohttp.ClientTimeout`, for every
            request. By default JSON calls get 120 s in all and transfers (uploads,
            downloads) are aborted only by 120 s of silence, however long they take.
        max_retries: retries after the first attempt, for what is safe to retry.
        concurrency: the most requests in flight at once (uploads included).
        ssl: TLS verification: True (default), False to turn it off, or an SSLContext.
        on_request, on_response, on_retry: hooks (plain or async callables) receiving a
            RequestEvent, ResponseEvent or RetryEvent; they never see a token.
    """

    def __init__(
        self,
        base_url: str,
        *,
        username: str,
        password: str,
        tenant: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        concurrency: int = DEFAULT_CONCURRENCY,
        ssl: bool | ssl_module.SSLContext = True,
        on_request: Hook | None = None,
        on_response: Hook | None = None,
        on_retry: Hook | None = None,
    ) -> None:
        _check_arguments(concurrency, max_retries, timeout)
        if (client_id is None) != (client_secret is None):
            raise InvalidArgumentError(
                "client_id and client_secret go together (loginAs): pass both or neither"
            )
        self._username = username
        self._password = password
        self._tenant = tenant
        self._client_id = client_id
        self._client_secret = client_secret
        self._owns_session = session is None
        self._state = _State.UNOPENED
        self._redactor = Redactor([password, client_secret])
        self._auth = TokenManager()
        call_timeout: aiohttp.ClientTimeout
        if timeout is DEFAULT_TIMEOUT:
            call_timeout = DEFAULT_CALL_TIMEOUT
        elif isinstance(timeout, aiohttp.ClientTimeout):
            call_timeout = timeout
        else:
            timeout = call_timeout = aiohttp.ClientTimeout(total=float(timeout))
        self._core = HttpCore(
            base_url,
            session=session,
            timeout=call_timeout,
            transfer_timeout=timeout,
            retry=RetryPolicy(max_retries=max_retries),
            concurrency=concurrency,
            ssl=ssl,
            auth=self._auth,
            login=self._login,
            redactor=self._redactor,
            on_request=on_request,
            on_response=on_response,
            on_retry=on_retry,
        )
        self._concurrency = concurrency

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> ConsignoClient:
        self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _open(self) -> HttpCore:
        state = self._state
        if state is _State.OPEN:
            return self._core
        if state is _State.CLOSED:
            raise ClientStateError("this ConsignoClient is closed; create a new one")
        if self._core.session is None:
            connector = aiohttp.TCPConnector(limit=max(self._concurrency, 10))
            self._core.session = aiohttp.ClientSession(connector=connector)
        elif self._core.session.closed:
            raise ClientStateError("the aiohttp session given to ConsignoClient is closed")
        self._state = _State.OPEN
        return self._core

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran (a closed client cannot be reopened)."""
        return self._state is _State.CLOSED

    @property
    def user(self) -> str | None:
        """The user the current token was issued to, once logged in."""
        return self._auth.user

    async def aclose(self) -> None:
        """Forget the token and close the session (unless it was given to the client)."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        self._forget_token()
        session = self._core.session
        if self._owns_session and session is not None:
            await session.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if getattr(self, "_state", None) is _State.OPEN:
            _warn(
                f"unclosed {self!r}: use 'async with ConsignoClient(...)' or await aclose()",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"<ConsignoClient {self._core.base_url} user={self._username!r} {self._state.value}>"

    # ----------------------------------------------------------------- authentication

    async def _login(self) -> str:
        body: dict[str, str] = {"username": self._username, "password": self._password}
        if self._tenant is not None:
            body["tenant"] = self._tenant
        headers = None
        if self._client_id is not None and self._client_secret is not None:
            headers = {"X-Client-Id": self._client_id, "X-Client-Secret": self._client_secret}
        call = Call(
            "POST",
            "/auth/login",
            json=orjson.dumps(body),
            auth=False,
            headers=headers,
            operation="login",
        )

        async def read_token(resp: aiohttp.ClientResponse) -> str:
            await resp.read()
            token = resp.headers.get("X-Auth-Token")
            if not token:
                raise ResponseFormatError(
                    "login succeeded but no X-Auth-Token came back", status=resp.status
                )
            return token

        token = await self._core.send(call, read_token)
        self._redactor.add_token(token)
        return token

    def _forget_token(self) -> None:
        self._redactor.retire_token()
        self._auth.forget()

    async def verify_token(self) -> bool:
        """
        True if the token held is still valid (``HEAD /auth``); False if it is not, or if no
        token is held yet. Never logs in.
        """
        core = self._open()
        if self._auth.peek() is None:
            return False
        try:
            return await core.send(
                Call("HEAD", "/auth", relogin=False, operation="verify_token"), drain_true
            )
        except AuthenticationError:
            return False

    async def logout(self) -> None:
        """Invalidate the token on the service and forget it. A no-op without a token."""
        core = self._open()
        if self._auth.peek() is None:
            return
        try:
            call = Call("POST", "/auth/logout", relogin=False, operation="logout")
            await core.send(call, drain_true)
        except AuthenticationError:
            pass  # the token was already dead: logged out all the same
        finally:
            self._forget_token()

    # ----------------------------------------------------------------- documents

    async def upload_document(
        self,
        source: DocumentSource,
        *,
        pdfa: PdfaPolicy | int = PdfaPolicy.NONE,
        label: str | None = None,
        file_name: str | None = None,
    ) -> DocumentMetadata:
        """
        Upload a PDF (path, bytes, binary file or async iterator of bytes), streamed.

        Raises:
            DocumentError: not a PDF (checked before sending) or unreadable.
            StreamConsumedError: a retry was needed but the source was a one-shot stream.
            AmbiguousOutcomeError: the connection dropped after sending; the service may hold
                an (unused) copy of the document.
        """
        self._open()
        upload = await open_source(source, file_name=file_name)
        return await self._upload(upload, pdfa, label)

    async def _upload(
        self, upload: UploadSource, pdfa: PdfaPolicy | int, label: str | None
    ) -> DocumentMetadata:
        call = Call(
            "POST",
            "/documents",
            kind=RequestKind.CREATE,
            operation="upload_document",
            upload=upload,
            upload_data=upload_data(pdfa, label),
        )
        payload = await self._open().send(call, read_payload)
        metadata = payload.get("metadata") if isinstance(payload, dict) else None
        return structure(metadata, DocumentMetadata, status=201)

    # ----------------------------------------------------------------- workflows

    async def launch(self, workflow: WorkflowBuilder | WorkflowSpec) -> Workflow:
        """
        Validate (build) a workflow, upload its documents concurrently, create and launch it.

        Documents are uploaded in a :class:`asyncio.TaskGroup`, within the client's
        concurrency bound. If the call fails or is cancelled, the error (or cancellation)
        carries a note listing the documents already uploaded, and the same is logged.
        """
        spec = workflow.build() if isinstance(workflow, WorkflowBuilder) else workflow
        if spec.inline:
            return await self.create_workflow(spec, launch=True)
        self._open()
        # Check every document before the first byte goes out: no orphan upload for a
        # workflow that was never going to be created.
        sources = [await open_source(d.source, file_name=d.file_name) for d in spec.documents]
        uploaded: dict[str, str] = {}

        async def upload(document: Any, source: UploadSource) -> None:
            meta = await self._upload(source, document.pdfa, document.label)
            uploaded[document.key] = meta.document_id

        try:
            try:
                async with asyncio.TaskGroup() as group:
                    for document, source in zip(spec.documents, sources, strict=True):
                        group.create_task(upload(document, source))
            except BaseExceptionGroup as group_error:
                # One failed upload (the usual case) surfaces as itself, not as a group.
                if len(group_error.exceptions) == 1:
                    raise group_error.exceptions[0] from None
                raise
            return await self.create_workflow(spec, document_ids=uploaded, launch=True)
        except BaseException as exc:
            if uploaded:
                listing = ", ".join(f"{key}={doc_id}" for key, doc_id in uploaded.items())
                note = f"launch({spec.name!r}): documents already uploaded: {listing}"
                exc.add_note(note)
                _log.warning("%s", note)
            raise

    async def create_workflow(
        self,
        spec: WorkflowSpec,
        document_ids: Mapping[str, str] | None = None,
        *,
        launch: bool | None = None,
    ) -> Workflow:
        """
        Create a workflow from a spec (``launch=False`` makes a draft; None follows the spec).

        If the connection is lost after the request was sent, the client looks for the
        workflow it may have created (:meth:`reconcile_workflow`) and returns it if found;
        otherwise it tries again. A workflow is never created twice.

        Raises:
            AmbiguousOutcomeError: the client could not tell whether the workflow exists.
        """
        core = self._open()
        payload = spec.to_payload(document_ids)
        if launch is not None:
            payload["status"] = 1 if launch else 0
        call = Call(
            "POST",
            "/workflows",
            kind=RequestKind.CREATE,
            operation="create_workflow",
            json=orjson.dumps(payload),
            secrets=payload_secrets(payload),
        )
        since = time.time()
        rounds = core.retry.max_retries + 1
        last: AmbiguousOutcomeError | None = None
        for _ in range(rounds):
            try:
                return await core.send(call, read_workflow)
            except AmbiguousOutcomeError as exc:
                last = exc
                _log.warning("create_workflow(%r): outcome unknown, reconciling", spec.name)
            except ConflictError as exc:
                # "document already used": only an earlier attempt of ours can have used it.
                if last is None or exc.code != _DOCUMENT_ALREADY_USED:
                    raise
                found = await self.reconcile_workflow(spec, document_ids=document_ids, since=since)
                if found is None:
                    raise
                return found
            found = await self.reconcile_workflow(spec, document_ids=document_ids, since=since)
            if found is not None:
                _log.info("create_workflow(%r): found the workflow %s", spec.name, found.id)
                return found
        raise ConnectError(
            f"create_workflow({spec.name!r}) failed {rounds} times and no workflow was created"
        ) from last

    async def reconcile_workflow(
        self,
        spec: WorkflowSpec,
        *,
        document_ids: Mapping[str, str] | None,
        since: float | dt.datetime,
    ) -> Workflow | None:
        """
        Find a workflow that a lost ``create_workflow(spec)`` may have made, or None.

        Uploaded documents identify it (one document belongs to one workflow); for an inline
        spec, the name, the signers and a creation time at or after ``since`` (epoch seconds
        or an aware datetime) do.

        Raises:
            AmbiguousOutcomeError: several workflows match, or the search itself failed.
        """
        self._open()
        return await find_created_workflow(
            self.list_workflow_page, spec, document_ids=document_ids, since=since
        )

    async def get_workflow(self, workflow_id: str) -> Workflow:
        """The workflow, as the service reports it now."""
        path = "/workflows/" + _check_id(workflow_id)
        return await self._open().send(Call("GET", path, operation="get_workflow"), read_workflow)

    async def launch_workflow(self, workflow_id: str) -> Workflow:
        """Launch a draft (``PUT /workflows/{id}`` with status 1); returns the workflow."""
        core = self._open()
        path = "/workflows/" + _check_id(workflow_id)
        call = Call(
            "PUT", path, kind=RequestKind.CREATE, operation="launch_workflow", json=b'{"status":1}'
        )
        try:
            return await core.send(call, read_workflow)
        except AmbiguousOutcomeError:
            # Did the launch happen? Read the workflow back instead of guessing.
            current = await self.get_workflow(workflow_id)
            if current.status is not WorkflowStatus.CREATED:
                return current
            return await core.send(call, read_workflow)

    async def delete_workflow(self, workflow_id: str) -> Workflow:
        """Delete a workflow; returns it with status ``DELETED``."""
        path = "/workflows/" + _check_id(workflow_id)
        return await self._open().send(
            Call("DELETE", path, operation="delete_workflow"), read_workflow
        )

    async def list_workflow_page(
        self,
        offset: int = 0,
        limit: int = 20,
        *,
        status: WorkflowStatus | int | None = None,
        name: str | None = None,
        sort: str = "createdOn",
        descending: bool = True,
    ) -> WorkflowPage:
        """One page of ``GET /workflows`` (``limit`` at most 100)."""
        params = {
            "offset": str(max(0, offset)),
            "nbItems": str(min(max(1, limit), _PAGE_MAX)),
            "sortField": sort,
            "sortDir": "desc" if descending else "asc",
        }
        if status is not None:
            params["filterStatus"] = str(int(status))
        if name is not None:
            params["filterName"] = name
        call = Call("GET", "/workflows", params=params, operation="list_workflows")
        data = await self._open().send(call, read_payload)
        return structure(data, WorkflowPage, status=200)

    async def list_workflows(
        self,
        *,
        status: WorkflowStatus | int | None = None,
        name: str | None = None,
        page_size: int = _PAGE_MAX,
        sort: str = "createdOn",
        descending: bool = True,
    ) -> AsyncIterator[Workflow]:
        """
        Every workflow matching the filters, pages fetched lazily as you iterate.

        A workflow that moves between pages while you iterate is yielded once.
        """
        seen: set[str] = set()
        offset = 0
        while True:
            page = await self.list_workflow_page(
                offset, page_size, status=status, name=name, sort=sort, descending=descending
            )
            for workflow in page.workflows:
                if workflow.id not in seen:
                    seen.add(workflow.id)
                    yield workflow
            offset += len(page.workflows)
            if not page.workflows or offset >= page.total:
                return

    # ----------------------------------------------------------------- downloads

    async def download_documents(
        self, workflow_id: str, destination: str | os.PathLike[str]
    ) -> DownloadedFile:
        """
        Download the workflow's documents: a PDF for one document, a zip for several.

        ``destination`` is a file path, or a directory (existing, or ending with ``/``) in
        which the file takes the service's name or ``<id>.pdf`` / ``<id>.zip``.
        """
        return await self._download(workflow_id, "documents", destination)

    async def download_audit_trail(
        self, workflow_id: str, destination: str | os.PathLike[str]
    ) -> DownloadedFile:
        """Download the audit trail PDF of a completed workflow (409 before completion)."""
        return await self._download(workflow_id, "audit", destination)

    async def _download(
        self, workflow_id: str, what: str, destination: str | os.PathLike[str]
    ) -> DownloadedFile:
        core = self._open()
        path = f"/workflows/{_check_id(workflow_id)}/{what}"

        async def save(resp: aiohttp.ClientResponse) -> DownloadedFile:
            content_type = resp.content_type
            target = resolve_destination(
                destination,
                content_type=content_type,
                suggested_name=resp.content_disposition.filename
                if resp.content_disposition
                else None,
                default_stem=workflow_id if what == "documents" else f"{workflow_id}-audit",
            )
            return await save_stream(
                resp.content.iter_chunked(256 * 1024),
                target,
                content_type=content_type,
                expected_size=resp.content_length,
            )

        call = Call("POST", path, form_token=True, operation=f"download_{what}")
        return await core.send(call, save)
