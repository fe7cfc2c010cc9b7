"""Helpers shared by the batch, completion, archive, CLI and example tests (not a test file)."""

from __future__ import annotations

from pathlib import Path

from consigno_async import Amr
from consigno_async.builder import WorkflowBuilder
from consigno_async.pdfgen import Page, TextLine, make_pdf

PDF = make_pdf(
    [
        Page(
            lines=[
                TextLine("Service agreement", 72, 72, 16),
                TextLine("Client: {{sig-a}}", 72, 600),
                TextLine("Provider: {{sig-b}}", 330, 600),
            ]
        )
    ]
)


def builder(name: str, *, pdf: bytes | Path = PDF, parallel: bool = False) -> WorkflowBuilder:
    """A valid two-signer builder (anchor + field) named ``name``."""
    b = (
        WorkflowBuilder(name)
        .document(pdf, key="contract", file_name="contract.pdf")
        .signer(
            "a",
            first_name="Alice",
            last_name="Martin",
            email="alice@example.com",
            phone="+15145550100",
            amr=[Amr.LINK, Amr.SMS],
        )
        .anchor("a", document="contract", tag="{{sig-a}}")
        .signer(
            "b",
            first_name="Bob",
            last_name="Roy",
            email="bob@example.com",
            phone="+15145550101",
            amr=[Amr.LINK, Amr.SMS],
        )
        .field("b", document="contract", page=1, x=330, y=640)
    )
    if parallel:
        b.parallel()
    return b


def invalid_builder(name: str) -> WorkflowBuilder:
    """A builder that build() refuses (no signer)."""
    return WorkflowBuilder(name).document(PDF, key="contract", file_name="contract.pdf")


def write_workflow_toml(directory: Path, name: str = "Contract from a file") -> Path:
    """A TOML workflow file with its PDF beside it; returns the TOML path."""
    (directory / "contract.pdf").write_bytes(PDF)
    path = directory / "contract.toml"
    path.write_text(
        f'''
name = "{name}"
message_to_signers = "Please sign."

[[documents]]
path = "contract.pdf"
pdfa = "preferred"

[[signers]]
key = "a"
first_name = "Alice"
last_name = "Martin"
email = "alice@example.com"
phone = "+15145550100"
amr = ["link", "sms"]
anchors = [{{ tag = "{{{{sig-a}}}}", y_offset = -10 }}]

[[signers]]
key = "b"
first_name = "Bob"
last_name = "Roy"
email = "bob@example.com"
phone = "+15145550101"
amr = ["link", "sms"]
step = 2
fields = [{{ page = 1, x = 330, y = 640 }}]

[[notify]]
first_name = "Carol"
last_name = "Lee"
email = "carol@example.com"
phone = "+15145550102"
amr = ["link", "sms"]
''',
        encoding="utf-8",
    )
    return path
