"""The request model and its converter write exactly the service's wire names."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from cattrs.errors import ClassValidationError

from consigno_async import model
from consigno_async.enums import Amr, Language, Mode, PdfaPolicy, SignerType
from consigno_async.model import (
    Action,
    Anchor,
    Contact,
    Document,
    Field,
    Notification,
    Signer,
    Webhook,
    Workflow,
    converter,
    dumps,
    wire_name,
)


def _workflow() -> Workflow:
    signer = Signer(
        type=SignerType.CERTIFIO,
        first_name="Alice",
        last_name="Martin",
        email="alice@example.com",
        phone="+15145550100",
        amr=(Amr.LINK, Amr.SECRET),
        lang=Language.FR,
        secret_question="Pet?",
        secret_answer="Rex-the-dog",
        is_secret_answer_changed=True,
        subject_dn="CN=Alice Martin",
        place_holder=False,
    )
    return Workflow(
        name="Contract",
        expires_on=dt.date(2030, 1, 31),
        pdfa_policy=PdfaPolicy.MANDATORY,
        status=1,
        documents=(
            Document(
                document_id="5f0c3d2e1a9b8c7d6e5f4a3b",
                fields=(Field(x=72, y=650.5, page=2, assigned_to=12),),
                anchors=(Anchor(tag="{{sig}}", x_offset=5, y_offset=-10, assigned_to=12),),
            ),
        ),
        actions=(Action(ref=12, step=3, mode=Mode.EMBEDDED, zone_label="Sign", signer=signer),),
        notifications=(
            Notification(
                contact=Contact(first_name="Carol", last_name="Lee", email="c@example.com")
            ),
        ),
        webhooks=(Webhook(url="https://app.example.com/hook", insecure=False),),
    )


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(item for v in value.values() for item in _walk(v))]
    if isinstance(value, list):
        return [value, *(item for v in value for item in _walk(v))]
    return [value]


def test_field_uses_wire_names_and_numeric_strings() -> None:
    """A field writes page and assignedTo as numeric strings, and the default size."""
    assert converter.unstructure(Field(x=72, y=650, page=1, assigned_to=3)) == {
        "x": 72,
        "y": 650,
        "width": 165,
        "height": 37,
        "page": "1",
        "assignedTo": "3",
    }


def test_anchor_omits_unset_page_and_writes_camel_case() -> None:
    """An anchor without page leaves it out; offsets and skipIfNotFound are camelCase."""
    anchor = Anchor(tag="{{a}}", x_offset=1, y_offset=2, assigned_to=1, skip_if_not_found=True)
    assert converter.unstructure(anchor) == {
        "tag": "{{a}}",
        "xOffset": 1,
        "yOffset": 2,
        "width": 165,
        "height": 37,
        "assignedTo": "1",
        "skipIfNotFound": True,
    }
    assert converter.unstructure(Anchor(tag="t", assigned_to=1, page=4))["page"] == "4"


def test_signer_special_wire_names() -> None:
    """subjectDN, secretAnswer, isSecretAnswerChanged, placeHolder: spelled as the API does."""
    body = converter.unstructure(_workflow())
    signer = body["actions"][0]["signer"]
    assert signer == {
        "type": "certifio",
        "firstName": "Alice",
        "lastName": "Martin",
        "email": "alice@example.com",
        "phone": "+15145550100",
        "amr": ["link", "secret"],
        "lang": "fr",
        "secretQuestion": "Pet?",
        "secretAnswer": "Rex-the-dog",
        "isSecretAnswerChanged": True,
        "subjectDN": "CN=Alice Martin",
        "placeHolder": False,
    }
    assert body["actions"][0]["ref"] == "12"
    assert body["actions"][0]["step"] == 3
    assert body["actions"][0]["mode"] == "embedded"
    assert body["actions"][0]["zoneLabel"] == "Sign"


def test_workflow_top_level() -> None:
    """Top-level keys: expiresOn as YYYY-MM-DD, pdfaPolicy and status as ints, lists kept."""
    body = converter.unstructure(_workflow())
    assert body["name"] == "Contract"
    assert body["expiresOn"] == "2030-01-31"
    assert body["pdfaPolicy"] == 2
    assert body["status"] == 1
    assert body["notifications"] == [
        {"contact": {"firstName": "Carol", "lastName": "Lee", "email": "c@example.com"}}
    ]
    assert body["webhooks"] == [{"url": "https://app.example.com/hook", "insecure": False}]
    assert body["documents"][0]["documentId"] == "5f0c3d2e1a9b8c7d6e5f4a3b"
    assert "messageToSigners" not in body
    assert "workflowOwnerEmailsEnabled" not in body


def test_never_sends_null_and_values_are_plain_json() -> None:
    """No None anywhere; enums come out as plain str/int, so the stdlib json encodes it."""
    body = converter.unstructure(_workflow())
    values = _walk(body)
    assert None not in values
    assert not any(isinstance(v, Amr | Mode | PdfaPolicy) for v in values)
    assert json.loads(json.dumps(body)) == body


def test_empty_lists_are_sent_when_required() -> None:
    """notifications, actions and documents are sent even when empty; empty zones are not."""
    workflow = Workflow(
        name="Draft",
        expires_on=dt.date(2030, 1, 1),
        pdfa_policy=PdfaPolicy.NONE,
        status=0,
        documents=(Document(document_id="abc"),),
        actions=(),
        notifications=(),
    )
    body = converter.unstructure(workflow)
    assert body["actions"] == []
    assert body["notifications"] == []
    assert body["documents"] == [{"documentId": "abc"}]
    assert "webhooks" not in body


def test_structure_round_trip() -> None:
    """structure(unstructure(w)) == w, and unstructure again gives the same body."""
    workflow = _workflow()
    body = converter.unstructure(workflow)
    again = converter.structure(body, Workflow)
    assert again == workflow
    assert converter.unstructure(again) == body
    assert again.actions[0].signer.amr == (Amr.LINK, Amr.SECRET)
    assert again.documents[0].fields[0].page == 2


def test_structure_refuses_non_numeric_reference() -> None:
    """A non-numeric assignedTo cannot be read back into the model."""
    with pytest.raises(ClassValidationError):
        converter.structure(
            {"x": 1, "y": 2, "width": 3, "height": 4, "page": "1", "assignedTo": "bob"}, Field
        )


def test_dumps_is_compact_json_of_the_body() -> None:
    """dumps() gives orjson bytes that decode to the unstructured body."""
    workflow = _workflow()
    data = dumps(workflow)
    assert isinstance(data, bytes)
    assert json.loads(data) == converter.unstructure(workflow)
    assert dumps({"a": 1}) == b'{"a":1}'


def test_secret_answer_hidden_from_reprs() -> None:
    """No repr of a model object shows a secret answer."""
    workflow = _workflow()
    contact = Contact(first_name="C", last_name="L", email="c@x.io", secret_answer="Hunter2-xyz")
    assert "Rex-the-dog" not in repr(workflow)
    assert "Hunter2-xyz" not in repr(contact)
    assert "secret_answer='***'" in repr(contact)


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("first_name", "firstName"),
        ("is_secret_answer_changed", "isSecretAnswerChanged"),
        ("place_holder", "placeHolder"),
        ("subject_dn", "subjectDN"),
        ("assigned_to", "assignedTo"),
        ("workflow_owner_emails_enabled", "workflowOwnerEmailsEnabled"),
        ("x", "x"),
    ],
)
def test_wire_name(name: str, wire: str) -> None:
    """Python names map to the service's spelling."""
    assert wire_name(name) == wire


