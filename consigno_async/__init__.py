"""
consigno_async: the asyncio client for the ConsignO Cloud e-signature API (Notarius).

The public names are listed in ``__all__`` below; everything else is private. ::

    from consigno_async import WorkflowBuilder, Amr

    spec = (
        WorkflowBuilder("NDA")
        .document("nda.pdf")
        .signer("alice", first_name="Alice", last_name="Martin", email="alice@example.com",
                phone="+15145550100", amr=[Amr.LINK, Amr.SMS])
        .field("alice", document="nda.pdf", page=1, x=72, y=650)
        .build()
    )
"""

from ._http import RequestEvent, ResponseEvent, RetryEvent
from ._version import __version__
from .archive import ArchiveResult, verify_archive
from .batch import BatchProgress, LaunchItem, LaunchResult, launch_many
from .builder import WorkflowBuilder
from .client import ConsignoClient
from .completion import StatusChange, wait_for_completion, watch
from .downloads import DownloadedFile
from .enums import (
    ActionStatus,
    Amr,
    Language,
    Mode,
    PdfaPolicy,
    SignerType,
    WorkflowStatus,
)
from .errors import (
    AmbiguousOutcomeError,
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConflictError,
    ConnectError,
    ConsignoError,
    DocumentError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidWebhookError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    StreamConsumedError,
    TimeoutError,
    TransportError,
    Violation,
    WorkflowValidationError,
)
from .journal import Journal
from .responses import (
    Action,
    ActionSigner,
    DocumentMetadata,
    Workflow,
    WorkflowDocument,
    WorkflowPage,
)
from .spec import DocumentSpec, WorkflowSpec
from .webhooks import WebhookDispatcher, WebhookEvent, WebhookReceiver, parse_event

__all__ = [
    "Action",
    "ActionSigner",
    "ActionStatus",
    "AmbiguousOutcomeError",
    "Amr",
    "ApiError",
    "ArchiveResult",
    "AuthenticationError",
    "BadRequestError",
    "BatchProgress",
    "ClientStateError",
    "ConflictError",
    "ConnectError",
    "ConsignoClient",
    "ConsignoError",
    "DocumentError",
    "DocumentMetadata",
    "DocumentSpec",
    "DownloadedFile",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidWebhookError",
    "Journal",
    "Language",
    "LaunchItem",
    "LaunchResult",
    "Mode",
    "NotFoundError",
    "PdfaPolicy",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestEvent",
    "ResponseEvent",
    "ResponseFormatError",
    "RetryEvent",
    "ServerError",
    "SignerType",
    "StatusChange",
    "StreamConsumedError",
    "TimeoutError",
    "TransportError",
    "Violation",
    "WebhookDispatcher",
    "WebhookEvent",
    "WebhookReceiver",
    "Workflow",
    "WorkflowBuilder",
    "WorkflowDocument",
    "WorkflowPage",
    "WorkflowSpec",
    "WorkflowStatus",
    "WorkflowValidationError",
    "__version__",
    "launch_many",
    "parse_event",
    "verify_archive",
    "wait_for_completion",
    "watch",
]

# Show public objects as ``consigno_async.X`` in reprs and tracebacks (as httpx does).
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        _obj.__module__ = __name__
del _name, _obj
