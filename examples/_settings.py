"""Connection settings shared by the examples: flags, else the CONSIGNO_* environment."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from consigno_async import ConsignoClient
from consigno_async.pdfgen import Page, TextLine, make_pdf


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """--base-url/--username/--password/--tenant, defaulting to CONSIGNO_* variables."""
    env = os.environ.get
    parser.add_argument("--base-url", default=env("CONSIGNO_BASE_URL"))
    parser.add_argument("--username", default=env("CONSIGNO_USERNAME"))
    parser.add_argument("--password", default=env("CONSIGNO_PASSWORD"))
    parser.add_argument("--tenant", default=env("CONSIGNO_TENANT"))


def client_from(args: argparse.Namespace) -> ConsignoClient:
    """A client from parsed arguments (exits with a message if a setting is missing)."""
    missing = [n for n in ("base_url", "username", "password") if not getattr(args, n)]
    if missing:
        raise SystemExit(f"missing settings: {', '.join(missing)} (flags or CONSIGNO_* vars)")
    return ConsignoClient(
        args.base_url, username=args.username, password=args.password, tenant=args.tenant
    )


def contract_pdf(title: str) -> bytes:
    """A one-page contract with a {{sig-client}} anchor tag, made on the fly."""
    return make_pdf(
        [
            Page(
                lines=[
                    TextLine(title, 72, 72, 16),
                    TextLine("The parties agree to the terms below.", 72, 110),
                    TextLine("Client signature:", 72, 580),
                    TextLine("{{sig-client}}", 72, 610, 8),
                ]
            )
        ]
    )


def write_contracts(directory: Path, count: int) -> list[Path]:
    """Write ``count`` sample contracts into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = directory / f"contract-{i + 1:04d}.pdf"
        path.write_bytes(contract_pdf(f"Contract {i + 1}"))
        paths.append(path)
    return paths
