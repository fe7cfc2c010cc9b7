"""
The rules a workflow must follow before it is sent: one small pure function per rule.

:class:`~consigno_async.WorkflowBuilder` records what it is told in a
:class:`~consigno_async.draft.Draft` (raw
values, never checked on the spot), inspects each document once, then runs :func:`check`,
which calls every rule in :data:`RULES` and returns every :class:`Violation` found. Each rule
is a generator over the draft; every check is set-based, so the whole pass is linear in the
number of signers and zones. Paths use the builder's terms (``signer 'bob'.amr``,
``anchor '{{sig-bob}}' in document 'contract.pdf'``) and messages say how to fix the problem.
No rule does I/O: the PDF facts (:class:`~consigno_async.pdfinfo.PdfInfo`) are found before.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from .draft import ContactDraft, Draft, SignerDraft, ZoneDraft, effective_steps, valid_step
from .enums import Amr, Language, Mode, PdfaPolicy, SignerType
from .errors import Violation
from .pdfinfo import PdfInfo

__all__ = ["RULES", "Rule", "check"]

_SECOND_FACTORS = frozenset({Amr.SMS, Amr.CALL, Amr.SECRET})
_PHONE_AMRS = frozenset({Amr.SMS, Amr.CALL})
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


Rule = Callable[[Draft], Iterator[Violation]]


def _people(draft: Draft) -> Iterator[SignerDraft | ContactDraft]:
    """Signers who are known people (not placeholders), then contacts to notify."""
    yield from (s for s in draft.signers if not s.placeholder)
    yield from draft.contacts


def _embedded(draft: Draft) -> Iterator[SignerDraft]:
    return (s for s in draft.signers if s.mode == Mode.EMBEDDED and not s.placeholder)


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


def rule_duplicate_key(draft: Draft) -> Iterator[Violation]:
    """Signer keys are unique, and so are document keys."""
    seen: set[str] = set()
    for signer in draft.signers:
        if signer.key in seen:
            yield Violation(
                "duplicate_key",
                signer.path,
                f"the key {signer.key!r} is already used by another signer: "
                "give each signer its own key",
            )
        seen.add(signer.key)
    seen = set()
    for document in draft.documents:
        if document.key in seen:
            yield Violation(
                "duplicate_key",
                document.path,
                f"the key {document.key!r} is already used by another document: "
                "pass key=... to tell them apart",
            )
        seen.add(document.key)


def rule_expires_on(draft: Draft) -> Iterator[Violation]:
    """The expiry date, when given, is a date that has not passed."""
    if draft.expires_on is not None and draft.expires_on < draft.today:
        yield Violation(
            "invalid_value",
            "workflow.expires_on",
            f"{draft.expires_on.isoformat()} is in the past: pass a date from today on",
        )


def rule_required_text(draft: Draft) -> Iterator[Violation]:
    """Names, roles and anchor tags are not empty."""
    if not draft.name.strip():
        yield Violation("invalid_value", "workflow.name", "give the workflow a non-empty name")
    for person in _people(draft):
        for attribute in ("first_name", "last_name"):
            if not (getattr(person, attribute) or "").strip():
                yield Violation(
                    "invalid_value", f"{person.path}.{attribute}", f"{attribute}= must not be empty"
                )
    for signer in draft.signers:
        if signer.placeholder and not (signer.role or "").strip():
            yield Violation(
                "invalid_value",
                f"{signer.path}.role",
                "a placeholder needs a role (e.g. role='Employee') so the owner knows whom to add",
            )
    for zone in draft.zones:
        if zone.kind == "anchor" and not zone.tag.strip():
            yield Violation(
                "invalid_value", f"{zone.path}.tag", "an anchor needs a non-empty tag= to look for"
            )


def _known(value: object, enum_type: Any) -> bool:
    try:
        return value in _ENUM_VALUES[enum_type]
    except TypeError:  # unhashable: certainly not a member
        return False


def _enum_problem(value: object, enum_type: Any) -> str | None:
    if _known(value, enum_type):
        return None
    allowed = ", ".join(repr(member.value) for member in enum_type)
    return f"{value!r} is not one of {allowed}: use {enum_type.__name__}.<name>"


def _enum_checks(draft: Draft) -> Iterator[tuple[str, object, Any]]:
    for signer in draft.signers:
        yield f"{signer.path}.type", signer.type, SignerType
        if not signer.placeholder:
            yield f"{signer.path}.mode", signer.mode, Mode
            yield f"{signer.path}.lang", signer.lang, Language
            for value in signer.amr:
                yield f"{signer.path}.amr", value, Amr
    for contact in draft.contacts:
        yield f"{contact.path}.lang", contact.lang, Language
        for value in contact.amr:
            yield f"{contact.path}.amr", value, Amr
    for document in draft.documents:
        yield f"{document.path}.pdfa", document.pdfa, PdfaPolicy


def rule_enum_values(draft: Draft) -> Iterator[Violation]:
    """Every enumerated value is one the service knows (an enum member or its wire value)."""
    for signer in draft.signers:
        # Fast path: almost every signer is fine; build paths only when something is not.
        if _known(signer.type, SignerType) and (
            signer.placeholder
            or (
                _known(signer.mode, Mode)
                and _known(signer.lang, Language)
                and all(_known(value, Amr) for value in signer.amr)
            )
        ):
            continue
        for path, value, enum_type in _enum_checks(Draft(name="", signers=[signer])):
            problem = _enum_problem(value, enum_type)
            if problem:
                yield Violation("invalid_value", path, problem)
    rest = Draft(name="", contacts=draft.contacts, documents=draft.documents)
    for path, value, enum_type in _enum_checks(rest):
        problem = _enum_problem(value, enum_type)
        if problem:
            yield Violation("invalid_value", path, problem)


def rule_step(draft: Draft) -> Iterator[Violation]:
    """A step given with ``step=`` is a whole number from 1 up."""
    for signer in draft.signers:
        if signer.step is not None and not valid_step(signer.step):
            yield Violation(
                "invalid_value",
                f"{signer.path}.step",
                f"step={signer.step!r} is not valid: steps are whole numbers from 1 up",
            )


def rule_inline_source(draft: Draft) -> Iterator[Violation]:
    """Inline documents must be readable synchronously (not async streams)."""
    if not draft.inline:
        return
    for document in draft.documents:
        if not _readable_now(document.source):
            yield Violation(
                "invalid_value",
                document.path,
                "an async stream cannot be sent inline: pass a path, bytes or a binary file, "
                "or drop inline_documents() to upload it",
            )


def _readable_now(source: object) -> bool:
    return isinstance(source, str | bytes | bytearray | memoryview | os.PathLike) or hasattr(
        source, "read"
    )


# --- signers and contacts ------------------------------------------------------------------


def rule_missing_link_amr(draft: Draft) -> Iterator[Violation]:
    """``link`` is always among the AMRs."""
    for person in _people(draft):
        if Amr.LINK not in person.amr:
            yield Violation(
                "missing_link_amr",
                f"{person.path}.amr",
                "the link AMR is always required: add Amr.LINK to amr=",
            )


def rule_second_factor_required(draft: Draft) -> Iterator[Violation]:
    """A second factor (sms, call or secret) unless the builder has ``second_factor=False``."""
    if not draft.second_factor:
        return
    for person in _people(draft):
        if not _SECOND_FACTORS.intersection(person.amr):
            yield Violation(
                "second_factor_required",
                f"{person.path}.amr",
                "a second factor is required: add Amr.SMS or Amr.CALL (with phone=) or "
                "Amr.SECRET (with secret_question= and secret_answer=); if your organisation "
                "turned it off, use WorkflowBuilder(..., second_factor=False)",
            )


def rule_phone(draft: Draft) -> Iterator[Violation]:
    """sms and call need a phone; any phone given is in E.164 form."""
    for person in _people(draft):
        path = f"{person.path}.phone"
        if person.phone is None or not person.phone.strip():
            needs = sorted(str(a) for a in _PHONE_AMRS.intersection(person.amr))
            if needs:
                yield Violation(
                    "phone_required",
                    path,
                    f"the {' and '.join(needs)} AMR needs a phone number: "
                    "add phone= in E.164 form, e.g. '+15145550100'",
                )
        elif not _E164.fullmatch(person.phone):
            yield Violation(
                "invalid_phone",
                path,
                f"{person.phone!r} is not in E.164 form: write '+', the country code and the "
                "number without spaces or dashes, e.g. '+15145550100'",
            )


def rule_secret_incomplete(draft: Draft) -> Iterator[Violation]:
    """The secret AMR needs both a question and an answer."""
    for person in _people(draft):
        if Amr.SECRET not in person.amr:
            continue
        missing = [
            name
            for name, value in (
                ("secret_question", person.secret_question),
                ("secret_answer", person.secret_answer),
            )
            if not (value or "").strip()
        ]
        if missing:
            yield Violation(
                "secret_incomplete",
                f"{person.path}.{missing[0]}",
                f"the secret AMR needs both secret_question= and secret_answer=: "
                f"add {' and '.join(m + '=' for m in missing)}",
            )


def rule_secret_amr_embedded(draft: Draft) -> Iterator[Violation]:
    """An embedded signer cannot use the secret AMR."""
    for signer in _embedded(draft):
        if Amr.SECRET in signer.amr:
            yield Violation(
                "secret_amr_embedded",
                f"{signer.path}.amr",
                "an embedded signer cannot use the secret AMR: use Amr.SMS or Amr.CALL, "
                "or make the signer remote",
            )


def rule_return_url_required(draft: Draft) -> Iterator[Violation]:
    """An embedded signer needs a return URL."""
    for signer in _embedded(draft):
        if not signer.return_url:
            yield Violation(
                "return_url_required",
                f"{signer.path}.return_url",
                "an embedded signer needs return_url= (where the service sends the signer, "
                "with ?status=, after signing)",
            )


def rule_embedded_in_parallel_step(draft: Draft) -> Iterator[Violation]:
    """An embedded signer is alone in its step."""
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


def rule_subject_dn_required(draft: Draft) -> Iterator[Violation]:
    """A certifio signer needs a subject DN."""
    for signer in draft.signers:
        if signer.type == SignerType.CERTIFIO and not signer.placeholder and not signer.subject_dn:
            yield Violation(
                "subject_dn_required",
                f"{signer.path}.subject_dn",
                "a certifio signer needs subject_dn= (the subject DN of the signer's certificate)",
            )


def rule_invalid_email(draft: Draft) -> Iterator[Violation]:
    """E-mail addresses look like ``name@domain.tld``."""
    for person in _people(draft):
        if not _EMAIL.fullmatch(person.email or ""):
            yield Violation(
                "invalid_email",
                f"{person.path}.email",
                f"{person.email!r} is not an e-mail address: write it as name@example.com",
            )


def _url_problem(url: str | None) -> bool:
    if url is None:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    return (
        parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url)
    )


def rule_invalid_url(draft: Draft) -> Iterator[Violation]:
    """Webhook and return URLs are absolute http(s) URLs."""
    hint = "use an absolute http:// or https:// URL, e.g. https://app.example.com/path"
    urls = [("workflow.return_url", draft.return_url)]
    urls += [(f"{s.path}.return_url", s.return_url) for s in draft.signers]
    urls += [(f"webhook #{w.number}", w.url) for w in draft.webhooks]
    for path, url in urls:
        if _url_problem(url):
            yield Violation("invalid_url", path, f"{url!r} is not a valid URL: {hint}")


# --- zones ---------------------------------------------------------------------------------


def _resolved_document(draft: Draft, zone: ZoneDraft) -> str | None:
    if zone.document is None and len(draft.documents) == 1:
        return draft.documents[0].key
    return zone.document


def rule_unknown_references(draft: Draft) -> Iterator[Violation]:
    """Every zone names a declared signer and a declared document."""
    signers = {s.key for s in draft.signers}
    documents = {d.key for d in draft.documents}
    for zone in draft.zones:
        if zone.signer not in signers:
            yield Violation(
                "unknown_signer",
                zone.path,
                f"no signer has the key {zone.signer!r}: declare it with .signer({zone.signer!r}, "
                "...) or .placeholder(...), or fix the key",
            )
        document = _resolved_document(draft, zone)
        if document is None:
            yield Violation(
                "unknown_document",
                zone.path,
                "the workflow has several documents: say which one with document=",
            )
        elif document not in documents:
            known = ", ".join(repr(k) for k in sorted(documents)) or "none"
            yield Violation(
                "unknown_document",
                zone.path,
                f"no document has the key {document!r} (declared: {known}): "
                "add it with .document(...) or fix the key",
            )


def rule_signer_without_zone(draft: Draft) -> Iterator[Violation]:
    """When launching, every known signer has at least one field or anchor."""
    if not draft.launch:
        return
    with_zone = {zone.signer for zone in draft.zones}
    for signer in draft.signers:
        if not signer.placeholder and signer.key not in with_zone:
            yield Violation(
                "signer_without_zone",
                signer.path,
                f"the signer has nowhere to sign: add .field({signer.key!r}, ...) or "
                f".anchor({signer.key!r}, ...), or build(launch=False) to place zones later",
            )


def _finite(first: object, second: object) -> bool:
    # The builder already refused non-numbers (TypeError); this guards drafts made by hand.
    try:
        return math.isfinite(first) and math.isfinite(second)  # type: ignore[arg-type]
    except TypeError:
        return False


def rule_invalid_geometry(draft: Draft) -> Iterator[Violation]:
    """Zones have finite coordinates, a positive size and a page from 1 up."""
    for zone in draft.zones:
        if zone.kind == "field" and not (_finite(zone.x, zone.y) and zone.x >= 0 and zone.y >= 0):
            yield Violation(
                "invalid_geometry",
                f"{zone.path}.x",
                f"x={zone.x!r}, y={zone.y!r}: coordinates are finite numbers from 0 up, "
                "in units of 1/72 inch from the top-left corner of the page",
            )
        if zone.kind == "anchor" and not _finite(zone.x, zone.y):
            yield Violation(
                "invalid_geometry",
                f"{zone.path}.x_offset",
                f"x_offset={zone.x!r}, y_offset={zone.y!r}: offsets are finite numbers",
            )
        if not (_finite(zone.width, zone.height) and zone.width > 0 and zone.height > 0):
            yield Violation(
                "invalid_geometry",
                f"{zone.path}.width",
                f"width={zone.width!r}, height={zone.height!r}: a zone needs a positive size "
                "(default 165 x 37)",
            )
        if zone.page is not None and zone.page < 1:
            yield Violation(
                "invalid_geometry",
                f"{zone.path}.page",
                f"page={zone.page!r}: pages are counted from 1",
            )


def rule_duplicate_anchor_tag(draft: Draft) -> Iterator[Violation]:
    """Two anchors of one document never use the same tag."""
    seen: set[tuple[str | None, str]] = set()
    for zone in draft.zones:
        if zone.kind != "anchor":
            continue
        identity = (_resolved_document(draft, zone), zone.tag)
        if identity in seen:
            yield Violation(
                "duplicate_anchor_tag",
                zone.path,
                "another anchor of this document already uses this tag: give each anchor "
                "its own tag, e.g. '{{sig-<signer>}}'",
            )
        seen.add(identity)


def rule_anchor_tag_is_word(draft: Draft) -> Iterator[Violation]:
    """A tag made only of letters and digits could match ordinary words of the document."""
    for zone in draft.zones:
        if zone.kind == "anchor" and zone.tag.isalnum():
            yield Violation(
                "anchor_tag_is_word",
                f"{zone.path}.tag",
                f"{zone.tag!r} could match an ordinary word of the document: use a tag unlike "
                "any word, in brackets or braces, e.g. '{{" + zone.tag + "}}'",
            )


# --- what the PDF itself says --------------------------------------------------------------


def rule_not_pdf(draft: Draft) -> Iterator[Violation]:
    """Every document is a readable, unencrypted PDF."""
    for document in draft.documents:
        if document.error is not None:
            yield Violation(
                "not_pdf",
                document.path,
                f"{document.error}; only PDF documents can be signed: convert it to PDF first",
            )


def _zones_with_info(draft: Draft) -> list[tuple[ZoneDraft, PdfInfo]]:
    infos = {d.key: d.info for d in draft.documents if d.info is not None}
    if not infos:
        return []
    only = draft.documents[0].key if len(draft.documents) == 1 else ""
    found = []
    for zone in draft.zones:
        info = infos.get(zone.document if zone.document is not None else only)
        if info is not None:
            found.append((zone, info))
    return found


def rule_page_out_of_range(draft: Draft) -> Iterator[Violation]:
    """A zone's page exists in its document."""
    for zone, info in _zones_with_info(draft):
        count = len(info.pages)
        if zone.page is not None and zone.page > count:
            yield Violation(
                "page_out_of_range",
                f"{zone.path}.page",
                f"page={zone.page} but the document has {count} "
                f"page{'s' if count > 1 else ''}: use a page from 1 to {count}",
            )


