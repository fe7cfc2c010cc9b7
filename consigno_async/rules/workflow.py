"""
Rules on the workflow as a whole: signers and documents present, keys, dates, URLs.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

from .. import spec
from ..draft import Draft, effective_steps
from ..enums import Mode, PdfaPolicy
from ..errors import Violation
from ._base import (
    URL_HINT,
    bad_url,
    blank,
    enum_violation,
    known,
)


def rule_no_signer(draft: Draft) -> Iterator[Violation]:
    """Launching needs at least one signer; a draft may have none."""
    if draft.launch and not draft.signers:
        yield Violation(
            "no_signer",
            "workflow",
            "a workflow needs at least one signer to be launched: add .signer(...), "
            "or call build(launch=False) to create a draft",
        )


def rule_no_document(draft: Draft) -> Iterator[Violation]:
    """A workflow needs at least one document."""
    if not draft.documents:
        yield Violation(
            "no_document", "workflow", "a workflow needs at least one document: add .document(...)"
        )


def rule_workflow_values(draft: Draft) -> Iterator[Violation]:
    """The name is not empty and the expiry date, when given, has not passed."""
    if blank(draft.name):
        yield Violation("invalid_value", "workflow.name", "give the workflow a non-empty name")
    if draft.expires_on is not None and draft.expires_on < draft.today:
        yield Violation(
            "invalid_value",
            "workflow.expires_on",
            f"{draft.expires_on.isoformat()} is in the past: pass a date from today on",
        )


def rule_documents(draft: Draft) -> Iterator[Violation]:
    """Document keys are unique and each PDF/A policy is a known one."""
    seen: set[str] = set()
    for document in draft.documents:
        if document.key in seen:
            yield Violation(
                "duplicate_key",
                document.path,
                f"the key {document.key!r} is already used by another document: "
                "pass key=... to tell them apart",
            )
        seen.add(document.key)
        if not known(document.pdfa, PdfaPolicy):
            yield enum_violation(f"{document.path}.pdfa", document.pdfa, PdfaPolicy)


def rule_inline_source(draft: Draft) -> Iterator[Violation]:
    """
    Inline documents must be readable synchronously (not async streams) and at most
    :data:`~consigno_async.spec.MAX_INLINE_SIZE` bytes (32 MiB).
    """
    if not draft.inline:
        return
    for document in draft.documents:
        source = document.source
        if not (
            isinstance(source, str | bytes | bytearray | memoryview | os.PathLike)
            or hasattr(source, "read")
        ):
            yield Violation(
                "invalid_value",
                document.path,
                "an async stream cannot be sent inline: pass a path, bytes or a binary file, "
                "or drop inline_documents() to upload it",
            )
            continue
        size = spec.source_size(source)
        if size is not None and size > spec.MAX_INLINE_SIZE:
            yield Violation(
                "inline_too_large",
                document.path,
                f"the document is {size} bytes, over the {spec.MAX_INLINE_SIZE} bytes that can "
                "be sent inline (base64 in the workflow body): drop inline_documents() so it is "
                "uploaded instead",
            )


def rule_not_pdf(draft: Draft) -> Iterator[Violation]:
    """Every document is a readable, unencrypted PDF."""
    for document in draft.documents:
        if document.error is not None:
            yield Violation(
                "not_pdf",
                document.path,
                f"{document.error}; only PDF documents can be signed: convert it to PDF first",
            )


def rule_embedded_in_parallel_step(draft: Draft) -> Iterator[Violation]:
    """An embedded signer is alone in its step."""
    if not any(s.mode == Mode.EMBEDDED for s in draft.signers):
        return
    steps = effective_steps(draft)
    sizes = Counter(steps)
    for signer, step in zip(draft.signers, steps, strict=True):
        if signer.mode == Mode.EMBEDDED and not signer.placeholder and sizes[step] > 1:
            how = "drop parallel()" if draft.parallel else "give it a step= of its own"
            yield Violation(
                "embedded_in_parallel_step",
                f"{signer.path}.step",
                f"an embedded signer cannot share step {step} with other signers: {how}",
            )


def rule_workflow_urls(draft: Draft) -> Iterator[Violation]:
    """The workflow's return URL and every webhook URL are absolute http(s) URLs."""
    urls = [("workflow.return_url", draft.return_url)]
    urls += [(f"webhook #{w.number}", w.url) for w in draft.webhooks]
    for path, url in urls:
        if bad_url(url):
            yield Violation("invalid_url", path, f"{url!r} is not a valid URL: {URL_HINT}")
