"""WorkflowBuilder: every rule reported at once, and the exact body of POST /workflows."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pdfs import ANCHOR_PDF, NOT_PDF, TWO_SIZES_PDF

from consigno_async import (
    Amr,
    ConsignoError,
    DocumentError,
    DocumentSpec,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    Language,
    Mode,
    PdfaPolicy,
    SignerType,
    WorkflowBuilder,
    WorkflowSpec,
    WorkflowValidationError,
)
from consigno_async.model import Workflow, converter
from consigno_async.pdfgen import write_pdf

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


def test_issue_example_payload_field_by_field() -> None:
    """The issue's example gives exactly this body, in the service's wire names."""
    spec = (
        WorkflowBuilder("Employment contract")
        .document(ANCHOR_PDF, file_name=DOC, pdfa=PdfaPolicy.PREFERRED)
        .signer("alice", first_name="Alice", last_name="Martin", email="alice@example.com",
                phone="+15145550100", amr=[Amr.LINK, Amr.SMS], lang=Language.FR)
        .field("alice", document=DOC, page=1, x=72, y=650)
        .signer("bob", first_name="Bob", last_name="Roy", email="bob@example.com",
                mode=Mode.EMBEDDED, return_url="https://app.example.com/signed",
                client_user_id="u-42", amr=[Amr.LINK, Amr.SMS], phone="+15145550101", step=2)
        .anchor("bob", document=DOC, tag="{{sig-bob}}", x_offset=0, y_offset=-10)
        .notify(first_name="Carol", last_name="Lee", email="carol@example.com",
                amr=[Amr.LINK, Amr.SMS], phone="+15145550102")
        .webhook("https://app.example.com/hooks/consigno")
        .build()
    )  # fmt: skip
    body = spec.to_payload({DOC: "5f0c3d2e1a9b8c7d6e5f4a3b"})
    assert body == {
        "name": "Employment contract",
        "expiresOn": (TODAY + dt.timedelta(days=30)).isoformat(),
        "pdfaPolicy": 1,
        "status": 1,
        "documents": [
            {
                "documentId": "5f0c3d2e1a9b8c7d6e5f4a3b",
                "fields": [
                    {"x": 72, "y": 650, "width": 165, "height": 37, "page": "1", "assignedTo": "1"}
                ],
                "anchors": [
                    {
                        "tag": "{{sig-bob}}",
                        "xOffset": 0,
                        "yOffset": -10,
                        "width": 165,
                        "height": 37,
                        "assignedTo": "2",
                        "skipIfNotFound": False,
                    }
                ],
            }
        ],
        "actions": [
            {
                "ref": "1",
                "step": 1,
                "mode": "remote",
                "zoneLabel": "Signez ici",
                "signer": {
                    "type": "esig",
                    "firstName": "Alice",
                    "lastName": "Martin",
                    "email": "alice@example.com",
                    "phone": "+15145550100",
                    "amr": ["link", "sms"],
                    "lang": "fr",
                    "placeHolder": False,
                },
            },
            {
                "ref": "2",
                "step": 2,
                "mode": "embedded",
                "zoneLabel": "Sign here",
                "returnUrl": "https://app.example.com/signed",
                "signer": {
                    "type": "esig",
                    "firstName": "Bob",
                    "lastName": "Roy",
                    "email": "bob@example.com",
                    "phone": "+15145550101",
                    "amr": ["link", "sms"],
                    "lang": "en",
                    "clientUserId": "u-42",
                    "placeHolder": False,
                },
            },
        ],
        "notifications": [
            {
                "contact": {
                    "firstName": "Carol",
                    "lastName": "Lee",
                    "email": "carol@example.com",
                    "phone": "+15145550102",
                    "amr": ["link", "sms"],
                    "lang": "en",
                }
            }
        ],
        "webhooks": [{"url": "https://app.example.com/hooks/consigno", "insecure": False}],
        "workflowOwnerEmailsEnabled": False,
    }
    assert converter.unstructure(converter.structure(body, Workflow)) == body
    assert [d.key for d in spec.documents] == [DOC]
    assert spec.documents[0].pdfa is PdfaPolicy.PREFERRED
    assert spec.launch is True
    assert spec.inline is False
    assert spec.name == "Employment contract"


def test_secret_signer_payload_and_secrecy() -> None:
    """A secret AMR sends question, answer and isSecretAnswerChanged; no repr shows the answer."""
    answer = "Tabby-cat-1987"
    builder = valid(amr=[Amr.LINK, Amr.SECRET], phone=None, secret_question="Pet?",
                    secret_answer=answer)  # fmt: skip
    spec = builder.build()
    signer = spec.to_payload({DOC: "d1"})["actions"][0]["signer"]
    assert signer["amr"] == ["link", "secret"]
    assert signer["secretQuestion"] == "Pet?"
    assert signer["secretAnswer"] == answer
    assert signer["isSecretAnswerChanged"] is True
    assert "phone" not in signer
    for text in (repr(spec), repr(builder), repr(spec.workflow), repr(builder._draft)):
        assert answer not in text
    assert answer not in spec.fingerprint()
    broken = with_bob(valid(amr=[Amr.LINK, Amr.SECRET], secret_question="Q", secret_answer=answer))
    with pytest.raises(WorkflowValidationError) as info:
        broken.build()
    assert answer not in str(info.value)
    assert answer not in repr(info.value.violations)


def test_secret_fields_not_sent_without_secret_amr() -> None:
    """A secret answer given without Amr.SECRET is not sent (never send a secret for nothing)."""
    signer = valid(secret_question="Q", secret_answer="A-1").build().to_payload({DOC: "d"})
    assert "secretAnswer" not in signer["actions"][0]["signer"]
    assert "isSecretAnswerChanged" not in signer["actions"][0]["signer"]


def test_certifio_placeholder_and_steps() -> None:
    """subjectDN for certifio; a placeholder sends role + placeHolder; step= groups signers."""
    spec = (
        valid(type=SignerType.CERTIFIO, subject_dn="CN=Alice Martin, O=Example")
        .placeholder("employee", role="Employee", step=1)
        .signer("carl", first_name="Carl", last_name="Roy", email="carl@example.com",
                phone="+33612345678", amr=[Amr.LINK, Amr.CALL])
        .field("carl", document=DOC, x=300, y=650)
        .field("employee", document=DOC, x=72, y=700)
        .build()
    )  # fmt: skip
    actions = spec.to_payload({DOC: "d"})["actions"]
    assert actions[0]["signer"]["subjectDN"] == "CN=Alice Martin, O=Example"
    assert actions[0]["signer"]["type"] == "certifio"
    assert actions[1] == {
        "ref": "2",
        "step": 1,
        "mode": "remote",
        "zoneLabel": "Employee",
        "signer": {"type": "esig", "role": "Employee", "placeHolder": True},
    }
    assert [a["step"] for a in actions] == [1, 1, 2]
    assert actions[2]["signer"]["amr"] == ["link", "call"]
    fields = spec.to_payload({DOC: "d"})["documents"][0]["fields"]
    assert [f["assignedTo"] for f in fields] == ["1", "3", "2"]


def test_parallel_puts_everyone_in_step_one() -> None:
    """parallel() gives every signer step 1 and sends parallelActions."""
    builder = with_alice(WorkflowBuilder("P").document(ANCHOR_PDF, key=DOC))
    builder.signer("dan", first_name="Dan", last_name="Oh", email="dan@example.com",
                   phone="+15145550109", amr=[Amr.LINK, Amr.SMS])  # fmt: skip
    builder.field("alice", x=72, y=600).field("dan", x=300, y=600).parallel()
    body = builder.build().to_payload({DOC: "d"})
    assert [a["step"] for a in body["actions"]] == [1, 1]
    assert body["parallelActions"] is True
    assert body["workflowOwnerEmailsEnabled"] is True


def test_workflow_settings() -> None:
    """expires_on, return_url, message_to_signers and owner_emails go to their wire names."""
    body = (
        valid()
        .expires_on(dt.date(2099, 12, 31))
        .return_url("https://app.example.com/done")
        .message_to_signers("Please sign by Friday.")
        .webhook("http://127.0.0.1:8080/hook", insecure=True)
        .owner_emails(True)
        .build()
        .to_payload({DOC: "d"})
    )
    assert body["expiresOn"] == "2099-12-31"
    assert body["returnUrl"] == "https://app.example.com/done"
    assert body["messageToSigners"] == "Please sign by Friday."
    assert body["webhooks"] == [{"url": "http://127.0.0.1:8080/hook", "insecure": True}]
    assert body["workflowOwnerEmailsEnabled"] is True
    assert valid().expires_on("2099-01-02").build().to_payload({DOC: "d"})["expiresOn"] == (
        "2099-01-02"
    )


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


def test_inline_documents_are_base64(tmp_path: Path) -> None:
    """inline_documents() sends name + base64 data, from bytes, a path or a file."""
    path = tmp_path / "paper.pdf"
    path.write_bytes(TWO_SIZES_PDF)
    handle = io.BytesIO(ANCHOR_PDF)
    spec = (
        valid()
        .document(path, label="Annex")
        .document(handle, key="third.pdf")
        .inline_documents()
        .build()
    )
    body = spec.to_payload()
    names = [d["name"] for d in body["documents"]]
    assert names == [DOC, "paper.pdf", "third.pdf"]
    decoded = [base64.b64decode(d["data"]) for d in body["documents"]]
    assert decoded == [ANCHOR_PDF, TWO_SIZES_PDF, ANCHOR_PDF]
    assert body["documents"][1]["documentLabel"] == "Annex"
    assert "documentId" not in body["documents"][0]
    assert handle.tell() == 0
    assert spec.inline is True
    assert spec.documents[1].source == path


def test_to_payload_needs_every_document_id() -> None:
    """An uploaded spec without the id of a document refuses to make a body."""
    spec = valid().build()
    with pytest.raises(DocumentError, match=r"contract\.pdf"):
        spec.to_payload({})
    with pytest.raises(DocumentError):
        spec.to_payload()


def test_document_keys_and_sources(tmp_path: Path) -> None:
    """Key = file name unless key=; a file's name is used; a path keeps its base name."""
    path = tmp_path / "sub" / "lease.pdf"
    path.parent.mkdir()
    write_pdf(path)
    with path.open("rb") as handle:
        spec = (
            WorkflowBuilder("K")
            .document(str(path))
            .document(handle, key="copy")
            .document(ANCHOR_PDF)
            .build(launch=False)
        )
        assert [(d.key, d.file_name) for d in spec.documents] == [
            ("lease.pdf", "lease.pdf"),
            ("copy", "lease.pdf"),
            ("document-3.pdf", "document-3.pdf"),
        ]
    assert isinstance(spec.documents[0], DocumentSpec)
    assert "bytes of" in repr(spec.documents[2])


