"""
The rules a workflow must follow before it is sent: one small pure function per rule.

:class:`~consigno_async.WorkflowBuilder` records what it is told in a
:class:`~consigno_async.draft.Draft` (raw values, never checked on the spot), inspects each
document once, then runs :func:`check`, which returns every :class:`Violation` found.

Rules come in kinds, by what they look at: the workflow as a whole (:data:`WORKFLOW_RULES`),
each signer (:data:`SIGNER_RULES`, :data:`PLACEHOLDER_RULES`), each person (signer or contact
to notify, :data:`PERSON_RULES`) and each zone (:data:`FIELD_RULES`, :data:`ANCHOR_RULES`).
:func:`check` visits each signer, contact and zone **once** and runs all of its rules there;
what a rule needs to know about the others (declared keys, steps, PDF facts) is computed once
in a :class:`Context`. So the whole pass is linear in the number of signers and zones, and
touches each of them once. A per-entity rule returns a (usually empty)
tuple of violations. Paths use the builder's terms (``signer 'bob'.amr``,
``anchor '{{sig-bob}}' in document 'contract.pdf'``) and messages say how to fix the problem.
No rule does I/O: the PDF facts (:class:`~consigno_async.pdfinfo.PdfInfo`) are found before.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from .draft import (
    ContactDraft,
    Draft,
    SignerDraft,
    ZoneDraft,
    effective_steps,
    valid_step,
)
from .enums import Amr, Language, Mode, PdfaPolicy, SignerType
from .errors import Violation
from .pdfinfo import PdfInfo

__all__ = [
    "ANCHOR_RULES",
    "FIELD_RULES",
    "PERSON_RULES",
    "PLACEHOLDER_RULES",
    "SIGNER_RULES",
    "WORKFLOW_RULES",
    "Context",
    "check",
]

_SECOND_FACTORS = frozenset({Amr.SMS, Amr.CALL, Amr.SECRET})
_PHONE_AMRS = (Amr.SMS, Amr.CALL)
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_WHITESPACE = re.compile(r"\s+")
# The wire values of each enum; a member compares (and hashes) equal to its value.
_ENUM_VALUES: dict[Any, frozenset[Any]] = {
    enum_type: frozenset(member.value for member in enum_type)
    for enum_type in (Amr, Language, Mode, PdfaPolicy, SignerType)
}
# Tolerance when comparing zone edges with page edges (page boxes may be fractional).
_EPSILON = 1e-6
_URL_HINT = "use an absolute http:// or https:// URL, e.g. https://app.example.com/path"

Found = Sequence[Violation]
_NONE: Found = ()

Person = SignerDraft | ContactDraft


@attrs.define
class Context:
    """What the per-entity rules need to know about the rest of the workflow, computed once."""

    draft: Draft
    signer_keys: frozenset[str]
    document_keys: frozenset[str]
    only_document: str | None
    zoned_signers: frozenset[str]
    infos: dict[str, PdfInfo]
    seen_signers: set[str] = attrs.Factory(set)
    seen_tags: set[tuple[str | None, str]] = attrs.Factory(set)
    squeezed: dict[tuple[str, int], str] = attrs.Factory(dict)

    @classmethod
    def of(cls, draft: Draft) -> Context:
        """Gather the sets and maps the rules look things up in (one pass over each list)."""
        return cls(
            draft=draft,
            signer_keys=frozenset(s.key for s in draft.signers),
            document_keys=frozenset(d.key for d in draft.documents),
            only_document=draft.documents[0].key if len(draft.documents) == 1 else None,
            zoned_signers=frozenset(z.signer for z in draft.zones),
            infos={d.key: d.info for d in draft.documents if d.info is not None},
        )

    def document_of(self, zone: ZoneDraft) -> str | None:
        """The zone's document key; ``document=`` may be left out when there is only one."""
        return zone.document if zone.document is not None else self.only_document


def _known(value: object, enum_type: Any) -> bool:
    try:
        return value in _ENUM_VALUES[enum_type]
    except TypeError:  # unhashable: certainly not a member
        return False


