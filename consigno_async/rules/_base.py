"""
Shared pieces of the rules: the per-check context, lookup tables and small helpers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from ..draft import ContactDraft, Draft, SignerDraft, ZoneDraft
from ..enums import Amr, Language, Mode, PdfaPolicy, SignerType
from ..errors import Violation
from ..pdfinfo import PdfInfo

__all__ = [
    "EPSILON",
    "NONE",
    "Context",
    "Found",
    "Person",
    "bad_url",
    "blank",
    "enum_violation",
    "finite",
    "known",
    "one",
]

SECOND_FACTORS = frozenset({Amr.SMS, Amr.CALL, Amr.SECRET})
PHONE_AMRS = (Amr.SMS, Amr.CALL)
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
WHITESPACE = re.compile(r"\s+")
# The wire values of each enum; a member compares (and hashes) equal to its value.
ENUM_VALUES: dict[Any, frozenset[Any]] = {
    enum_type: frozenset(member.value for member in enum_type)
    for enum_type in (Amr, Language, Mode, PdfaPolicy, SignerType)
}
# Tolerance when comparing zone edges with page edges (page boxes may be fractional).
EPSILON = 1e-6
URL_HINT = "use an absolute http:// or https:// URL, e.g. https://app.example.com/path"

Found = Sequence[Violation]
NONE: Found = ()

Person = SignerDraft | ContactDraft


@attrs.define
class Context:
    """What the per-entity rules need to know about the rest of the workflow, computed once."""

    draft: Draft
    signer_keys: frozenset[str]
    document_keys: frozenset[str]
    only_document: str | None
    zoned_signers: frozenset[str]
    infos: dict[str, PdfInfo]
    seen_signers: set[str] = attrs.Factory(set)
    seen_tags: set[tuple[str | None, str]] = attrs.Factory(set)
    squeezed: dict[tuple[str, int], str] = attrs.Factory(dict)

    @classmethod
    def of(cls, draft: Draft) -> Context:
        """Gather the sets and maps the rules look things up in (one pass over each list)."""
        return cls(
            draft=draft,
            signer_keys=frozenset(s.key for s in draft.signers),
            document_keys=frozenset(d.key for d in draft.documents),
            only_document=draft.documents[0].key if len(draft.documents) == 1 else None,
            zoned_signers=frozenset(z.signer for z in draft.zones),
            infos={d.key: d.info for d in draft.documents if d.info is not None},
        )

    def document_of(self, zone: ZoneDraft) -> str | None:
        """The zone's document key; ``document=`` may be left out when there is only one."""
        return zone.document if zone.document is not None else self.only_document


def one(code: str, path: str, message: str) -> Found:
    """A rule's answer when it finds exactly one problem: ``return one(code, path, message)``."""
    return (Violation(code, path, message),)


def known(value: object, enum_type: Any) -> bool:
    try:
        return value in ENUM_VALUES[enum_type]
    except TypeError:  # unhashable: certainly not a member
        return False


def enum_violation(path: str, value: object, enum_type: Any) -> Violation:
    allowed = ", ".join(repr(member.value) for member in enum_type)
    return Violation(
        "invalid_value",
        path,
        f"{value!r} is not one of {allowed}: use {enum_type.__name__}.<name>",
    )


def blank(value: str | None) -> bool:
    return value is None or not value.strip()


def finite(first: object, second: object) -> bool:
    # The builder already refused non-numbers (TypeError); this guards drafts made by hand.
    try:
        return math.isfinite(first) and math.isfinite(second)  # type: ignore[arg-type]
    except TypeError:
        return False


def bad_url(url: str | None) -> bool:
    if url is None:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url)