def test_async_stream_skips_pdf_checks() -> None:
    """An async stream cannot be inspected: zone checks needing the PDF are skipped."""

    async def chunks() -> AsyncIterator[bytes]:
        yield ANCHOR_PDF

    stream = chunks()
    builder = with_alice(WorkflowBuilder("S").document(stream, file_name="s.pdf"))
    builder.field("alice", document="s.pdf", page=9, x=72, y=650)
    spec = builder.build()
    assert spec.documents[0].source is stream
    with pytest.raises(WorkflowValidationError) as info:
        builder.inline_documents().build()
    assert info.value.codes == {"invalid_value"}


def test_two_page_sizes_checked_per_page() -> None:
    """A field fits page 1 (portrait) but not page 2 (landscape): only page 2 is refused."""
    builder = with_alice(WorkflowBuilder("T").document(TWO_SIZES_PDF, key="t.pdf"))
    builder.field("alice", document="t.pdf", page=1, x=72, y=700)
    assert builder.violations() == ()
    builder.field("alice", document="t.pdf", page=2, x=72, y=700)
    (violation,) = builder.violations()
    assert violation.code == "field_out_of_page"
    assert "842 x 595" in violation.message
    builder.anchor("alice", document="t.pdf", tag="[[p2]]", page=1)
    assert [v.code for v in builder.violations()] == ["field_out_of_page", "anchor_not_found"]


