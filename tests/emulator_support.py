"""Helpers for the emulator tests: plain aiohttp calls, valid bodies, small PDFs."""

from __future__ import annotations

import copy
from typing import Any

import aiohttp

from consigno_async.emulator import Emulator
from consigno_async.pdfgen import Page, make_pdf

PDF = make_pdf([Page(lines=["Contract", "Sign here: {{sig-alice}}"]), Page(300, 400, ["p2"])])


async def login(http: aiohttp.ClientSession, emu: Emulator) -> str:
    """Log in as the demo user; return the token from the X-Auth-Token header."""
    creds = emu.credentials
    async with http.post(
        f"{emu.base_url}/auth/login",
        json={"username": creds.username, "password": creds.password},
    ) as response:
        assert response.status == 200, await response.text()
        return response.headers["X-Auth-Token"]


async def upload(
    http: aiohttp.ClientSession,
    emu: Emulator,
    token: str,
    data: bytes = PDF,
    name: str = "contract.pdf",
) -> str:
    """Upload ``data`` with POST /documents; return the document id."""
    form = aiohttp.FormData()
    form.add_field("uploadData", '{"pdfaPolicy": 1}', content_type="application/json")
    form.add_field("file", data, filename=name, content_type="application/pdf")
    async with http.post(
        f"{emu.base_url}/documents", data=form, headers={"X-Auth-Token": token}
    ) as response:
        body = await response.json()
        assert response.status == 201, body
        return str(body["response"]["metadata"]["documentId"])


def signer(ref: str, *, step: int | None = None, **changes: Any) -> dict[str, Any]:
    """A valid remote action (link + sms) with ref ``ref``; ``changes`` edit the signer."""
    action: dict[str, Any] = {
        "ref": ref,
        "mode": "remote",
        "zoneLabel": "Sign here",
        "signer": {
            "type": "esig",
            "firstName": f"First{ref}",
            "lastName": f"Last{ref}",
            "email": f"signer{ref}@example.com",
            "phone": "+15145550100",
            "amr": ["link", "sms"],
            "lang": "fr",
        },
    }
    if step is not None:
        action["step"] = step
    action["signer"].update(changes)
    return action


def field(ref: str, page: str = "1", x: float = 72, y: float = 600) -> dict[str, Any]:
    """A signature zone for action ``ref``."""
    return {"x": x, "y": y, "page": page, "assignedTo": ref}


def body(doc_ids: list[str], *, status: int = 1, refs: tuple[str, ...] = ("1",)) -> dict[str, Any]:
    """A valid workflow body: one zone per signer on the first document."""
    documents: list[dict[str, Any]] = [{"documentId": d} for d in doc_ids]
    documents[0]["fields"] = [field(ref) for ref in refs]
    return {
        "name": "Employment contract",
        "pdfaPolicy": 1,
        "status": status,
        "documents": documents,
        "actions": [signer(ref) for ref in refs],
        "notifications": [],
    }


def edit(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level ``changes``."""
    out = copy.deepcopy(base)
    out.update(changes)
    return out


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str | None = None,
    **kwargs: Any,
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    """Make a request; return (status, decoded JSON or None, headers)."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["X-Auth-Token"] = token
    async with http.request(method, url, headers=headers, **kwargs) as response:
        raw = await response.read()
        decoded = None
        if raw and response.content_type == "application/json":
            decoded = await response.json()
        return response.status, decoded, response.headers


async def create(
    http: aiohttp.ClientSession, emu: Emulator, token: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """POST /workflows and expect 201; return the workflow."""
    status, data, _ = await call(http, "POST", f"{emu.base_url}/workflows", token, json=payload)
    assert status == 201, data
    workflow: dict[str, Any] = data["response"]
    return workflow
