"""
Rules on people: every signer and contact (names, AMRs, phone, secret, e-mail), then
what only signers have (keys, steps, embedded mode, subject DN, zones).
"""

from __future__ import annotations

from typing import Any

from ..draft import SignerDraft, valid_step
from ..enums import Amr, Language, Mode, SignerType
from ..errors import Violation
from ._base import (
    E164,
    EMAIL,
    NONE,
    PHONE_AMRS,
    SECOND_FACTORS,
    URL_HINT,
    Context,
    Found,
    Person,
    bad_url,
    blank,
    enum_violation,
    known,
    one,
)


def rule_names(person: Person, ctx: Context) -> Found:
    """First and last names are not empty."""
    if not (blank(person.first_name) or blank(person.last_name)):
        return NONE
    return tuple(
        Violation("invalid_value", f"{person.path}.{name}", f"{name}= must not be empty")
        for name, value in (("first_name", person.first_name), ("last_name", person.last_name))
        if blank(value)
    )


def rule_person_enums(person: Person, ctx: Context) -> Found:
    """Language and AMRs (and a signer's type and mode) are values the service knows."""
    if (
        known(person.lang, Language)
        and all(known(value, Amr) for value in person.amr)
        and (
            not isinstance(person, SignerDraft)
            or (known(person.type, SignerType) and known(person.mode, Mode))
        )
    ):
        return NONE
    checks: list[tuple[str, object, Any]] = [("lang", person.lang, Language)]
    checks += [("amr", value, Amr) for value in person.amr]
    if isinstance(person, SignerDraft):
        checks += [("type", person.type, SignerType), ("mode", person.mode, Mode)]
    return tuple(
        enum_violation(f"{person.path}.{name}", value, enum_type)
        for name, value, enum_type in checks
        if not known(value, enum_type)
    )


def rule_missing_link_amr(person: Person, ctx: Context) -> Found:
    """``link`` is always among the AMRs."""
    if Amr.LINK in person.amr:
        return NONE
    return one(
        "missing_link_amr",
        f"{person.path}.amr",
        "the link AMR is always required: add Amr.LINK to amr=",
    )


def rule_second_factor_required(person: Person, ctx: Context) -> Found:
    """A second factor (sms, call or secret) unless the builder has ``second_factor=False``."""
    if not ctx.draft.second_factor or not SECOND_FACTORS.isdisjoint(person.amr):
        return NONE
    return one(
        "second_factor_required",
        f"{person.path}.amr",
        "a second factor is required: add Amr.SMS or Amr.CALL (with phone=) or "
        "Amr.SECRET (with secret_question= and secret_answer=); if your organisation "
        "turned it off, use WorkflowBuilder(..., second_factor=False)",
    )


def rule_phone(person: Person, ctx: Context) -> Found:
    """sms and call need a phone; any phone given is in E.164 form."""
    phone = person.phone
    if phone is not None and phone.strip():
        if E164.fullmatch(phone):
            return NONE
        return (
            Violation(
                "invalid_phone",
                f"{person.path}.phone",
                f"{phone!r} is not in E.164 form: write '+', the country code and the "
                "number without spaces or dashes, e.g. '+15145550100'",
            ),
        )
    needs = [str(amr) for amr in PHONE_AMRS if amr in person.amr]
    if not needs:
        return NONE
    return one(
        "phone_required",
        f"{person.path}.phone",
        f"the {' and '.join(needs)} AMR needs a phone number: "
        "add phone= in E.164 form, e.g. '+15145550100'",
    )


def rule_secret_incomplete(person: Person, ctx: Context) -> Found:
    """The secret AMR needs both a question and an answer."""
    if Amr.SECRET not in person.amr:
        return NONE
    missing = [
        name
        for name, value in (
            ("secret_question", person.secret_question),
            ("secret_answer", person.secret_answer),
        )
        if blank(value)
    ]
    if not missing:
        return NONE
    return one(
        "secret_incomplete",
        f"{person.path}.{missing[0]}",
        "the secret AMR needs both secret_question= and secret_answer=: "
        f"add {' and '.join(m + '=' for m in missing)}",
    )