def test_owner_emails_default_follows_webhooks() -> None:
    """Owner e-mails: on without a webhook, off with one, explicit choice wins."""
    assert valid().build().to_payload({DOC: "d"})["workflowOwnerEmailsEnabled"] is True
    with_hook = valid().webhook("https://h.example.com/x")
    assert with_hook.build().to_payload({DOC: "d"})["workflowOwnerEmailsEnabled"] is False
    forced = with_hook.owner_emails(True).build().to_payload({DOC: "d"})
    assert forced["workflowOwnerEmailsEnabled"] is True


def test_second_factor_false_accepts_link_only() -> None:
    """WorkflowBuilder(second_factor=False) accepts a signer with link alone."""
    builder = WorkflowBuilder("N", second_factor=False).document(ANCHOR_PDF, key=DOC)
    builder.signer("e", first_name="E", last_name="F", email="e@example.com")
    builder.field("e", x=10, y=10)
    assert builder.build().to_payload({DOC: "d"})["actions"][0]["signer"]["amr"] == ["link"]


def test_fingerprint_is_stable_and_content_based() -> None:
    """Same intent, same digest; any change in the body changes it."""
    first, second = valid().build(), valid().build()
    assert first.fingerprint() == second.fingerprint()
    assert re.fullmatch(r"[0-9a-f]{64}", first.fingerprint())
    assert valid(email="alice2@example.com").build().fingerprint() != first.fingerprint()
    assert valid().build(launch=False).fingerprint() != first.fingerprint()
    dated = valid().expires_on(dt.date(2099, 1, 1)).build()
    assert dated.fingerprint() != first.fingerprint()
    other_bytes = with_alice(WorkflowBuilder("Contract").document(TWO_SIZES_PDF, key=DOC))
    other = other_bytes.field("alice", document=DOC, x=72, y=650).build()
    assert other.fingerprint() != first.fingerprint()


