"""PDFs the builder tests share, made with consigno_async.pdfgen (no binary fixtures)."""

from __future__ import annotations

from consigno_async.pdfgen import Page, TextLine, make_pdf

#: One letter page (612 x 792) whose text holds the anchor tag ``{{sig-bob}}``.
ANCHOR_PDF = make_pdf([Page(612, 792, ["Employment contract", "Signature of Bob: {{sig-bob}}"])])

#: Two pages of different sizes: letter portrait (612 x 792) then A4 landscape (842 x 595),
#: with the tag ``[[p2]]`` on page 2 only.
TWO_SIZES_PDF = make_pdf(
    [
        Page(612, 792, ["Page one"]),
        Page(842, 595, [TextLine("Page two [[p2]]", x=400, y=300)]),
    ]
)

#: Bytes that are not a PDF at all.
NOT_PDF = b"PK\x03\x04 this is a zip file, not a PDF"