def rule_invalid_email(person: Person, ctx: Context) -> Found:
    """E-mail addresses look like ``name@domain.tld``."""
    if EMAIL.fullmatch(person.email or ""):
        return NONE
    return one(
        "invalid_email",
        f"{person.path}.email",
        f"{person.email!r} is not an e-mail address: write it as name@example.com",
    )


# --- every signer (placeholders included where said) ---------------------------------------


def rule_duplicate_signer_key(signer: SignerDraft, ctx: Context) -> Found:
    """Signer keys (placeholders included) are unique."""
    if signer.key not in ctx.seen_signers:
        ctx.seen_signers.add(signer.key)
        return NONE
    return one(
        "duplicate_key",
        signer.path,
        f"the key {signer.key!r} is already used by another signer: give each signer its own key",
    )


def rule_step(signer: SignerDraft, ctx: Context) -> Found:
    """A step given with ``step=`` is a whole number from 1 up."""
    if signer.step is None or valid_step(signer.step):
        return NONE
    return one(
        "invalid_value",
        f"{signer.path}.step",
        f"step={signer.step!r} is not valid: steps are whole numbers from 1 up",
    )


def rule_placeholder(signer: SignerDraft, ctx: Context) -> Found:
    """A placeholder has a role and a known signer type."""
    found = []
    if blank(signer.role):
        found.append(
            Violation(
                "invalid_value",
                f"{signer.path}.role",
                "a placeholder needs a role (e.g. role='Employee') so the owner knows whom to add",
            )
        )
    if not known(signer.type, SignerType):
        found.append(enum_violation(f"{signer.path}.type", signer.type, SignerType))
    return found


def rule_secret_amr_embedded(signer: SignerDraft, ctx: Context) -> Found:
    """An embedded signer cannot use the secret AMR."""
    if signer.mode != Mode.EMBEDDED or Amr.SECRET not in signer.amr:
        return NONE
    return one(
        "secret_amr_embedded",
        f"{signer.path}.amr",
        "an embedded signer cannot use the secret AMR: use Amr.SMS or Amr.CALL, "
        "or make the signer remote",
    )


def rule_return_url_required(signer: SignerDraft, ctx: Context) -> Found:
    """An embedded signer needs a return URL."""
    if signer.mode != Mode.EMBEDDED or signer.return_url:
        return NONE
    return one(
        "return_url_required",
        f"{signer.path}.return_url",
        "an embedded signer needs return_url= (where the service sends the signer, "
        "with ?status=, after signing)",
    )


def rule_signer_return_url(signer: SignerDraft, ctx: Context) -> Found:
    """A signer's return URL, when given, is an absolute http(s) URL."""
    if not bad_url(signer.return_url):
        return NONE
    return one(
        "invalid_url",
        f"{signer.path}.return_url",
        f"{signer.return_url!r} is not a valid URL: {URL_HINT}",
    )


def rule_subject_dn_required(signer: SignerDraft, ctx: Context) -> Found:
    """A certifio signer needs a subject DN."""
    if signer.type != SignerType.CERTIFIO or signer.subject_dn:
        return NONE
    return one(
        "subject_dn_required",
        f"{signer.path}.subject_dn",
        "a certifio signer needs subject_dn= (the subject DN of the signer's certificate)",
    )


def rule_signer_without_zone(signer: SignerDraft, ctx: Context) -> Found:
    """When launching, every known signer has at least one field or anchor."""
    if not ctx.draft.launch or signer.key in ctx.zoned_signers:
        return NONE
    return one(
        "signer_without_zone",
        signer.path,
        f"the signer has nowhere to sign: add .field({signer.key!r}, ...) or "
        f".anchor({signer.key!r}, ...), or build(launch=False) to place zones later",
    )
