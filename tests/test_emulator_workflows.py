"""Emulator documents and workflows over real HTTP: create, read, list, update, delete."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from emulator_support import PDF, body, call, create, edit, login, signer, upload

from consigno_async.emulator import Emulator

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_upload_metadata_and_non_pdf(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    url = f"{consigno_emulator.base_url}/documents"
    form = aiohttp.FormData()
    form.add_field("uploadData", '{"pdfaPolicy": 2, "documentLabel": "Main"}')
    form.add_field("file", PDF, filename="contract.pdf", content_type="application/pdf")
    status, data, _ = await call(http, "POST", url, token, data=form)
    assert status == 201
    meta = data["response"]["metadata"]
    assert re.fullmatch(r"[0-9a-f]{24}", meta["documentId"])
    assert meta["fileName"] == "contract.pdf"
    assert meta["fileSize"] == len(PDF)
    assert meta["pageCount"] == 2
    assert meta["pdfaPolicy"] == 2
    assert meta["documentLabel"] == "Main"
    assert ISO.fullmatch(meta["uploadDate"])
    form = aiohttp.FormData()
    form.add_field("file", b"GIF89a not a pdf", filename="x.pdf", content_type="application/pdf")
    status, data, _ = await call(http, "POST", url, token, data=form)
    assert (status, data["code"]) == (415, "4001")
    status, data, _ = await call(http, "POST", url, token, json={"file": "x"})
    assert (status, data["code"], data["parameters"]["field"]) == (400, "4002", "Content-Type")
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("uploadData", "{}")
    status, data, _ = await call(http, "POST", url, token, data=form)
    assert (status, data["parameters"]["field"]) == (400, "file")
    assert (await consigno_emulator.stats())["documents_stored"] == 1


async def test_create_returns_201_and_the_documented_fields(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    doc = await upload(http, consigno_emulator, token)
    payload = body([doc], refs=("1", "2"))
    payload["actions"][1]["step"] = 2
    payload["actions"][1]["signer"].update(
        amr=["link", "secret"], secretQuestion="Pet?", secretAnswer="Rex-the-dog"
    )
    payload["webhooks"] = [{"url": "http://127.0.0.1:9/hook"}]
    workflow = await create(http, consigno_emulator, token, payload)
    assert re.fullmatch(r"[0-9a-f]{24}", workflow["id"])
    assert workflow["status"] == 1
    assert workflow["totalActions"] == workflow["remainingActions"] == 2
    assert [a["status"] for a in workflow["actions"]] == ["STARTED", "NOT_STARTED"]
    assert [a["step"] for a in workflow["actions"]] == [1, 2]
    assert all(re.fullmatch(r"[0-9a-f]{24}", a["id"]) for a in workflow["actions"])
    assert workflow["documents"][0]["documentId"] == doc
    zone = workflow["documents"][0]["fields"][0]
    assert (zone["width"], zone["height"], zone["page"], zone["assignedTo"]) == (165, 37, "1", "1")
    for key in ("createdOn", "modifiedOn", "statusDate"):
        assert ISO.fullmatch(workflow[key]), key
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", workflow["expiresOn"])
    assert workflow["editUrl"].startswith(consigno_emulator.root_url)
    assert workflow["workflowOwnerEmailsEnabled"] is False  # a webhook is set
    assert workflow["actions"][1]["signer"]["secretQuestion"] == "Pet?"
    status, data, _ = await call(
        http, "GET", f"{consigno_emulator.base_url}/workflows/{workflow['id']}", token
    )
    assert status == 200
    assert data["msg"] == "OK"
    assert "secretAnswer" not in str(data)
    assert "Rex-the-dog" not in str(data)
    assert data["response"]["id"] == workflow["id"]


async def test_document_is_used_by_one_workflow_only(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    doc = await upload(http, consigno_emulator, token)
    await create(http, consigno_emulator, token, body([doc]))
    status, data, _ = await call(
        http, "POST", f"{consigno_emulator.base_url}/workflows", token, json=body([doc])
    )
    assert (status, data["code"], data["parameters"]["documentId"]) == (409, "4090", doc)
    twice = await upload(http, consigno_emulator, token)
    status, data, _ = await call(
        http, "POST", f"{consigno_emulator.base_url}/workflows", token, json=body([twice, twice])
    )
    assert (status, data["code"]) == (409, "4090")
    # A draft that drops a document gives it back.
    draft = await create(http, consigno_emulator, token, body([twice], status=0))
    other = await upload(http, consigno_emulator, token)
    replaced = body([other], status=0)
    status, _, _ = await call(
        http,
        "PUT",
        f"{consigno_emulator.base_url}/workflows/{draft['id']}",
        token,
        json={"documents": replaced["documents"]},
    )
    assert status == 200
    assert (await create(http, consigno_emulator, token, body([twice])))["status"] == 1


async def test_inline_base64_documents(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    payload = body(["placeholder"])
    payload["documents"][0] = {
        "name": "inline.pdf",
        "data": base64.b64encode(PDF).decode(),
        "fields": [{"x": 72, "y": 100, "page": "2", "assignedTo": "1", "width": 100}],
    }
    workflow = await create(http, consigno_emulator, token, payload)
    assert workflow["documents"][0]["name"] == "inline.pdf"
    assert workflow["documents"][0]["pageCount"] == 2
    payload["documents"][0]["data"] = "@@@ not base64"
    status, data, _ = await call(
        http, "POST", f"{consigno_emulator.base_url}/workflows", token, json=payload
    )
    assert (status, data["code"], data["parameters"]["field"]) == (400, "4002", "documents[0].data")


async def test_unknown_and_malformed_ids_answer_5004(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    base = consigno_emulator.base_url
    for workflow_id in ("0" * 24, "not-an-id", "A" * 24):
        for method in ("GET", "PUT", "DELETE"):
            status, data, _ = await call(
                http, method, f"{base}/workflows/{workflow_id}", token, json={}
            )
            assert (status, data["code"]) == (404, "5004"), (method, workflow_id)
            assert data["msg"].startswith("[5004 - ENTITY_NOT_FOUND]")
    status, data, _ = await call(http, "GET", f"{base}/nothing/here", token)
    assert status == 404
    assert set(data) == {"timestamp", "status", "error", "message", "path"}


async def test_wrong_types_answer_4002_naming_the_field(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    doc = await upload(http, consigno_emulator, token)
    good = body([doc])
    url = f"{consigno_emulator.base_url}/workflows"
    cases = [
        (edit(good, name=5), "name"),
        (edit(good, status="1"), "status"),
        (edit(good, pdfaPolicy=7), "pdfaPolicy"),
        (edit(good, documents="x"), "documents"),
        (edit(good, expiresOn="next week"), "expiresOn"),
        (edit(good, expiresOn="2001-01-01"), "expiresOn"),
        (edit(good, actions=[signer("1", amr=["link", "fax"])]), "actions[0].signer.amr[1]"),
        (edit(good, actions=[signer("1", type="wizard")]), "actions[0].signer.type"),
        (edit(good, actions=[{"ref": "1"}]), "actions[0].signer"),
        (edit(good, actions=[{**signer("1"), "step": 0}]), "actions[0].step"),
        (edit(good, webhooks=[{"insecure": True}]), "webhooks[0].url"),
    ]
    bad_zone = edit(good)
    bad_zone["documents"][0]["fields"][0]["x"] = "72"
    cases.append((bad_zone, "documents[0].fields[0].x"))
    for payload, field_name in cases:
        status, data, _ = await call(http, "POST", url, token, json=payload)
        assert (status, data["code"]) == (400, "4002"), field_name
        assert data["parameters"]["field"] == field_name
    status, data, _ = await call(http, "POST", url, token, data=b"{oops")
    assert (status, data["code"], data["parameters"]["field"]) == (400, "4002", "body")
    assert (await consigno_emulator.stats())["workflows_created"] == 0


async def test_list_paging_filters_and_sorting(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    ids = []
    for index in range(5):
        payload = body([await upload(http, consigno_emulator, token)], status=index % 2)
        payload["name"] = f"Project {index}"
        ids.append((await create(http, consigno_emulator, token, payload))["id"])
        await consigno_emulator.advance_clock(1)
    url = f"{consigno_emulator.base_url}/workflows"
    _, data, _ = await call(http, "GET", url, token)
    listing = data["response"]
    assert (listing["count"], listing["total"], listing["offset"]) == (5, 5, 0)
    assert [w["id"] for w in listing["workflows"]] == ids[::-1]  # createdOn desc
    _, data, _ = await call(
        http, "GET", url, token, params={"offset": 1, "nbItems": 2, "sortDir": "asc"}
    )
    assert [w["id"] for w in data["response"]["workflows"]] == ids[1:3]
    assert data["response"]["total"] == 5
    _, data, _ = await call(http, "GET", url, token, params={"filterStatus": 1})
    assert {w["id"] for w in data["response"]["workflows"]} == {ids[1], ids[3]}
    _, data, _ = await call(
        http, "GET", url, token, params={"filterName": "project 4", "sortField": "name"}
    )
    assert [w["id"] for w in data["response"]["workflows"]] == [ids[4]]
    for params, name in (
        ({"nbItems": "x"}, "nbItems"),
        ({"offset": -1}, "offset"),
        ({"sortField": "size"}, "sortField"),
        ({"sortDir": "up"}, "sortDir"),
    ):
        status, data, _ = await call(http, "GET", url, token, params=params)
        assert (status, data["parameters"]["field"]) == (400, name)
    _, data, _ = await call(http, "GET", url, token, params={"nbItems": 1000})
    assert data["response"]["count"] == 5


async def test_put_launches_a_draft_and_delete_hides_it(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    base = consigno_emulator.base_url
    draft_body = body([await upload(http, consigno_emulator, token)], status=0)
    draft_body["actions"] = []
    draft_body["documents"][0]["fields"] = []
    draft = await create(http, consigno_emulator, token, draft_body)
    assert draft["status"] == 0
    url = f"{base}/workflows/{draft['id']}"
    status, data, _ = await call(http, "PUT", url, token, json={"status": 1})
    assert (status, data["parameters"]["rule"]) == (400, "no_signer")
    full = body([draft["documents"][0]["documentId"]], status=0)
    status, data, _ = await call(
        http,
        "PUT",
        url,
        token,
        json={"actions": full["actions"], "documents": full["documents"], "name": "Renamed"},
    )
    assert status == 200
    assert (data["response"]["status"], data["response"]["name"]) == (0, "Renamed")
    status, data, _ = await call(http, "PATCH", url, token, json={"messageToSigners": "Hi"})
    assert (status, data["response"]["messageToSigners"]) == (200, "Hi")
    status, data, _ = await call(http, "PUT", url, token, json={"status": 1})
    assert (status, data["response"]["status"]) == (200, 1)
    assert data["response"]["actions"][0]["status"] == "STARTED"
    status, data, _ = await call(http, "PUT", url, token, json={"actions": []})
    assert (status, data["code"]) == (409, "4092")
    status, data, _ = await call(http, "DELETE", url, token)
    assert (status, data["response"]["status"]) == (200, 6)
    status, data, _ = await call(http, "GET", url, token)
    assert (status, data["response"]["status"]) == (200, 6)
    _, data, _ = await call(http, "GET", f"{base}/workflows", token)
    assert data["response"]["total"] == 0
    _, data, _ = await call(http, "GET", f"{base}/workflows/deleted", token)
    assert [w["id"] for w in data["response"]["workflows"]] == [draft["id"]]
    assert (await call(http, "DELETE", url, token))[0] == 200  # idempotent


async def test_expires_on_moves_with_the_clock(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    workflow = await create(
        http, consigno_emulator, token, body([await upload(http, consigno_emulator, token)])
    )
    await consigno_emulator.advance_clock(29 * 86400)
    token = await login(http, consigno_emulator)
    url = f"{consigno_emulator.base_url}/workflows/{workflow['id']}"
    assert (await call(http, "GET", url, token))[1]["response"]["status"] == 1
    await consigno_emulator.advance_clock(2 * 86400)
    assert (await consigno_emulator.stats())["workflows_by_status"] == {"3": 1}
    token = await login(http, consigno_emulator)
    _, data, _ = await call(http, "GET", url, token)
    assert data["response"]["status"] == 3
    stats = await consigno_emulator.stats()
    assert stats["workflows_by_status"] == {"3": 1}