def _enum_violation(path: str, value: object, enum_type: Any) -> Violation:
    allowed = ", ".join(repr(member.value) for member in enum_type)
    return Violation(
        "invalid_value",
        path,
        f"{value!r} is not one of {allowed}: use {enum_type.__name__}.<name>",
    )


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _finite(first: object, second: object) -> bool:
    # The builder already refused non-numbers (TypeError); this guards drafts made by hand.
    try:
        return math.isfinite(first) and math.isfinite(second)  # type: ignore[arg-type]
    except TypeError:
        return False


def _bad_url(url: str | None) -> bool:
    if url is None:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url)


# --- the workflow as a whole ---------------------------------------------------------------


def rule_no_signer(draft: Draft) -> Iterator[Violation]:
    """Launching needs at least one signer; a draft may have none."""
    if draft.launch and not draft.signers:
        yield Violation(
            "no_signer",
            "workflow",
            "a workflow needs at least one signer to be launched: add .signer(...), "
            "or call build(launch=False) to create a draft",
        )


def rule_no_document(draft: Draft) -> Iterator[Violation]:
    """A workflow needs at least one document."""
    if not draft.documents:
        yield Violation(
            "no_document", "workflow", "a workflow needs at least one document: add .document(...)"
        )


def rule_workflow_values(draft: Draft) -> Iterator[Violation]:
    """The name is not empty and the expiry date, when given, has not passed."""
    if _blank(draft.name):
        yield Violation("invalid_value", "workflow.name", "give the workflow a non-empty name")
    if draft.expires_on is not None and draft.expires_on < draft.today:
        yield Violation(
            "invalid_value",
            "workflow.expires_on",
            f"{draft.expires_on.isoformat()} is in the past: pass a date from today on",
        )


def rule_documents(draft: Draft) -> Iterator[Violation]:
    """Document keys are unique and each PDF/A policy is a known one."""
    seen: set[str] = set()
    for document in draft.documents:
        if document.key in seen:
            yield Violation(
                "duplicate_key",
                document.path,
                f"the key {document.key!r} is already used by another document: "
                "pass key=... to tell them apart",
            )
        seen.add(document.key)
        if not _known(document.pdfa, PdfaPolicy):
            yield _enum_violation(f"{document.path}.pdfa", document.pdfa, PdfaPolicy)


def rule_inline_source(draft: Draft) -> Iterator[Violation]:
    """Inline documents must be readable synchronously (not async streams)."""
    if not draft.inline:
        return
    for document in draft.documents:
        source = document.source
        if not (
            isinstance(source, str | bytes | bytearray | memoryview | os.PathLike)
            or hasattr(source, "read")
        ):
            yield Violation(
                "invalid_value",
                document.path,
                "an async stream cannot be sent inline: pass a path, bytes or a binary file, "
                "or drop inline_documents() to upload it",
            )


def rule_not_pdf(draft: Draft) -> Iterator[Violation]:
    """Every document is a readable, unencrypted PDF."""
    for document in draft.documents:
        if document.error is not None:
            yield Violation(
                "not_pdf",
                document.path,
                f"{document.error}; only PDF documents can be signed: convert it to PDF first",
            )


def rule_embedded_in_parallel_step(draft: Draft) -> Iterator[Violation]:
    """An embedded signer is alone in its step."""
    if not any(s.mode == Mode.EMBEDDED for s in draft.signers):
        return
    steps = effective_steps(draft)
    sizes = Counter(steps)
    for signer, step in zip(draft.signers, steps, strict=True):
        if signer.mode == Mode.EMBEDDED and not signer.placeholder and sizes[step] > 1:
            how = "drop parallel()" if draft.parallel else "give it a step= of its own"
            yield Violation(
                "embedded_in_parallel_step",
                f"{signer.path}.step",
                f"an embedded signer cannot share step {step} with other signers: {how}",
            )