def test_numbers_share_one_string_and_large_ones_are_not_kept() -> None:
    """Refs and pages are written as shared strings; a huge number is converted, not cached."""
    first = converter.unstructure(Field(x=1, y=1, page=3, assigned_to=1234))
    second = converter.unstructure(Field(x=2, y=2, page=3, assigned_to=1234))
    assert first["assignedTo"] == "1234"
    assert first["assignedTo"] is second["assignedTo"]
    huge = 10**12
    assert converter.unstructure(Field(x=1, y=1, page=1, assigned_to=huge))["assignedTo"] == str(
        huge
    )
    assert huge not in model._numeric_string.__self__  # type: ignore[attr-defined]


def test_lists_of_models_and_optional_enums_use_the_fast_hooks() -> None:
    """Zones, AMRs and languages unstructure to plain lists and values (no enum objects)."""
    fields = (Field(x=1, y=2, page=1, assigned_to=1), Field(x=3, y=4, page=2, assigned_to=2))
    assert converter.unstructure(fields, tuple[Field, ...]) == [
        {"x": 1, "y": 2, "width": 165, "height": 37, "page": "1", "assignedTo": "1"},
        {"x": 3, "y": 4, "width": 165, "height": 37, "page": "2", "assignedTo": "2"},
    ]
    body = converter.unstructure(Signer(amr=(Amr.LINK, Amr.SMS), lang=Language.FR))
    assert body["amr"] == ["link", "sms"]
    assert type(body["amr"][0]) is str
    assert body["lang"] == "fr"
    assert type(body["lang"]) is str
    assert "amr" not in converter.unstructure(Signer())
