"""Builders shared by the WorkflowBuilder tests: valid signers and documents to start from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pdfs import ANCHOR_PDF

from consigno_async import Amr, Mode, WorkflowBuilder

DOC = "contract.pdf"
TODAY = dt.datetime.now(dt.UTC).date()


def with_alice(builder: WorkflowBuilder, **overrides: Any) -> WorkflowBuilder:
    """Add a valid remote signer 'alice' (sms second factor), without a zone."""
    kwargs: dict[str, Any] = {
        "first_name": "Alice",
        "last_name": "Martin",
        "email": "alice@example.com",
        "phone": "+15145550100",
        "amr": [Amr.LINK, Amr.SMS],
    }
    kwargs.update(overrides)
    return builder.signer("alice", **kwargs)


def with_bob(builder: WorkflowBuilder, **overrides: Any) -> WorkflowBuilder:
    """Add a valid embedded signer 'bob' at step 2, without a zone."""
    kwargs: dict[str, Any] = {
        "first_name": "Bob",
        "last_name": "Roy",
        "email": "bob@example.com",
        "phone": "+15145550101",
        "amr": [Amr.LINK, Amr.SMS],
        "mode": Mode.EMBEDDED,
        "return_url": "https://app.example.com/signed",
        "step": 2,
    }
    kwargs.update(overrides)
    return builder.signer("bob", **kwargs)


def valid(**alice: Any) -> WorkflowBuilder:
    """A valid one-signer builder on the anchor PDF (key 'contract.pdf')."""
    builder = WorkflowBuilder("Contract").document(ANCHOR_PDF, key=DOC)
    return with_alice(builder, **alice).field("alice", document=DOC, x=72, y=650)


def two_signers(**bob: Any) -> WorkflowBuilder:
    """valid() plus bob (embedded, step 2) with an anchor."""
    builder = with_bob(valid(), **bob)
    return builder.anchor("bob", document=DOC, tag="{{sig-bob}}", y_offset=-10)
