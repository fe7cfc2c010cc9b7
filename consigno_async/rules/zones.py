"""
Rules on zones: references, geometry, anchor tags, and what the PDF itself says.
"""

from __future__ import annotations

from ..draft import ZoneDraft
from ..errors import Violation
from ._base import (
    EPSILON,
    NONE,
    WHITESPACE,
    Context,
    Found,
    finite,
    one,
)


def rule_unknown_references(zone: ZoneDraft, ctx: Context) -> Found:
    """A zone names a declared signer and a declared document."""
    found = []
    if zone.signer not in ctx.signer_keys:
        found.append(
            Violation(
                "unknown_signer",
                zone.path,
                f"no signer has the key {zone.signer!r}: declare it with "
                f".signer({zone.signer!r}, ...) or .placeholder(...), or fix the key",
            )
        )
    document = ctx.document_of(zone)
    if document is None and ctx.document_keys:
        found.append(
            Violation(
                "unknown_document",
                zone.path,
                "the workflow has several documents: say which one with document=",
            )
        )
    elif document is not None and document not in ctx.document_keys:
        known = ", ".join(repr(k) for k in sorted(ctx.document_keys)) or "none"
        found.append(
            Violation(
                "unknown_document",
                zone.path,
                f"no document has the key {document!r} (declared: {known}): "
                "add it with .document(...) or fix the key",
            )
        )
    return found


def rule_invalid_geometry(zone: ZoneDraft, ctx: Context) -> Found:
    """A zone has finite coordinates, a positive size and a page from 1 up."""
    found = []
    if zone.kind == "field" and not (finite(zone.x, zone.y) and zone.x >= 0 and zone.y >= 0):
        found.append(
            Violation(
                "invalid_geometry",
                f"{zone.path}.x",
                f"x={zone.x!r}, y={zone.y!r}: coordinates are finite numbers from 0 up, "
                "in units of 1/72 inch from the top-left corner of the page",
            )
        )
    if zone.kind == "anchor" and not finite(zone.x, zone.y):
        found.append(
            Violation(
                "invalid_geometry",
                f"{zone.path}.x_offset",
                f"x_offset={zone.x!r}, y_offset={zone.y!r}: offsets are finite numbers",
            )
        )
    if not (finite(zone.width, zone.height) and zone.width > 0 and zone.height > 0):
        found.append(
            Violation(
                "invalid_geometry",
                f"{zone.path}.width",
                f"width={zone.width!r}, height={zone.height!r}: a zone needs a positive size "
                "(default 165 x 37)",
            )
        )
    if zone.page is not None and zone.page < 1:
        found.append(
            Violation(
                "invalid_geometry", f"{zone.path}.page", f"page={zone.page!r}: pages count from 1"
            )
        )
    return found


def rule_anchor_tag(zone: ZoneDraft, ctx: Context) -> Found:
    """An anchor's tag is not empty, and not a plain word (letters and digits only)."""
    if zone.kind != "anchor":
        return NONE
    if not zone.tag.strip():
        return (
            Violation(
                "invalid_value", f"{zone.path}.tag", "an anchor needs a non-empty tag= to look for"
            ),
        )
    if not zone.tag.isalnum():
        return NONE
    return one(
        "anchor_tag_is_word",
        f"{zone.path}.tag",
        f"{zone.tag!r} could match an ordinary word of the document: use a tag unlike any "
        "word, in brackets or braces, e.g. '{{" + zone.tag + "}}'",
    )


def rule_duplicate_anchor_tag(zone: ZoneDraft, ctx: Context) -> Found:
    """Two anchors of one document never use the same tag."""
    if zone.kind != "anchor":
        return NONE
    identity = (ctx.document_of(zone), zone.tag)
    if identity not in ctx.seen_tags:
        ctx.seen_tags.add(identity)
        return NONE
    return one(
        "duplicate_anchor_tag",
        zone.path,
        "another anchor of this document already uses this tag: give each anchor "
        "its own tag, e.g. '{{sig-<signer>}}'",
    )


def rule_page_out_of_range(zone: ZoneDraft, ctx: Context) -> Found:
    """A zone's page exists in its document (when the document could be inspected)."""
    info = ctx.infos.get(ctx.document_of(zone) or "")
    if info is None or zone.page is None or zone.page <= len(info.pages):
        return NONE
    count = len(info.pages)
    return one(
        "page_out_of_range",
        f"{zone.path}.page",
        f"page={zone.page} but the document has {count} "
        f"page{'s' if count > 1 else ''}: use a page from 1 to {count}",
    )


def rule_field_out_of_page(zone: ZoneDraft, ctx: Context) -> Found:
    """A field lies within its page (top-left origin, units of 1/72")."""
    if zone.kind != "field":
        return NONE
    info = ctx.infos.get(ctx.document_of(zone) or "")
    number = zone.page
    if info is None or number is None or not 1 <= number <= len(info.pages):
        return NONE
    page = info.pages[number - 1]
    right, bottom = zone.x + zone.width, zone.y + zone.height
    if right <= page.width + EPSILON and bottom <= page.height + EPSILON:
        return NONE
    if not (finite(zone.x, zone.y) and finite(zone.width, zone.height)):
        return NONE  # reported as invalid_geometry
    return one(
        "field_out_of_page",
        zone.path,
        f"the zone ({zone.x:g}, {zone.y:g}) to ({right:g}, {bottom:g}) goes past page "
        f"{number}, which is {page.width:g} x {page.height:g} units: keep "
        f"x + width <= {page.width:g} and y + height <= {page.height:g} (origin top-left)",
    )


def rule_anchor_not_found(zone: ZoneDraft, ctx: Context) -> Found:
    """An anchor's tag appears in its document's text (unless ``skip_if_not_found``)."""
    if zone.kind != "anchor" or zone.skip_if_not_found or not zone.tag.strip():
        return NONE
    key = ctx.document_of(zone) or ""
    info = ctx.infos.get(key)
    if info is None or (zone.page is not None and not 1 <= zone.page <= len(info.pages)):
        return NONE
    numbers = [zone.page] if zone.page is not None else range(1, len(info.pages) + 1)
    tag = WHITESPACE.sub("", zone.tag)
    for number in numbers:
        text = info.pages[number - 1].text
        if zone.tag in text:
            return NONE
        # Text extraction may split a tag across lines or put spaces inside it.
        squeezed = ctx.squeezed.get((key, number))
        if squeezed is None:
            squeezed = ctx.squeezed[key, number] = WHITESPACE.sub("", text)
        if tag in squeezed:
            return NONE
    where = f"on page {zone.page}" if zone.page is not None else "in its text"
    return one(
        "anchor_not_found",
        zone.path,
        f"the tag is not found {where}: put the tag in the document, fix the tag, or "
        "pass skip_if_not_found=True",
    )