def test_spec_is_frozen_and_short_repr() -> None:
    """WorkflowSpec cannot be changed and its repr does not list every signer."""
    spec = valid().build()
    assert isinstance(spec, WorkflowSpec)
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    assert repr(spec).startswith("WorkflowSpec(name='Contract'")
    assert "alice@example.com" not in repr(spec)


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


def test_builder_example_from_readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's builder example runs as written."""
    readme = Path(__file__).resolve().parent.parent / "README.md"
    section = readme.read_text().split("<!-- section:builder -->")[1].split("<!-- /section")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks, "the README builder section needs a python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert isinstance(namespace["spec"], WorkflowSpec)
    assert namespace["body"]["actions"][1]["mode"] == "embedded"


def test_each_document_is_inspected_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """pypdf reads each document once, however many zones and builds; text only for anchors."""
    import consigno_async.builder as builder_module

    calls: list[tuple[bytes, bool]] = []
    real = builder_module.inspect_pdf

    def counting(source: Any, *, text: bool = False) -> Any:
        calls.append((source, text))
        return real(source, text=text)

    monkeypatch.setattr(builder_module, "inspect_pdf", counting)
    builder = valid().document(TWO_SIZES_PDF, key="two.pdf")
    for n in range(20):
        builder.field("alice", document=DOC, x=72, y=10 + n)
    builder.build()
    builder.build(launch=False)
    builder.violations()
    assert calls == [(ANCHOR_PDF, False), (TWO_SIZES_PDF, False)]
    builder.anchor("alice", document="two.pdf", tag="[[p2]]")
    builder.build()
    assert calls[2:] == [(TWO_SIZES_PDF, True)]


@pytest.mark.slow
def test_large_document_is_not_loaded(tmp_path: Path) -> None:
    """A PDF over 64 MiB is not inspected nor read into memory: its zone checks are skipped."""
    import tracemalloc

    from consigno_async.pdfgen import write_large_pdf

    big = tmp_path / "big.pdf"
    write_large_pdf(big, 80 * 1024 * 1024)
    builder = with_alice(WorkflowBuilder("Big").document(big))
    builder.field("alice", page=40, x=72, y=650)  # page 40 of a 1-page PDF: not checked
    tracemalloc.start()
    try:
        spec = builder.build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert spec.documents[0].file_name == "big.pdf"


def test_bytes_path_gives_a_text_file_name(tmp_path: Path) -> None:
    """A path given as bytes (os.PathLike[bytes] or bytes-like path) still names the document."""

    class BytesPath:
        def __fspath__(self) -> bytes:
            return bytes(tmp_path / "deed.pdf")

    write_pdf(tmp_path / "deed.pdf")
    spec = WorkflowBuilder("B").document(BytesPath()).build(launch=False)
    assert spec.documents[0].file_name == "deed.pdf"
    assert spec.to_payload({"deed.pdf": "d"})["documents"] == [{"documentId": "d"}]