def rule_workflow_urls(draft: Draft) -> Iterator[Violation]:
    """The workflow's return URL and every webhook URL are absolute http(s) URLs."""
    urls = [("workflow.return_url", draft.return_url)]
    urls += [(f"webhook #{w.number}", w.url) for w in draft.webhooks]
    for path, url in urls:
        if _bad_url(url):
            yield Violation("invalid_url", path, f"{url!r} is not a valid URL: {_URL_HINT}")


# --- every person: known signers and contacts to notify ------------------------------------


def rule_names(person: Person, ctx: Context) -> Found:
    """First and last names are not empty."""
    if not (_blank(person.first_name) or _blank(person.last_name)):
        return _NONE
    return tuple(
        Violation("invalid_value", f"{person.path}.{name}", f"{name}= must not be empty")
        for name, value in (("first_name", person.first_name), ("last_name", person.last_name))
        if _blank(value)
    )


def rule_person_enums(person: Person, ctx: Context) -> Found:
    """Language and AMRs (and a signer's type and mode) are values the service knows."""
    if (
        _known(person.lang, Language)
        and all(_known(value, Amr) for value in person.amr)
        and (
            not isinstance(person, SignerDraft)
            or (_known(person.type, SignerType) and _known(person.mode, Mode))
        )
    ):
        return _NONE
    checks: list[tuple[str, object, Any]] = [("lang", person.lang, Language)]
    checks += [("amr", value, Amr) for value in person.amr]
    if isinstance(person, SignerDraft):
        checks += [("type", person.type, SignerType), ("mode", person.mode, Mode)]
    return tuple(
        _enum_violation(f"{person.path}.{name}", value, enum_type)
        for name, value, enum_type in checks
        if not _known(value, enum_type)
    )


def rule_missing_link_amr(person: Person, ctx: Context) -> Found:
    """``link`` is always among the AMRs."""
    if Amr.LINK in person.amr:
        return _NONE
    return (
        Violation(
            "missing_link_amr",
            f"{person.path}.amr",
            "the link AMR is always required: add Amr.LINK to amr=",
        ),
    )


def rule_second_factor_required(person: Person, ctx: Context) -> Found:
    """A second factor (sms, call or secret) unless the builder has ``second_factor=False``."""
    if not ctx.draft.second_factor or not _SECOND_FACTORS.isdisjoint(person.amr):
        return _NONE
    return (
        Violation(
            "second_factor_required",
            f"{person.path}.amr",
            "a second factor is required: add Amr.SMS or Amr.CALL (with phone=) or "
            "Amr.SECRET (with secret_question= and secret_answer=); if your organisation "
            "turned it off, use WorkflowBuilder(..., second_factor=False)",
        ),
    )


def rule_phone(person: Person, ctx: Context) -> Found:
    """sms and call need a phone; any phone given is in E.164 form."""
    phone = person.phone
    if phone is not None and phone.strip():
        if _E164.fullmatch(phone):
            return _NONE
        return (
            Violation(
                "invalid_phone",
                f"{person.path}.phone",
                f"{phone!r} is not in E.164 form: write '+', the country code and the "
                "number without spaces or dashes, e.g. '+15145550100'",
            ),
        )
    needs = [str(amr) for amr in _PHONE_AMRS if amr in person.amr]
    if not needs:
        return _NONE
    return (
        Violation(
            "phone_required",
            f"{person.path}.phone",
            f"the {' and '.join(needs)} AMR needs a phone number: "
            "add phone= in E.164 form, e.g. '+15145550100'",
        ),
    )


def rule_secret_incomplete(person: Person, ctx: Context) -> Found:
    """The secret AMR needs both a question and an answer."""
    if Amr.SECRET not in person.amr:
        return _NONE
    missing = [
        name
        for name, value in (
            ("secret_question", person.secret_question),
            ("secret_answer", person.secret_answer),
        )
        if _blank(value)
    ]
    if not missing:
        return _NONE
    return (
        Violation(
            "secret_incomplete",
            f"{person.path}.{missing[0]}",
            "the secret AMR needs both secret_question= and secret_answer=: "
            f"add {' and '.join(m + '=' for m in missing)}",
        ),
    )


