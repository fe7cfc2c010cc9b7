"""WorkflowBuilder payloads: the exact body of POST /workflows, inline documents, fingerprint."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import io
import re
from pathlib import Path
from typing import Any

import pytest
from builder_support import DOC, TODAY, two_signers, valid, with_alice, with_bob
from pdfs import ANCHOR_PDF, TWO_SIZES_PDF
from readme_support import readme_blocks

from consigno_async import (
    Amr,
    DocumentError,
    DocumentSpec,
    Language,
    Mode,
    PdfaPolicy,
    SignerType,
    WorkflowBuilder,
    WorkflowSpec,
    WorkflowValidationError,
)
from consigno_async import builder as builder_module
from consigno_async import spec as spec_module
from consigno_async.model import Workflow, converter
from consigno_async.pdfgen import write_large_pdf
from consigno_async.spec import MAX_INLINE_SIZE, paused_collection


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


def test_inline_document_over_the_limit_is_refused_by_the_builder(tmp_path: Path) -> None:
    """
    A real file just over MAX_INLINE_SIZE (32 MiB) cannot be inlined: build() reports
    inline_too_large and says to upload instead; without inline_documents() it is fine.
    """
    path = tmp_path / "big.pdf"
    write_large_pdf(path, MAX_INLINE_SIZE + 64 * 1024)
    assert path.stat().st_size > MAX_INLINE_SIZE

    def builder() -> WorkflowBuilder:
        return valid().document(path, key="big.pdf")

    with pytest.raises(WorkflowValidationError) as info:
        builder().inline_documents().build()
    assert info.value.codes == {"inline_too_large"}
    (violation,) = info.value.violations
    assert violation.path == "document 'big.pdf'"
    assert "upload" in violation.message
    assert str(MAX_INLINE_SIZE) in violation.message
    assert builder().violations() == ()


def test_inline_limit_applies_to_every_source_and_to_read_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """
    Bytes, and a file object measured from its position, are checked against the limit;
    DocumentSpec.read_bytes refuses too large a source itself, without reading it whole.
    """
    limit = len(ANCHOR_PDF) + 10
    monkeypatch.setattr(spec_module, "MAX_INLINE_SIZE", limit)
    big = ANCHOR_PDF + b"%" * 100
    found = valid().document(big, key="big.pdf").inline_documents().violations()
    assert [(v.code, v.path) for v in found] == [("inline_too_large", "document 'big.pdf'")]
    # A file positioned mid-way: only what is left from its position counts.
    handle = io.BytesIO(b"x" * 500 + ANCHOR_PDF)
    handle.seek(500)
    assert valid().document(handle, key="f.pdf").inline_documents().violations() == ()
    assert handle.tell() == 500
    with pytest.raises(DocumentError, match="upload it instead"):
        DocumentSpec(key="big.pdf", file_name="big.pdf", source=big).read_bytes()

    class OneShot(io.RawIOBase):
        """A non-seekable file: its size cannot be known before reading."""

        def __init__(self) -> None:
            super().__init__()
            self.asked: list[int] = []
            self._data = io.BytesIO(big)

        def readable(self) -> bool:
            return True

        def read(self, size: int | None = -1) -> bytes:
            self.asked.append(-1 if size is None else size)
            return self._data.read(size)

    one_shot = OneShot()
    with pytest.raises(DocumentError, match="over the"):
        DocumentSpec(key="s.pdf", file_name="s.pdf", source=one_shot).read_bytes()
    assert one_shot.asked == [limit + 1]


def test_to_payload_needs_every_document_id() -> None:
    """An uploaded spec without the id of a document refuses to make a body."""
    spec = valid().build()
    with pytest.raises(DocumentError, match=r"contract\.pdf"):
        spec.to_payload({})
    with pytest.raises(DocumentError):
        spec.to_payload()


def test_owner_emails_default_follows_webhooks() -> None:
    """Owner e-mails: on without a webhook, off with one, explicit choice wins."""
    assert valid().build().to_payload({DOC: "d"})["workflowOwnerEmailsEnabled"] is True
    with_hook = valid().webhook("https://h.example.com/x")
    assert with_hook.build().to_payload({DOC: "d"})["workflowOwnerEmailsEnabled"] is False
    forced = with_hook.owner_emails(True).build().to_payload({DOC: "d"})
    assert forced["workflowOwnerEmailsEnabled"] is True


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


def test_builder_example_from_readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's builder example runs as written."""
    blocks = readme_blocks("builder")
    assert blocks, "the README builder section needs a python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert isinstance(namespace["spec"], WorkflowSpec)
    assert namespace["body"]["actions"][1]["mode"] == "embedded"


def test_collector_paused_while_building_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    check(), compile_spec() and to_payload() run with the cycle collector paused (they make
    no cycles), and it comes back as it was: on, or off when the caller had turned it off.
    """
    seen: dict[str, bool] = {}

    def watching(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen[name] = gc.isenabled()
            return real(*args, **kwargs)

        return call

    class Converter:
        unstructure = staticmethod(watching("unstructure", converter.unstructure))

    monkeypatch.setattr(builder_module, "check", watching("check", builder_module.check))
    monkeypatch.setattr(
        builder_module, "compile_spec", watching("compile_spec", builder_module.compile_spec)
    )
    monkeypatch.setattr(spec_module, "converter", Converter)
    assert gc.isenabled()
    spec = two_signers().build()
    spec.to_payload({DOC: "5f0c3d2e1a9b8c7d6e5f4a3b"})
    assert seen == {"check": False, "compile_spec": False, "unstructure": False}
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_collection(), paused_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), paused_collection():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_paused_collection_is_counted_across_threads() -> None:
    """Overlapping pauses in two threads re-enable the collector only when the last one ends."""
    import threading

    first_in = threading.Event()
    second_done = threading.Event()
    states: list[bool] = []

    def first() -> None:
        with paused_collection():
            first_in.set()
            second_done.wait(5)
            states.append(gc.isenabled())  # the second pause ended; ours still holds

    def second() -> None:
        first_in.wait(5)
        with paused_collection():
            pass
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert states == [False]
    assert gc.isenabled()
