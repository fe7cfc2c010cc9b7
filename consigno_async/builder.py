"""
The fluent :class:`WorkflowBuilder`: say who signs what, where, and how they prove who they
are; :meth:`~WorkflowBuilder.build` checks every rule of the service at once, before any
network call, and returns a frozen :class:`~consigno_async.WorkflowSpec`.

Methods record what they are given and return the builder. They raise
:class:`~consigno_async.InvalidArgumentTypeError` (a :class:`TypeError` and a
:class:`~consigno_async.ConsignoError`) at once for a value of the wrong type (a number where
a name is expected), but never for a wrong *value*: those are all reported together by
``build()`` in one :class:`~consigno_async.WorkflowValidationError`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import Any, Self

from .draft import (
    ContactDraft,
    DocumentDraft,
    Draft,
    SignerDraft,
    WebhookDraft,
    ZoneDraft,
)
from .enums import Amr, Language, Mode, PdfaPolicy, SignerType
from .errors import (
    DocumentError,
    InvalidArgumentTypeError,
    Violation,
    WorkflowValidationError,
)
from .model import DEFAULT_ZONE_HEIGHT, DEFAULT_ZONE_WIDTH
from .pdfinfo import PdfInfo, inspect_pdf
from .rules import check
from .spec import WorkflowSpec, compile_spec, paused_collection

__all__ = ["WorkflowBuilder"]


def _text(name: str, value: object, *, optional: bool = True) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(f"{name}= takes a string, not {type(value).__name__}")
    return value


def _number(name: str, value: object) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentTypeError(f"{name}= takes a number, not {type(value).__name__}")
    return value


def _whole(name: str, value: object, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentTypeError(f"{name}= takes an int, not {type(value).__name__}")
    return value


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentTypeError(f"{name}= takes True or False, not {type(value).__name__}")
    return value


def _amrs(value: object) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidArgumentTypeError("amr= takes a list of Amr values, e.g. [Amr.LINK, Amr.SMS]")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgumentTypeError(f"amr= items are Amr values, not {type(item).__name__}")
    return items


# Enum-like arguments kept as given: an unknown value is a violation reported by build().
_AS_GIVEN = frozenset({"lang", "type", "mode"})
_SIGNER_REQUIRED = frozenset({"key", "first_name", "last_name", "email"})
_PLACEHOLDER_REQUIRED = frozenset({"key", "role"})
_CONTACT_REQUIRED = frozenset({"first_name", "last_name", "email"})


def _checked(arguments: dict[str, Any], required: frozenset[str]) -> dict[str, Any]:
    """
    The keyword arguments of a person method (``locals()`` taken first thing, ``self``
    dropped), each type-checked by its name: ``amr``, ``step``, enum-like values, and text
    (``required`` ones may not be None). One place for signers, placeholders and contacts.
    """
    fields: dict[str, Any] = {}
    for name, value in arguments.items():
        if name == "self":
            continue
        if name == "amr":
            fields[name] = _amrs(value)
        elif name == "step":
            fields[name] = _whole(name, value, optional=True)
        elif name in _AS_GIVEN:
            fields[name] = value
        else:
            fields[name] = _text(name, value, optional=name not in required)
    return fields


def _default_file_name(source: object) -> str | None:
    if isinstance(source, str | os.PathLike):
        return os.fsdecode(os.path.basename(os.fspath(source))) or None
    if isinstance(source, bytes | bytearray | memoryview):
        return None
    if hasattr(source, "read") or hasattr(source, "__aiter__"):
        name = getattr(source, "name", None)  # an open file's path (an int for a raw fd)
        return (os.path.basename(name) or None) if isinstance(name, str) else None
    raise InvalidArgumentTypeError(
        "a document is a path, bytes, a binary file or an async iterable of bytes, "
        f"not {type(source).__name__}"
    )


class WorkflowBuilder:
    """
    Build a ConsignO Cloud workflow (a signing project) step by step, then check it whole.

    Args:
        name: the workflow's name, shown to signers.
        second_factor: False if your organisation turned off the second authentication
            factor; then ``link`` alone is accepted.

    Example::

        spec = (
            WorkflowBuilder("NDA")
            .document("nda.pdf")
            .signer("alice", first_name="Alice", last_name="Martin",
                    email="alice@example.com", phone="+15145550100",
                    amr=[Amr.LINK, Amr.SMS])
            .field("alice", document="nda.pdf", page=1, x=72, y=650)
            .build()
        )

    Signers sign in the order they are added (steps 1, 2, 3...) unless ``step=`` groups
    them (same step: in parallel) or :meth:`parallel` puts them all in one step.
    """

    def __init__(self, name: str, *, second_factor: bool = True) -> None:
        self._draft = Draft(
            name=_text("name", name, optional=False),
            second_factor=_flag("second_factor", second_factor),
        )
        # A problem only a call could see (an unparseable date); the last call wins.
        self._bad_expiry: Violation | None = None
        self._message: str | None = None
        self._owner_emails: bool | None = None
        self._inspected: dict[int, tuple[object, bool, PdfInfo | None, str | None]] = {}
        # Documents whose text must be extracted: those with an anchor to look for.
        self._searched_documents: set[str | None] = set()
        self._field_count = 0
        self._anchor_count = 0

    def __repr__(self) -> str:
        d = self._draft
        return (
            f"WorkflowBuilder(name={d.name!r}, documents={len(d.documents)}, "
            f"signers={len(d.signers)}, zones={len(d.zones)})"
        )

    # --- documents -----------------------------------------------------------------------

    def document(
        self,
        source: Any,
        *,
        key: str | None = None,
        file_name: str | None = None,
        pdfa: PdfaPolicy = PdfaPolicy.NONE,
        label: str | None = None,
    ) -> Self:
        """
        Add a document: a path, ``bytes``, a binary file, or an async iterable of bytes
        (an async stream is uploaded as is, but cannot be inspected before).

        ``key`` (how zones refer to it) defaults to the file name; ``file_name`` defaults to
        the path's (or file's) base name, else ``document-N.pdf``.
        """
        default = _default_file_name(source)
        number = len(self._draft.documents) + 1
        name = _text("file_name", file_name) or default or key or f"document-{number}.pdf"
        self._draft.documents.append(
            DocumentDraft(
                key=_text("key", key) or name,
                file_name=name,
                source=source,
                pdfa=pdfa,
                label=_text("label", label),
            )
        )
        return self

    def inline_documents(self, enabled: bool = True) -> Self:
        """Send the documents base64-encoded inside the workflow body instead of uploading."""
        self._draft.inline = _flag("enabled", enabled)
        return self

    # --- signers -------------------------------------------------------------------------

    def signer(
        self,
        key: str,
        *,
        first_name: str,
        last_name: str,
        email: str,
        phone: str | None = None,
        amr: Iterable[Amr | str] = (Amr.LINK,),
        lang: Language | str = Language.EN,
        type: SignerType | str = SignerType.ESIG,
        mode: Mode | str = Mode.REMOTE,
        return_url: str | None = None,
        client_user_id: str | None = None,
        step: int | None = None,
        secret_question: str | None = None,
        secret_answer: str | None = None,
        subject_dn: str | None = None,
        role: str | None = None,
        zone_label: str | None = None,
    ) -> Self:
        """
        Add a signer, known by ``key`` in :meth:`field` and :meth:`anchor`.

        ``amr`` lists how the signer proves who they are: ``Amr.LINK`` always, plus a
        second factor (``SMS``/``CALL`` need ``phone=`` in E.164 form; ``SECRET`` needs
        ``secret_question=`` and ``secret_answer=``). An embedded signer
        (``mode=Mode.EMBEDDED``) needs ``return_url=`` and a step of its own. A
        ``certifio`` signer needs ``subject_dn=``.
        """
        self._draft.signers.append(SignerDraft(**_checked(locals(), _SIGNER_REQUIRED)))
        return self

    def placeholder(
        self,
        key: str,
        *,
        role: str,
        step: int | None = None,
        type: SignerType | str = SignerType.ESIG,
        zone_label: str | None = None,
    ) -> Self:
        """
        Add a signer not known yet, by ``role`` (e.g. ``"Employee"``); the workflow owner
        names the person in the service's workspace. Zones can already be assigned to it.
        """
        fields = _checked(locals(), _PLACEHOLDER_REQUIRED)
        self._draft.signers.append(SignerDraft(placeholder=True, **fields))
        return self

    def parallel(self, enabled: bool = True) -> Self:
        """Let every signer sign at the same time (one step), whatever ``step=`` says."""
        self._draft.parallel = _flag("enabled", enabled)
        return self

    # --- zones ---------------------------------------------------------------------------

    def field(
        self,
        signer: str,
        *,
        document: str | None = None,
        page: int = 1,
        x: float,
        y: float,
        width: float = DEFAULT_ZONE_WIDTH,
        height: float = DEFAULT_ZONE_HEIGHT,
    ) -> Self:
        """
        Place a signature zone for ``signer`` at ``(x, y)`` on ``page`` (from 1) of
        ``document`` (optional when there is only one). Units are 1/72 inch from the
        **top-left** corner; the default size is 165 x 37.
        """
        self._field_count += 1
        self._draft.zones.append(
            ZoneDraft(
                kind="field",
                number=self._field_count,
                signer=_text("signer", signer, optional=False),
                document=_text("document", document),
                page=_whole("page", page),
                x=_number("x", x),
                y=_number("y", y),
                width=_number("width", width),
                height=_number("height", height),
            )
        )
        return self

    def anchor(
        self,
        signer: str,
        *,
        document: str | None = None,
        tag: str,
        x_offset: float = 0,
        y_offset: float = 0,
        width: float = DEFAULT_ZONE_WIDTH,
        height: float = DEFAULT_ZONE_HEIGHT,
        page: int | None = None,
        skip_if_not_found: bool = False,
    ) -> Self:
        """
        Place a zone for ``signer`` wherever the text ``tag`` appears in ``document``
        (only on ``page`` if given), moved by the offsets. Use a tag unlike any word, such
        as ``{{sig-bob}}``, typically written white on white in the document.
        """
        self._anchor_count += 1
        self._draft.zones.append(
            ZoneDraft(
                kind="anchor",
                number=self._anchor_count,
                signer=_text("signer", signer, optional=False),
                document=_text("document", document),
                page=_whole("page", page, optional=True),
                tag=_text("tag", tag, optional=False),
                x=_number("x_offset", x_offset),
                y=_number("y_offset", y_offset),
                width=_number("width", width),
                height=_number("height", height),
                skip_if_not_found=_flag("skip_if_not_found", skip_if_not_found),
            )
        )
        if not skip_if_not_found:
            self._searched_documents.add(document)
        return self

    # --- notifications and workflow settings ---------------------------------------------

    def notify(
        self,
        *,
        first_name: str,
        last_name: str,
        email: str,
        phone: str | None = None,
        amr: Iterable[Amr | str] = (Amr.LINK,),
        lang: Language | str = Language.EN,
        secret_question: str | None = None,
        secret_answer: str | None = None,
    ) -> Self:
        """Notify a person when the workflow completes (same AMR rules as signers)."""
        self._draft.contacts.append(ContactDraft(**_checked(locals(), _CONTACT_REQUIRED)))
        return self

    def webhook(self, url: str, *, insecure: bool = False) -> Self:
        """
        Have the service call ``url`` on workflow events. With a webhook, owner e-mails
        default to off (see :meth:`owner_emails`).
        """
        self._draft.webhooks.append(
            WebhookDraft(
                number=len(self._draft.webhooks) + 1,
                url=_text("url", url, optional=False),
                insecure=_flag("insecure", insecure),
            )
        )
        return self

    def return_url(self, url: str) -> Self:
        """Where the service sends the workflow's initiator back (``?status=`` appended)."""
        self._draft.return_url = _text("url", url, optional=False)
        return self

    def expires_on(self, date: dt.date | str) -> Self:
        """The last day the workflow can be signed (default: today + 30 days)."""
        if isinstance(date, dt.datetime):
            date = date.date()
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date)
            except ValueError:
                self._bad_expiry = Violation(
                    "invalid_value",
                    "workflow.expires_on",
                    f"{date!r} is not a date: pass a datetime.date or 'YYYY-MM-DD'",
                )
                return self
        if not isinstance(date, dt.date):
            raise InvalidArgumentTypeError(f"expires_on() takes a date, not {type(date).__name__}")
        self._bad_expiry = None
        self._draft.expires_on = date
        return self

    def message_to_signers(self, text: str) -> Self:
        """A message included in the e-mails sent to signers."""
        self._message = _text("text", text, optional=False)
        return self

    def owner_emails(self, enabled: bool) -> Self:
        """
        Whether the workflow's owner gets e-mails (each step done, completion). Default:
        on without a webhook, off with one, as the service does.
        """
        self._owner_emails = _flag("enabled", enabled)
        return self

    # --- checking and building -----------------------------------------------------------

    def violations(self, *, launch: bool = True) -> tuple[Violation, ...]:
        """Every rule the workflow breaks (empty when :meth:`build` would succeed)."""
        draft = self._prepare(_flag("launch", launch))  # PDFs read with the collector on
        with paused_collection():
            found = check(draft)
        return (self._bad_expiry, *found) if self._bad_expiry else tuple(found)

    def build(self, launch: bool = True) -> WorkflowSpec:
        """
        Check every rule and return the frozen :class:`~consigno_async.WorkflowSpec`.

        Args:
            launch: True to create and launch the workflow; False for a draft (which may
                have no signer, or signers without zones yet).

        Raises:
            WorkflowValidationError: with **every** violation found, in ``.violations``.
        """
        found = self.violations(launch=launch)
        if found:
            raise WorkflowValidationError(found)
        return self._spec(self._draft)

    def _prepare(self, launch: bool) -> Draft:
        draft = self._draft
        draft.launch = launch
        draft.today = dt.datetime.now(dt.UTC).date()
        first = draft.documents[0].key if draft.documents else None
        wants_text = {key if key is not None else first for key in self._searched_documents}
        for index, document in enumerate(draft.documents):
            document.info, document.error = self._inspect(
                index, document.source, text=document.key in wants_text
            )
        return draft

    def _inspect(
        self, index: int, source: object, *, text: bool
    ) -> tuple[PdfInfo | None, str | None]:
        cached = self._inspected.get(index)
        if cached is not None and cached[0] is source and (cached[1] or not text):
            return cached[2], cached[3]
        info: PdfInfo | None = None
        error: str | None = None
        try:
            info = inspect_pdf(source, text=text)
        except DocumentError as exc:
            error = str(exc)
        self._inspected[index] = (source, text, info, error)
        return info, error

    def _spec(self, draft: Draft) -> WorkflowSpec:
        with paused_collection():
            return compile_spec(draft, message=self._message, owner_emails=self._owner_emails)
