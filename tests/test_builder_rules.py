"""WorkflowBuilder rules: every violation reported at once, and typed argument errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from builder_support import DOC, TODAY, two_signers, valid, with_alice, with_bob
from pdfs import ANCHOR_PDF, NOT_PDF, TWO_SIZES_PDF

from consigno_async import (
    Amr,
    ConsignoError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    Mode,
    SignerType,
    WorkflowBuilder,
    WorkflowValidationError,
)

# Every violation code: a builder that triggers it (and nothing else), the launch flag,
# and the path the violation must carry.
CASES: dict[str, tuple[Callable[[], WorkflowBuilder], bool, str]] = {
    "no_signer": (lambda: WorkflowBuilder("C").document(ANCHOR_PDF, key=DOC), True, "workflow"),
    "no_document": (lambda: with_alice(WorkflowBuilder("C")), False, "workflow"),
    "embedded_in_parallel_step": (lambda: two_signers(step=1), True, "signer 'bob'.step"),
    "secret_amr_embedded": (
        lambda: two_signers(amr=[Amr.LINK, Amr.SECRET], secret_question="Q?", secret_answer="A"),
        True,
        "signer 'bob'.amr",
    ),
    "return_url_required": (lambda: two_signers(return_url=None), True, "signer 'bob'.return_url"),
    "duplicate_anchor_tag": (
        lambda: two_signers().anchor("alice", document=DOC, tag="{{sig-bob}}"),
        True,
        "anchor '{{sig-bob}}' in document 'contract.pdf'",
    ),
    "missing_link_amr": (lambda: valid(amr=[Amr.SMS]), True, "signer 'alice'.amr"),
    "second_factor_required": (lambda: valid(amr=[Amr.LINK]), True, "signer 'alice'.amr"),
    "phone_required": (lambda: valid(phone=None), True, "signer 'alice'.phone"),
    "invalid_phone": (lambda: valid(phone="514-555-0100"), True, "signer 'alice'.phone"),
    "secret_incomplete": (
        lambda: valid(amr=[Amr.LINK, Amr.SECRET], secret_question="Pet?"),
        True,
        "signer 'alice'.secret_answer",
    ),
    "subject_dn_required": (
        lambda: valid(type=SignerType.CERTIFIO),
        True,
        "signer 'alice'.subject_dn",
    ),
    "unknown_signer": (
        lambda: valid().field("zed", document=DOC, x=72, y=100),
        True,
        "field #2 of signer 'zed' in document 'contract.pdf'",
    ),
    "unknown_document": (
        lambda: valid().field("alice", document="other.pdf", x=72, y=100),
        True,
        "field #2 of signer 'alice' in document 'other.pdf'",
    ),
    "signer_without_zone": (lambda: with_bob(valid()), True, "signer 'bob'"),
    "duplicate_key": (
        lambda: valid().document(TWO_SIZES_PDF, key=DOC),
        True,
        "document 'contract.pdf'",
    ),
    "invalid_email": (lambda: valid(email="alice.example.com"), True, "signer 'alice'.email"),
    "invalid_geometry": (
        lambda: valid().field("alice", document=DOC, x=72, y=100, width=0),
        True,
        "field #2 of signer 'alice' in document 'contract.pdf'.width",
    ),
    "invalid_url": (lambda: valid().webhook("ftp://hooks.example.com/x"), True, "webhook #1"),
    "not_pdf": (
        lambda: with_alice(WorkflowBuilder("C").document(NOT_PDF, key=DOC)).field(
            "alice", document=DOC, x=72, y=650
        ),
        True,
        "document 'contract.pdf'",
    ),
    "page_out_of_range": (
        lambda: valid().field("alice", document=DOC, page=2, x=72, y=100),
        True,
        "field #2 of signer 'alice' in document 'contract.pdf'.page",
    ),
    "field_out_of_page": (
        lambda: valid().field("alice", document=DOC, x=500, y=100),
        True,
        "field #2 of signer 'alice' in document 'contract.pdf'",
    ),
    "anchor_not_found": (
        lambda: valid().anchor("alice", document=DOC, tag="{{sig-nobody}}"),
        True,
        "anchor '{{sig-nobody}}' in document 'contract.pdf'",
    ),
    "anchor_tag_is_word": (
        lambda: valid().anchor("alice", document=DOC, tag="SIGNHERE", skip_if_not_found=True),
        True,
        "anchor 'SIGNHERE' in document 'contract.pdf'.tag",
    ),
    "invalid_value": (lambda: valid().expires_on(TODAY - dt.timedelta(days=1)), True, ""),
}


ISSUE_CODES = {
    "no_signer", "no_document", "embedded_in_parallel_step", "secret_amr_embedded",
    "return_url_required", "duplicate_anchor_tag", "missing_link_amr", "second_factor_required",
    "phone_required", "invalid_phone", "secret_incomplete", "subject_dn_required",
    "unknown_signer", "unknown_document", "signer_without_zone", "duplicate_key",
    "invalid_email", "invalid_geometry", "invalid_url", "not_pdf", "page_out_of_range",
    "field_out_of_page", "anchor_not_found", "anchor_tag_is_word",
}  # fmt: skip


def test_every_issue_code_has_a_case() -> None:
    """The table of the issue is covered in full."""
    assert set(CASES) >= ISSUE_CODES


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_is_reported(code: str) -> None:
    """Each case triggers exactly its code, with a builder-terms path and a how-to-fix message."""
    make, launch, path = CASES[code]
    with pytest.raises(WorkflowValidationError) as info:
        make().build(launch=launch)
    error = info.value
    assert error.codes == {code}, error
    assert isinstance(error, ValueError)
    if path:
        assert [v.path for v in error.violations] == [path]
    for violation in error.violations:
        assert len(violation.message) > 25
        assert code in str(error)


def test_the_cases_are_valid_without_their_fault() -> None:
    """The helper builders the cases start from are valid, so each case isolates one rule."""
    assert valid().violations() == ()
    assert two_signers().violations() == ()


def test_many_violations_reported_at_once() -> None:
    """One build reports every problem, not the first only."""
    builder = (
        WorkflowBuilder("Messy")
        .document(NOT_PDF, key="a.pdf")
        .document(ANCHOR_PDF, key="b.pdf")
        .signer("x", first_name="X", last_name="Y", email="nope", amr=[Amr.SMS])
        .signer(
            "y",
            first_name="Y",
            last_name="Z",
            email="y@example.com",
            phone="+15145550100",
            amr=[Amr.LINK, Amr.SECRET, Amr.SMS],
            mode=Mode.EMBEDDED,
            step=1,
        )
        .field("x", document="b.pdf", page=3, x=72, y=72)
        .field("ghost", document="c.pdf", x=-5, y=10)
        .anchor("y", document="b.pdf", tag="{{nowhere}}")
        .anchor("y", document="b.pdf", tag="{{nowhere}}")
        .webhook("not a url")
    )
    with pytest.raises(WorkflowValidationError) as info:
        builder.build()
    assert info.value.codes == {
        "not_pdf",
        "invalid_email",
        "missing_link_amr",
        "phone_required",
        "secret_incomplete",
        "secret_amr_embedded",
        "return_url_required",
        "embedded_in_parallel_step",
        "page_out_of_range",
        "unknown_signer",
        "unknown_document",
        "invalid_geometry",
        "duplicate_anchor_tag",
        "anchor_not_found",
        "invalid_url",
    }
    # Both anchors are missing from the text: each is reported.
    assert [v.code for v in info.value.violations].count("anchor_not_found") == 2
    assert builder.violations() == info.value.violations


def test_bad_date_string_is_recorded_not_raised() -> None:
    """An unparseable date is reported by build(), with the other problems."""
    builder = valid().expires_on("31/12/2099")
    with pytest.raises(WorkflowValidationError) as info:
        builder.build()
    assert info.value.violations[0].path == "workflow.expires_on"
    assert builder.expires_on("2099-12-31").violations() == ()


def test_draft_may_have_no_signer_and_no_zone() -> None:
    """build(launch=False): status 0, no signer and zone-less signers are fine."""
    draft = WorkflowBuilder("Later").document(ANCHOR_PDF, key=DOC).build(launch=False)
    body = draft.to_payload({DOC: "d"})
    assert body["status"] == 0
    assert body["actions"] == []
    assert body["documents"] == [{"documentId": "d"}]
    assert with_alice(WorkflowBuilder("L").document(ANCHOR_PDF)).violations(launch=False) == ()


def test_second_factor_false_accepts_link_only() -> None:
    """WorkflowBuilder(second_factor=False) accepts a signer with link alone."""
    builder = WorkflowBuilder("N", second_factor=False).document(ANCHOR_PDF, key=DOC)
    builder.signer("e", first_name="E", last_name="F", email="e@example.com")
    builder.field("e", x=10, y=10)
    assert builder.build().to_payload({DOC: "d"})["actions"][0]["signer"]["amr"] == ["link"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.signer("x", first_name=1, last_name="a", email="e"), "first_name"),
        (lambda b: b.signer("x", first_name="a", last_name="a", email="e", amr="link"), "amr"),
        (lambda b: b.field("x", x="72", y=1), "x="),
        (lambda b: b.field("x", x=1, y=1, page=1.0), "page="),
        (lambda b: b.owner_emails("yes"), "enabled"),
        (lambda b: b.document(12345), "document"),
        (lambda b: b.expires_on(20990101), "date"),
    ],
)
def test_wrong_types_raise_type_error_at_once(call: Callable[[Any], Any], message: str) -> None:
    """A value of the wrong type is a programming error: a typed error right away."""
    with pytest.raises(InvalidArgumentTypeError, match=message) as caught:
        call(WorkflowBuilder("T"))
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, InvalidArgumentError)
    assert isinstance(caught.value, ConsignoError)


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.placeholder("p", role=None),
        lambda b: b.placeholder("p", role="Employee", step="2"),
        lambda b: b.notify(first_name="A", last_name="B", email=None),
        lambda b: b.notify(first_name="A", last_name="B", email="a@b.co", amr=[1]),
    ],
)
def test_placeholders_and_contacts_check_types_like_signers(call: Callable[[Any], Any]) -> None:
    """The person methods share one type check, so each refuses wrong types the same way."""
    builder = WorkflowBuilder("T")
    with pytest.raises(InvalidArgumentTypeError):
        call(builder)
    assert not builder._draft.signers
    assert not builder._draft.contacts