def rule_invalid_email(person: Person, ctx: Context) -> Found:
    """E-mail addresses look like ``name@domain.tld``."""
    if _EMAIL.fullmatch(person.email or ""):
        return _NONE
    return (
        Violation(
            "invalid_email",
            f"{person.path}.email",
            f"{person.email!r} is not an e-mail address: write it as name@example.com",
        ),
    )


# --- every signer (placeholders included where said) ---------------------------------------


def rule_duplicate_signer_key(signer: SignerDraft, ctx: Context) -> Found:
    """Signer keys (placeholders included) are unique."""
    if signer.key not in ctx.seen_signers:
        ctx.seen_signers.add(signer.key)
        return _NONE
    return (
        Violation(
            "duplicate_key",
            signer.path,
            f"the key {signer.key!r} is already used by another signer: "
            "give each signer its own key",
        ),
    )


def rule_step(signer: SignerDraft, ctx: Context) -> Found:
    """A step given with ``step=`` is a whole number from 1 up."""
    if signer.step is None or valid_step(signer.step):
        return _NONE
    return (
        Violation(
            "invalid_value",
            f"{signer.path}.step",
            f"step={signer.step!r} is not valid: steps are whole numbers from 1 up",
        ),
    )


def rule_placeholder(signer: SignerDraft, ctx: Context) -> Found:
    """A placeholder has a role and a known signer type."""
    found = []
    if _blank(signer.role):
        found.append(
            Violation(
                "invalid_value",
                f"{signer.path}.role",
                "a placeholder needs a role (e.g. role='Employee') so the owner knows whom to add",
            )
        )
    if not _known(signer.type, SignerType):
        found.append(_enum_violation(f"{signer.path}.type", signer.type, SignerType))
    return found


def rule_secret_amr_embedded(signer: SignerDraft, ctx: Context) -> Found:
    """An embedded signer cannot use the secret AMR."""
    if signer.mode != Mode.EMBEDDED or Amr.SECRET not in signer.amr:
        return _NONE
    return (
        Violation(
            "secret_amr_embedded",
            f"{signer.path}.amr",
            "an embedded signer cannot use the secret AMR: use Amr.SMS or Amr.CALL, "
            "or make the signer remote",
        ),
    )


def rule_return_url_required(signer: SignerDraft, ctx: Context) -> Found:
    """An embedded signer needs a return URL."""
    if signer.mode != Mode.EMBEDDED or signer.return_url:
        return _NONE
    return (
        Violation(
            "return_url_required",
            f"{signer.path}.return_url",
            "an embedded signer needs return_url= (where the service sends the signer, "
            "with ?status=, after signing)",
        ),
    )


def rule_signer_return_url(signer: SignerDraft, ctx: Context) -> Found:
    """A signer's return URL, when given, is an absolute http(s) URL."""
    if not _bad_url(signer.return_url):
        return _NONE
    return (
        Violation(
            "invalid_url",
            f"{signer.path}.return_url",
            f"{signer.return_url!r} is not a valid URL: {_URL_HINT}",
        ),
    )


def rule_subject_dn_required(signer: SignerDraft, ctx: Context) -> Found:
    """A certifio signer needs a subject DN."""
    if signer.type != SignerType.CERTIFIO or signer.subject_dn:
        return _NONE
    return (
        Violation(
            "subject_dn_required",
            f"{signer.path}.subject_dn",
            "a certifio signer needs subject_dn= (the subject DN of the signer's certificate)",
        ),
    )


def rule_signer_without_zone(signer: SignerDraft, ctx: Context) -> Found:
    """When launching, every known signer has at least one field or anchor."""
    if not ctx.draft.launch or signer.key in ctx.zoned_signers:
        return _NONE
    return (
        Violation(
            "signer_without_zone",
            signer.path,
            f"the signer has nowhere to sign: add .field({signer.key!r}, ...) or "
            f".anchor({signer.key!r}, ...), or build(launch=False) to place zones later",
        ),
    )


