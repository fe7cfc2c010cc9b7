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
touches each of them once. A per-entity rule returns a (usually empty) tuple of violations.
The rules live in :mod:`.workflow`, :mod:`.people` and :mod:`.zones`, by subject.

Paths use the builder's terms (``signer 'bob'.amr``,
``anchor '{{sig-bob}}' in document 'contract.pdf'``) and messages say how to fix the problem.
No rule does I/O: the PDF facts (:class:`~consigno_async.pdfinfo.PdfInfo`) are found before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..draft import Draft, SignerDraft, ZoneDraft
from ..errors import Violation
from ._base import Context, Found, Person
from .people import (
    rule_duplicate_signer_key,
    rule_invalid_email,
    rule_missing_link_amr,
    rule_names,
    rule_person_enums,
    rule_phone,
    rule_placeholder,
    rule_return_url_required,
    rule_second_factor_required,
    rule_secret_amr_embedded,
    rule_secret_incomplete,
    rule_signer_return_url,
    rule_signer_without_zone,
    rule_step,
    rule_subject_dn_required,
)
from .workflow import (
    rule_documents,
    rule_embedded_in_parallel_step,
    rule_inline_source,
    rule_no_document,
    rule_no_signer,
    rule_not_pdf,
    rule_workflow_urls,
    rule_workflow_values,
)
from .zones import (
    rule_anchor_not_found,
    rule_anchor_tag,
    rule_duplicate_anchor_tag,
    rule_field_out_of_page,
    rule_invalid_geometry,
    rule_page_out_of_range,
    rule_unknown_references,
)

__all__ = [
    "ANCHOR_RULES",
    "FIELD_RULES",
    "PERSON_RULES",
    "PLACEHOLDER_RULES",
    "SIGNER_RULES",
    "WORKFLOW_RULES",
    "Context",
    "check",
    "rule_anchor_not_found",
    "rule_field_out_of_page",
    "rule_invalid_email",
    "rule_phone",
    "rule_secret_incomplete",
]


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
