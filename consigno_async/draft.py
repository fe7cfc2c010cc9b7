"""
What the builder records before checking: plain mutable drafts of signers, documents, zones,
contacts and webhooks, holding the values exactly as given (an unknown enum string stays a
string), so that :mod:`consigno_async.rules` can report every problem at once.

Also :func:`effective_steps`, the signing order both the rules and the builder use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from .enums import Amr, Language, Mode, PdfaPolicy, SignerType
from .pdfinfo import PdfInfo

__all__ = [
    "ContactDraft",
    "DocumentDraft",
    "Draft",
    "SignerDraft",
    "WebhookDraft",
    "ZoneDraft",
    "effective_steps",
    "valid_step",
]


def _hidden(value: object) -> str:
    return "None" if value is None else "'***'"


@attrs.define
class SignerDraft:
    """A signer (or a placeholder, when ``placeholder`` is true) as the builder recorded it."""

    key: str
    placeholder: bool = False
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    amr: tuple[Any, ...] = (Amr.LINK,)
    lang: Any = Language.EN
    type: Any = SignerType.ESIG
    mode: Any = Mode.REMOTE
    return_url: str | None = None
    client_user_id: str | None = None
    step: int | None = None
    secret_question: str | None = None
    secret_answer: str | None = attrs.field(default=None, repr=_hidden)
    subject_dn: str | None = None
    role: str | None = None
    zone_label: str | None = None

    @property
    def path(self) -> str:
        """How violations name this signer."""
        return f"{'placeholder' if self.placeholder else 'signer'} {self.key!r}"


@attrs.define
class ContactDraft:
    """A person to notify at completion, as recorded."""

    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    amr: tuple[Any, ...] = (Amr.LINK,)
    lang: Any = Language.EN
    secret_question: str | None = None
    secret_answer: str | None = attrs.field(default=None, repr=_hidden)

    @property
    def path(self) -> str:
        """How violations name this contact."""
        return f"notification {self.email!r}"


@attrs.define
class DocumentDraft:
    """
    A document as recorded, with what inspecting it found: ``info`` (None when it could not be
    inspected) or ``error`` (why it is not a usable PDF).
    """

    key: str
    file_name: str
    source: Any = attrs.field(repr=False)
    pdfa: Any = PdfaPolicy.NONE
    label: str | None = None
    info: PdfInfo | None = attrs.field(default=None, repr=False)
    error: str | None = None

    @property
    def path(self) -> str:
        """How violations name this document."""
        return f"document {self.key!r}"


@attrs.define
class ZoneDraft:
    """A field (by coordinates) or an anchor (by text tag) as recorded."""

    kind: str  # "field" or "anchor"
    number: int  # 1-based position among the zones of its kind
    signer: str
    document: str | None
    page: int | None
    x: float = 0
    y: float = 0
    width: float = 165
    height: float = 37
    tag: str = ""
    skip_if_not_found: bool = False

    @property
    def path(self) -> str:
        """How violations name this zone."""
        where = f" in document {self.document!r}" if self.document is not None else ""
        if self.kind == "anchor":
            return f"anchor {self.tag!r}{where}"
        return f"field #{self.number} of signer {self.signer!r}{where}"


@attrs.define
class WebhookDraft:
    """A webhook as recorded."""

    number: int
    url: str
    insecure: bool = False


@attrs.define
class Draft:
    """Everything the builder was told, ready to be checked."""

    name: str
    launch: bool = True
    second_factor: bool = True
    signers: list[SignerDraft] = attrs.Factory(list)
    documents: list[DocumentDraft] = attrs.Factory(list)
    zones: list[ZoneDraft] = attrs.Factory(list)
    contacts: list[ContactDraft] = attrs.Factory(list)
    webhooks: list[WebhookDraft] = attrs.Factory(list)
    return_url: str | None = None
    expires_on: dt.date | None = None
    today: dt.date = attrs.Factory(lambda: dt.datetime.now(dt.UTC).date())
    parallel: bool = False
    inline: bool = False


def effective_steps(draft: Draft) -> list[int]:
    """
    The step of each signer, in order: all 1 after ``parallel()``; else the given ``step=``,
    or one more than the highest step so far (so plain signer order gives 1, 2, 3...).
    """
    if draft.parallel:
        return [1] * len(draft.signers)
    steps, highest = [], 0
    for signer in draft.signers:
        step = signer.step if valid_step(signer.step) else highest + 1
        assert step is not None
        steps.append(step)
        highest = max(highest, step)
    return steps


def valid_step(step: object) -> bool:
    """True for a usable ``step=``: a whole number from 1 up."""
    return isinstance(step, int) and not isinstance(step, bool) and step >= 1