# --- every zone ----------------------------------------------------------------------------


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
    if zone.kind == "field" and not (_finite(zone.x, zone.y) and zone.x >= 0 and zone.y >= 0):
        found.append(
            Violation(
                "invalid_geometry",
                f"{zone.path}.x",
                f"x={zone.x!r}, y={zone.y!r}: coordinates are finite numbers from 0 up, "
                "in units of 1/72 inch from the top-left corner of the page",
            )
        )
    if zone.kind == "anchor" and not _finite(zone.x, zone.y):
        found.append(
            Violation(
                "invalid_geometry",
                f"{zone.path}.x_offset",
                f"x_offset={zone.x!r}, y_offset={zone.y!r}: offsets are finite numbers",
            )
        )
    if not (_finite(zone.width, zone.height) and zone.width > 0 and zone.height > 0):
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
        return _NONE
    if not zone.tag.strip():
        return (
            Violation(
                "invalid_value", f"{zone.path}.tag", "an anchor needs a non-empty tag= to look for"
            ),
        )
    if not zone.tag.isalnum():
        return _NONE
    return (
        Violation(
            "anchor_tag_is_word",
            f"{zone.path}.tag",
            f"{zone.tag!r} could match an ordinary word of the document: use a tag unlike any "
            "word, in brackets or braces, e.g. '{{" + zone.tag + "}}'",
        ),
    )


def rule_duplicate_anchor_tag(zone: ZoneDraft, ctx: Context) -> Found:
    """Two anchors of one document never use the same tag."""
    if zone.kind != "anchor":
        return _NONE
    identity = (ctx.document_of(zone), zone.tag)
    if identity not in ctx.seen_tags:
        ctx.seen_tags.add(identity)
        return _NONE
    return (
        Violation(
            "duplicate_anchor_tag",
            zone.path,
            "another anchor of this document already uses this tag: give each anchor "
            "its own tag, e.g. '{{sig-<signer>}}'",
        ),
    )


def rule_page_out_of_range(zone: ZoneDraft, ctx: Context) -> Found:
    """A zone's page exists in its document (when the document could be inspected)."""
    info = ctx.infos.get(ctx.document_of(zone) or "")
    if info is None or zone.page is None or zone.page <= len(info.pages):
        return _NONE
    count = len(info.pages)
    return (
        Violation(
            "page_out_of_range",
            f"{zone.path}.page",
            f"page={zone.page} but the document has {count} "
            f"page{'s' if count > 1 else ''}: use a page from 1 to {count}",
        ),
    )


def rule_field_out_of_page(zone: ZoneDraft, ctx: Context) -> Found:
    """A field lies within its page (top-left origin, units of 1/72")."""
    if zone.kind != "field":
        return _NONE
    info = ctx.infos.get(ctx.document_of(zone) or "")
    number = zone.page
    if info is None or number is None or not 1 <= number <= len(info.pages):
        return _NONE
    page = info.pages[number - 1]
    right, bottom = zone.x + zone.width, zone.y + zone.height
    if right <= page.width + _EPSILON and bottom <= page.height + _EPSILON:
        return _NONE
    if not (_finite(zone.x, zone.y) and _finite(zone.width, zone.height)):
        return _NONE  # reported as invalid_geometry
    return (
        Violation(
            "field_out_of_page",
            zone.path,
            f"the zone ({zone.x:g}, {zone.y:g}) to ({right:g}, {bottom:g}) goes past page "
            f"{number}, which is {page.width:g} x {page.height:g} units: keep "
            f"x + width <= {page.width:g} and y + height <= {page.height:g} (origin top-left)",
        ),
    )