def rule_field_out_of_page(draft: Draft) -> Iterator[Violation]:
    """A field lies within its page (top-left origin, units of 1/72")."""
    for zone, info in _zones_with_info(draft):
        number = zone.page
        if zone.kind != "field" or number is None or not 1 <= number <= len(info.pages):
            continue
        page = info.pages[number - 1]
        right, bottom = zone.x + zone.width, zone.y + zone.height
        if right <= page.width + _EPSILON and bottom <= page.height + _EPSILON:
            continue
        if not (_finite(zone.x, zone.y) and _finite(zone.width, zone.height)):
            continue  # reported as invalid_geometry
        yield Violation(
            "field_out_of_page",
            zone.path,
            f"the zone ({zone.x:g}, {zone.y:g}) to ({right:g}, {bottom:g}) goes past page "
            f"{number}, which is {page.width:g} x {page.height:g} units: keep "
            f"x + width <= {page.width:g} and y + height <= {page.height:g} (origin top-left)",
        )


def rule_anchor_not_found(draft: Draft) -> Iterator[Violation]:
    """An anchor's tag appears in its document's text (unless ``skip_if_not_found``)."""
    squeezed: dict[tuple[int, int], str] = {}
    for zone, info in _zones_with_info(draft):
        if zone.kind != "anchor" or zone.skip_if_not_found or not zone.tag.strip():
            continue
        if zone.page is not None and not 1 <= zone.page <= info.page_count:
            continue
        numbers = [zone.page] if zone.page is not None else range(1, info.page_count + 1)
        tag = _WHITESPACE.sub("", zone.tag)
        found = False
        for number in numbers:
            text = info.pages[number - 1].text
            if zone.tag in text:
                found = True
                break
            # Text extraction may split a tag across lines or put spaces inside it.
            cache_key = (id(info), number)
            if cache_key not in squeezed:
                squeezed[cache_key] = _WHITESPACE.sub("", text)
            if tag in squeezed[cache_key]:
                found = True
                break
        if not found:
            where = f"on page {zone.page}" if zone.page is not None else "in its text"
            yield Violation(
                "anchor_not_found",
                zone.path,
                f"the tag is not found {where}: put the tag in the document, fix the tag, or "
                "pass skip_if_not_found=True",
            )


#: Every rule, in the order violations are reported.
RULES: tuple[Rule, ...] = (
    rule_no_signer,
    rule_no_document,
    rule_duplicate_key,
    rule_required_text,
    rule_enum_values,
    rule_step,
    rule_expires_on,
    rule_inline_source,
    rule_missing_link_amr,
    rule_second_factor_required,
    rule_phone,
    rule_secret_incomplete,
    rule_secret_amr_embedded,
    rule_return_url_required,
    rule_embedded_in_parallel_step,
    rule_subject_dn_required,
    rule_invalid_email,
    rule_invalid_url,
    rule_unknown_references,
    rule_signer_without_zone,
    rule_invalid_geometry,
    rule_duplicate_anchor_tag,
    rule_anchor_tag_is_word,
    rule_not_pdf,
    rule_page_out_of_range,
    rule_field_out_of_page,
    rule_anchor_not_found,
)


def check(draft: Draft) -> list[Violation]:
    """Run every rule and return every violation found (empty when the draft is valid)."""
    return [violation for rule in RULES for violation in rule(draft)]
