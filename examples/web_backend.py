"""
An aiohttp.web backend that keeps one ConsignoClient for the app's lifetime and launches a
signing project per request.

    python examples/web_backend.py --port 8080
    curl -X POST localhost:8080/contracts -d '{"first_name": "Alice", "last_name": "Martin",
         "email": "alice@example.com", "phone": "+15145550100"}'
    curl localhost:8080/contracts/<id>

Settings: --base-url, --username, --password, --tenant, or the CONSIGNO_* variables.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator

from _settings import add_connection_arguments, client_from, contract_pdf
from aiohttp import web

from consigno_async import (
    Amr,
    ConsignoClient,
    ConsignoError,
    WorkflowBuilder,
    WorkflowValidationError,
)

CLIENT = web.AppKey("client", ConsignoClient)


def create_app(args: argparse.Namespace) -> web.Application:
    """The application; the client opens at startup and closes at shutdown."""
    app = web.Application()

    async def client_context(app: web.Application) -> AsyncIterator[None]:
        async with client_from(args) as client:
            app[CLIENT] = client
            yield

    app.cleanup_ctx.append(client_context)
    app.router.add_post("/contracts", launch_contract)
    app.router.add_get("/contracts/{workflow_id}", contract_status)
    return app


async def launch_contract(request: web.Request) -> web.Response:
    """POST /contracts {first_name, last_name, email, phone}: launch one contract."""
    try:
        body = await request.json()
        builder = (
            WorkflowBuilder(f"Contract for {body['first_name']} {body['last_name']}")
            .document(contract_pdf("Service contract"), key="contract", file_name="contract.pdf")
            .signer(
                "client",
                first_name=body["first_name"],
                last_name=body["last_name"],
                email=body["email"],
                phone=body.get("phone"),
                amr=[Amr.LINK, Amr.SMS],
            )
            .anchor("client", document="contract", tag="{{sig-client}}")
        )
        workflow = await request.app[CLIENT].launch(builder)
    except WorkflowValidationError as exc:
        problems = [{"code": v.code, "path": v.path, "message": v.message} for v in exc.violations]
        return web.json_response({"violations": problems}, status=422)
    except (KeyError, TypeError, ValueError):
        return web.json_response({"error": "expected first_name, last_name, email"}, status=400)
    except ConsignoError as exc:
        return web.json_response({"error": type(exc).__name__}, status=502)
    return web.json_response({"id": workflow.id, "status": workflow.status.name}, status=201)


async def contract_status(request: web.Request) -> web.Response:
    """GET /contracts/{id}: the workflow's status."""
    try:
        workflow = await request.app[CLIENT].get_workflow(request.match_info["workflow_id"])
    except ConsignoError as exc:
        return web.json_response({"error": type(exc).__name__}, status=404)
    return web.json_response({"id": workflow.id, "status": workflow.status.name})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    add_connection_arguments(parser)
    args = parser.parse_args(argv)
    web.run_app(create_app(args), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