def rule_anchor_not_found(zone: ZoneDraft, ctx: Context) -> Found:
    """An anchor's tag appears in its document's text (unless ``skip_if_not_found``)."""
    if zone.kind != "anchor" or zone.skip_if_not_found or not zone.tag.strip():
        return _NONE
    key = ctx.document_of(zone) or ""
    info = ctx.infos.get(key)
    if info is None or (zone.page is not None and not 1 <= zone.page <= len(info.pages)):
        return _NONE
    numbers = [zone.page] if zone.page is not None else range(1, len(info.pages) + 1)
    tag = _WHITESPACE.sub("", zone.tag)
    for number in numbers:
        text = info.pages[number - 1].text
        if zone.tag in text:
            return _NONE
        # Text extraction may split a tag across lines or put spaces inside it.
        squeezed = ctx.squeezed.get((key, number))
        if squeezed is None:
            squeezed = ctx.squeezed[key, number] = _WHITESPACE.sub("", text)
        if tag in squeezed:
            return _NONE
    where = f"on page {zone.page}" if zone.page is not None else "in its text"
    return (
        Violation(
            "anchor_not_found",
            zone.path,
            f"the tag is not found {where}: put the tag in the document, fix the tag, or "
            "pass skip_if_not_found=True",
        ),
    )


WorkflowRule = Callable[[Draft], Iterator[Violation]]
#: Rules on the workflow as a whole, run first.
WORKFLOW_RULES: tuple[WorkflowRule, ...] = (
    rule_no_signer,
    rule_no_document,
    rule_workflow_values,
    rule_documents,
    rule_inline_source,
    rule_not_pdf,
    rule_embedded_in_parallel_step,
    rule_workflow_urls,
)
#: Rules on every person: each known signer, then each contact to notify.
PERSON_RULES: tuple[Callable[[Person, Context], Found], ...] = (
    rule_names,
    rule_person_enums,
    rule_missing_link_amr,
    rule_second_factor_required,
    rule_phone,
    rule_secret_incomplete,
    rule_invalid_email,
)
#: Rules on every known signer, after the person rules.
SIGNER_RULES: tuple[Callable[[SignerDraft, Context], Found], ...] = (
    rule_duplicate_signer_key,
    rule_step,
    rule_secret_amr_embedded,
    rule_return_url_required,
    rule_signer_return_url,
    rule_subject_dn_required,
    rule_signer_without_zone,
)
#: Rules on every placeholder (a signer not known yet).
PLACEHOLDER_RULES: tuple[Callable[[SignerDraft, Context], Found], ...] = (
    rule_duplicate_signer_key,
    rule_step,
    rule_placeholder,
)
ZoneRule = Callable[[ZoneDraft, Context], Found]
#: Rules on every field (zone by coordinates).
FIELD_RULES: tuple[ZoneRule, ...] = (
    rule_unknown_references,
    rule_invalid_geometry,
    rule_page_out_of_range,
    rule_field_out_of_page,
)
#: Rules on every anchor (zone by text tag).
ANCHOR_RULES: tuple[ZoneRule, ...] = (
    rule_unknown_references,
    rule_invalid_geometry,
    rule_anchor_tag,
    rule_duplicate_anchor_tag,
    rule_page_out_of_range,
    rule_anchor_not_found,
)


def check(draft: Draft) -> list[Violation]:
    """
    Run every rule and return every violation found (empty when the draft is valid):
    workflow rules first, then each signer, each contact and each zone in the order added.
    """
    found = [violation for rule in WORKFLOW_RULES for violation in rule(draft)]
    ctx = Context.of(draft)
    extend = found.extend
    for signer in draft.signers:
        if signer.placeholder:
            for placeholder_rule in PLACEHOLDER_RULES:
                extend(placeholder_rule(signer, ctx))
            continue
        for person_rule in PERSON_RULES:
            extend(person_rule(signer, ctx))
        for signer_rule in SIGNER_RULES:
            extend(signer_rule(signer, ctx))
    for contact in draft.contacts:
        for person_rule in PERSON_RULES:
            extend(person_rule(contact, ctx))
    for zone in draft.zones:
        for zone_rule in FIELD_RULES if zone.kind == "field" else ANCHOR_RULES:
            extend(zone_rule(zone, ctx))
    return found
