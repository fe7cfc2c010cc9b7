"""WorkflowBuilder and the PDFs themselves: sources, keys, pages, inspection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from builder_support import DOC, valid, with_alice
from pdfs import ANCHOR_PDF, TWO_SIZES_PDF

from consigno_async import (
    DocumentSpec,
    WorkflowBuilder,
    WorkflowValidationError,
)
from consigno_async.pdfgen import write_pdf


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
