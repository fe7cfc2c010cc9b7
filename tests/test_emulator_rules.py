"""Each service rule the emulator enforces answers 400 code 4000 naming the rule and path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from emulator_support import body, call, create, field, login, signer, upload

from consigno_async import Amr, Language, Mode, WorkflowBuilder, WorkflowSpec
from consigno_async.emulator import Emulator
from consigno_async.pdfgen import Page, make_pdf, write_large_pdf

Mutation = Callable[[dict[str, Any]], None]


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _signer(index: int, **changes: Any) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        payload["actions"][index]["signer"].update(changes)
        for key, value in changes.items():
            if value is None:
                del payload["actions"][index]["signer"][key]

    return mutate


def _action(index: int, **changes: Any) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        payload["actions"][index].update(changes)

    return mutate


def _embedded(payload: dict[str, Any]) -> None:
    payload["actions"][0].update(mode="embedded", returnUrl="https://app.example.com/back")


def _no_signer(payload: dict[str, Any]) -> None:
    payload["actions"] = []
    payload["documents"][0]["fields"] = []


def _parallel_embedded(payload: dict[str, Any]) -> None:
    _embedded(payload)
    payload["actions"].append(signer("2", step=1))
    payload["actions"][0]["step"] = 1
    payload["documents"][0]["fields"].append(field("2"))


def _secret_embedded(payload: dict[str, Any]) -> None:
    _embedded(payload)
    payload["actions"][0]["signer"].update(
        amr=["link", "secret"], secretQuestion="Q?", secretAnswer="A"
    )


def _no_return_url(payload: dict[str, Any]) -> None:
    payload["actions"][0]["mode"] = "embedded"


def _unknown_signer(payload: dict[str, Any]) -> None:
    payload["documents"][0]["fields"][0]["assignedTo"] = "9"


def _unknown_document(payload: dict[str, Any]) -> None:
    payload["documents"][0]["documentId"] = "f" * 24


def _no_zone(payload: dict[str, Any]) -> None:
    payload["documents"][0]["fields"] = []


def _duplicate_ref(payload: dict[str, Any]) -> None:
    payload["actions"].append(signer("1"))


def _no_document(payload: dict[str, Any]) -> None:
    payload["documents"] = []


def _zone(**changes: Any) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        payload["documents"][0]["fields"][0].update(changes)

    return mutate


def _anchors(*anchors: dict[str, Any]) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        payload["documents"][0]["fields"] = []
        payload["documents"][0]["anchors"] = list(anchors)

    return mutate


def _bad_webhook(payload: dict[str, Any]) -> None:
    payload["webhooks"] = [{"url": "ftp://example.com/x"}]


def _notification(**changes: Any) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        contact = {
            "firstName": "Carol",
            "lastName": "Lee",
            "email": "carol@example.com",
            "amr": ["link", "sms"],
            "phone": "+15145550102",
        }
        contact.update(changes)
        contact = {key: value for key, value in contact.items() if value is not None}
        payload["notifications"] = [{"contact": contact}]

    return mutate


def _anchor(tag: str, **extra: Any) -> dict[str, Any]:
    return {"tag": tag, "xOffset": 0, "yOffset": -10, "assignedTo": "1", **extra}


RULES: list[tuple[str, Mutation, str]] = [
    ("no_signer", _no_signer, "actions"),
    ("no_document", _no_document, "documents"),
    ("embedded_in_parallel_step", _parallel_embedded, "actions[0].step"),
    ("secret_amr_embedded", _secret_embedded, "actions[0].signer.amr"),
    ("return_url_required", _no_return_url, "actions[0].returnUrl"),
    ("missing_link_amr", _signer(0, amr=["sms"]), "actions[0].signer.amr"),
    ("second_factor_required", _signer(0, amr=["link"]), "actions[0].signer.amr"),
    ("phone_required", _signer(0, phone=None), "actions[0].signer.phone"),
    ("invalid_phone", _signer(0, phone="514-555-0100"), "actions[0].signer.phone"),
    (
        "secret_incomplete",
        _signer(0, amr=["link", "secret"], secretQuestion="Pet?"),
        "actions[0].signer.secretAnswer",
    ),
    (
        "subject_dn_required",
        _signer(0, type="certifio"),
        "actions[0].signer.subjectDN",
    ),
    ("unknown_signer", _unknown_signer, "documents[0].fields[0].assignedTo"),
    ("unknown_document", _unknown_document, "documents[0].documentId"),
    ("signer_without_zone", _no_zone, "actions[0]"),
    ("duplicate_key", _duplicate_ref, "actions[0].ref"),
    ("invalid_email", _signer(0, email="alice-at-example"), "actions[0].signer.email"),
    ("invalid_url", _action(0, returnUrl="not a url"), "actions[0].returnUrl"),
    ("invalid_url", _bad_webhook, "webhooks[0].url"),
    ("invalid_geometry", _zone(width=-5), "documents[0].fields[0]"),
    ("page_out_of_range", _zone(page="3"), "documents[0].fields[0].page"),
    ("field_out_of_page", _zone(x=500), "documents[0].fields[0]"),
    ("anchor_not_found", _anchors(_anchor("{{sig-bob}}")), "documents[0].anchors[0].tag"),
    (
        "duplicate_anchor_tag",
        _anchors(_anchor("{{sig-alice}}"), _anchor("{{sig-alice}}")),
        "documents[0].anchors[1].tag",
    ),
    ("phone_required", _notification(phone=None), "notifications[0].contact.phone"),
]


@pytest.mark.parametrize(("rule", "mutate", "path"), RULES, ids=[f"{r}-{p}" for r, _, p in RULES])
async def test_each_rule_answers_400_naming_it(
    consigno_emulator: Emulator,
    http: aiohttp.ClientSession,
    rule: str,
    mutate: Mutation,
    path: str,
) -> None:
    token = await login(http, consigno_emulator)
    payload = body([await upload(http, consigno_emulator, token)])
    mutate(payload)
    status, data, _ = await call(
        http, "POST", f"{consigno_emulator.base_url}/workflows", token, json=payload
    )
    assert status == 400, data
    assert data["code"] == "4000"
    assert data["msg"].startswith("[4000 - VALIDATION_FAILED]")
    assert data["parameters"]["rule"] == rule
    assert data["parameters"]["path"] == path
    assert rule in data["parameters"]["rules"].split(",")
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 0


async def test_valid_variants_pass(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """Anchors found in the text, skipIfNotFound, drafts without zones, secrets done right."""
    token = await login(http, consigno_emulator)

    async def accepted(mutate: Mutation, status: int = 1) -> dict[str, Any]:
        payload = body([await upload(http, consigno_emulator, token)], status=status)
        mutate(payload)
        return await create(http, consigno_emulator, token, payload)

    assert (await accepted(_anchors(_anchor("{{sig-alice}}", page="1"))))["status"] == 1
    assert (await accepted(_anchors(_anchor("{{absent}}", skipIfNotFound=True))))["status"] == 1
    assert (await accepted(_no_zone, status=0))["status"] == 0
    secret = _signer(
        0,
        amr=["link", "secret"],
        secretQuestion="Q?",
        secretAnswer="A",
        isSecretAnswerChanged=True,
        phone=None,
    )
    assert (await accepted(secret))["status"] == 1
    placeholder = _signer(0, placeHolder=True, role="Witness", email=None, amr=None)
    assert (await accepted(placeholder, status=0))["actions"][0]["signer"]["placeHolder"]


async def test_rules_list_every_problem_and_second_factor_setting(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    payload = body([await upload(http, consigno_emulator, token)])
    payload["actions"][0]["signer"].update(amr=["link"], email="nope")
    url = f"{consigno_emulator.base_url}/workflows"
    status, data, _ = await call(http, "POST", url, token, json=payload)
    assert status == 400
    assert set(data["parameters"]["rules"].split(",")) == {
        "invalid_email",
        "second_factor_required",
    }
    await consigno_emulator.settings(second_factor_required=False)
    payload["actions"][0]["signer"]["email"] = "ok@example.com"
    assert (await create(http, consigno_emulator, token, payload))["status"] == 1


async def test_large_documents_skip_the_anchor_text_check(
    consigno_emulator: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """Past 20 MB the emulator does not extract text, so an absent tag is not reported."""
    token = await login(http, consigno_emulator)
    path = tmp_path / "large.pdf"
    write_large_pdf(path, 21 * 1024 * 1024, [Page(lines=["no tags here"])])
    with path.open("rb") as handle:
        form = aiohttp.FormData()
        form.add_field("file", handle, filename="large.pdf", content_type="application/pdf")
        status, data, _ = await call(
            http, "POST", f"{consigno_emulator.base_url}/documents", token, data=form
        )
    assert status == 201
    payload = body([data["response"]["metadata"]["documentId"]])
    _anchors(_anchor("{{sig-alice}}"))(payload)
    assert (await create(http, consigno_emulator, token, payload))["status"] == 1


async def test_builder_payloads_are_accepted(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """What the builder compiles (every feature) passes the emulator's rules unchanged."""
    pdf = make_pdf([Page(lines=["Contract", "Sign: {{sig-bob}}"])])

    def build(launch: bool, inline: bool) -> WorkflowSpec:
        builder = (
            WorkflowBuilder("Everything")
            .document(pdf, key="c.pdf", file_name="c.pdf", label="Main")
            .signer(
                "alice",
                first_name="Alice",
                last_name="Martin",
                email="alice@example.com",
                phone="+15145550100",
                amr=[Amr.LINK, Amr.SMS],
                lang=Language.FR,
            )
            .field("alice", document="c.pdf", page=1, x=72, y=650)
            .signer(
                "bob",
                first_name="Bob",
                last_name="Roy",
                email="bob@example.com",
                mode=Mode.EMBEDDED,
                return_url="https://app.example.com/signed",
                client_user_id="u-42",
                amr=[Amr.LINK, Amr.SMS],
                phone="+15145550101",
                step=2,
            )
            .anchor("bob", document="c.pdf", tag="{{sig-bob}}", x_offset=0, y_offset=-10)
            .signer(
                "carl",
                first_name="Carl",
                last_name="Smith",
                email="carl@example.com",
                amr=[Amr.LINK, Amr.SECRET],
                secret_question="Q?",
                secret_answer="A",
                step=3,
            )
            .field("carl", document="c.pdf", page=1, x=300, y=650)
            .notify(
                first_name="Carol",
                last_name="Lee",
                email="carol@example.com",
                amr=[Amr.LINK, Amr.SMS],
                phone="+15145550102",
            )
            .webhook("http://127.0.0.1:9/hook")
            .return_url("https://app.example.com/done")
            .message_to_signers("Please sign")
        )
        if not launch:
            builder = builder.placeholder("dave", role="Witness", step=4)
        if inline:
            builder = builder.inline_documents()
        return builder.build(launch=launch)

    token = await login(http, consigno_emulator)
    for launch, inline in ((True, False), (False, False), (True, True)):
        spec = build(launch, inline)
        ids = None if inline else {"c.pdf": await upload(http, consigno_emulator, token, pdf)}
        workflow = await create(http, consigno_emulator, token, spec.to_payload(ids))
        assert workflow["status"] == int(launch)
        assert len(workflow["actions"]) == (3 if launch else 4)
