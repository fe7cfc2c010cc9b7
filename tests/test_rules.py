"""The pure rule functions, checked directly on drafts (no builder, no PDF reading)."""

from __future__ import annotations

import copy
import inspect

import pytest

from consigno_async.draft import (
    ContactDraft,
    DocumentDraft,
    Draft,
    SignerDraft,
    WebhookDraft,
    ZoneDraft,
    effective_steps,
)
from consigno_async.enums import Amr, Mode
from consigno_async.pdfinfo import PageInfo, PdfInfo
from consigno_async.rules import (
    ANCHOR_RULES,
    FIELD_RULES,
    PERSON_RULES,
    PLACEHOLDER_RULES,
    SIGNER_RULES,
    WORKFLOW_RULES,
    Context,
    check,
    rule_anchor_not_found,
    rule_field_out_of_page,
    rule_invalid_email,
    rule_phone,
    rule_secret_incomplete,
)

LETTER = PdfInfo((PageInfo(612, 792, "Sign here: {{sig-\nalice}}"),))


def person(key: str = "alice", **kwargs: object) -> SignerDraft:
    """A valid remote signer draft."""
    values: dict[str, object] = {
        "first_name": "Alice",
        "last_name": "Martin",
        "email": f"{key}@example.com",
        "phone": "+15145550100",
        "amr": (Amr.LINK, Amr.SMS),
    }
    values.update(kwargs)
    return SignerDraft(key=key, **values)  # type: ignore[arg-type]


def draft(*signers: SignerDraft, zones: list[ZoneDraft] | None = None) -> Draft:
    """A draft with one inspected letter document 'c.pdf' and a field per signer."""
    return Draft(
        name="W",
        signers=list(signers),
        documents=[DocumentDraft(key="c.pdf", file_name="c.pdf", source=b"", info=LETTER)],
        zones=zones
        if zones is not None
        else [
            ZoneDraft(kind="field", number=i, signer=s.key, document="c.pdf", page=1, x=1, y=1)
            for i, s in enumerate(signers, 1)
        ],
    )


def _codes(found: object) -> list[str]:
    return [v.code for v in found]  # type: ignore[attr-defined]


def test_every_rule_is_documented_and_registered_once() -> None:
    """Each rule list holds distinct functions with docstrings; workflow rules are generators."""
    for rules in (
        WORKFLOW_RULES,
        PERSON_RULES,
        SIGNER_RULES,
        PLACEHOLDER_RULES,
        FIELD_RULES,
        ANCHOR_RULES,
    ):
        assert len(set(rules)) == len(rules)
        for rule in rules:
            assert rule.__doc__, rule.__name__
    assert all(inspect.isgeneratorfunction(rule) for rule in WORKFLOW_RULES)


def test_valid_draft_has_no_violation_and_is_not_changed() -> None:
    """check() of a valid draft is empty and leaves the draft as it was."""
    subject = draft(person("alice"), person("bob", amr=(Amr.LINK, Amr.CALL)))
    before = copy.deepcopy(subject)
    assert check(subject) == []
    assert subject == before


@pytest.mark.parametrize(
    ("steps", "parallel", "expected"),
    [
        ([None, None, None], False, [1, 2, 3]),
        ([None, 1, None], False, [1, 1, 2]),
        ([2, 2, None], False, [2, 2, 3]),
        ([None, 5, 2], False, [1, 5, 2]),
        ([None, 0, None], False, [1, 2, 3]),  # an invalid step falls back (and is reported)
        ([3, None, 1], True, [1, 1, 1]),
    ],
)
def test_effective_steps(steps: list[int | None], parallel: bool, expected: list[int]) -> None:
    """Signer order gives 1, 2, 3...; step= groups; parallel() puts everyone in step 1."""
    subject = draft(*(person(f"s{i}", step=step) for i, step in enumerate(steps)))
    subject.parallel = parallel
    assert effective_steps(subject) == expected


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("+15145550100", None),
        ("+33612345678", None),
        ("+442071838750", None),
        ("5145550100", "invalid_phone"),
        ("+1 514 555 0100", "invalid_phone"),
        ("+1-514-555-0100", "invalid_phone"),
        ("+0123456789", "invalid_phone"),
        ("+1234", "invalid_phone"),
        (None, "phone_required"),
        ("  ", "phone_required"),
    ],
)
def test_phone_forms(phone: str | None, code: str | None) -> None:
    """Only E.164 (+, country code, digits) is accepted; sms without a phone is refused."""
    subject = draft(person(phone=phone))
    found = rule_phone(subject.signers[0], Context.of(subject))
    assert _codes(found) == ([code] if code else [])


def test_phone_not_required_without_sms_or_call() -> None:
    """A secret-only signer needs no phone."""
    signer = person(phone=None, amr=(Amr.LINK, Amr.SECRET), secret_question="Q", secret_answer="A")
    assert list(rule_phone(signer, Context.of(draft(signer)))) == []


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("alice@example.com", True),
        ("a.b+tag@mail.example.co.uk", True),
        ("alice@example", False),
        ("alice.example.com", False),
        ("alice @example.com", False),
        ("", False),
        ("@example.com", False),
    ],
)
def test_email_forms(email: str, ok: bool) -> None:
    """An address needs a local part, @ and a dotted domain, without spaces."""
    subject = draft(person(email=email))
    found = rule_invalid_email(subject.signers[0], Context.of(subject))
    assert (len(found) == 0) is ok


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://app.example.com/hook", True),
        ("http://127.0.0.1:8080/x?y=1", True),
        ("ftp://example.com/x", False),
        ("example.com/hook", False),
        ("https://", False),
        ("https://exa mple.com/", False),
        ("http://[::1", False),
    ],
)
def test_url_forms(url: str, ok: bool) -> None:
    """Webhook URLs are absolute http(s) URLs with a host."""
    subject = draft(person())
    subject.webhooks.append(WebhookDraft(number=1, url=url))
    found = check(subject)
    assert (found == []) is ok
    if not ok:
        assert found[0].path == "webhook #1"


def test_contacts_follow_the_amr_rules() -> None:
    """Notified contacts need link, a second factor and a valid phone too."""
    subject = draft(person())
    subject.contacts.append(
        ContactDraft(first_name="C", last_name="L", email="c@example.com", amr=(Amr.SMS,))
    )
    assert {v.code for v in check(subject)} == {"missing_link_amr", "phone_required"}
    assert all(v.path.startswith("notification 'c@example.com'") for v in check(subject))


def test_placeholder_is_exempt_from_person_rules() -> None:
    """A placeholder has no name, e-mail, AMR or zone yet, and that is fine."""
    holder = SignerDraft(key="later", placeholder=True, role="Employee", amr=())
    assert check(draft(person(), holder, zones=[draft(person()).zones[0]])) == []
    nameless = SignerDraft(key="later", placeholder=True, role=" ")
    found = check(draft(person(), nameless, zones=[draft(person()).zones[0]]))
    assert [(v.code, v.path) for v in found] == [("invalid_value", "placeholder 'later'.role")]


def test_secret_messages_never_show_the_answer() -> None:
    """Even when reporting secrets, the answer is not in any message."""
    signer = person(amr=(Amr.LINK, Amr.SECRET), mode=Mode.EMBEDDED, secret_answer="Swordfish-42")
    subject = draft(signer)
    found = check(subject)
    assert {v.code for v in found} >= {"secret_incomplete", "secret_amr_embedded"}
    assert all("Swordfish-42" not in str(v) for v in found)
    assert "Swordfish-42" not in repr(subject)
    found = rule_secret_incomplete(signer, Context.of(subject))
    assert [v.path for v in found] == ["signer 'alice'.secret_question"]


def test_field_on_the_page_edge_fits() -> None:
    """A zone touching the right and bottom edges is inside; one unit more is not."""
    edge = ZoneDraft(kind="field", number=1, signer="alice", document="c.pdf", page=1,
                     x=612 - 165, y=792 - 37)  # fmt: skip
    subject = draft(person(), zones=[edge])
    assert list(rule_field_out_of_page(edge, Context.of(subject))) == []
    edge.x += 1
    (violation,) = rule_field_out_of_page(edge, Context.of(subject))
    assert "x + width <= 612" in violation.message


def test_anchor_found_across_a_line_break() -> None:
    """A tag the text extractor split with whitespace still counts as found."""
    tag = ZoneDraft(kind="anchor", number=1, signer="alice", document="c.pdf", page=None,
                    tag="{{sig-alice}}")  # fmt: skip
    ctx = Context.of(draft(person(), zones=[tag]))
    assert list(rule_anchor_not_found(tag, ctx)) == []
    tag.tag = "{{sig-bob}}"
    assert _codes(rule_anchor_not_found(tag, ctx)) == ["anchor_not_found"]
    tag.skip_if_not_found = True
    assert list(rule_anchor_not_found(tag, ctx)) == []


def test_uninspected_document_skips_pdf_rules() -> None:
    """Without PdfInfo (async stream, large file), page and anchor checks do not run."""
    far = ZoneDraft(kind="field", number=1, signer="alice", document="c.pdf", page=40, x=1, y=1)
    subject = draft(person(), zones=[far])
    assert [v.code for v in check(subject)] == ["page_out_of_range"]
    subject.documents[0].info = None
    assert check(subject) == []


def test_duplicates_are_reported_once_per_extra_copy() -> None:
    """Three signers with one key: two duplicate_key violations (set-based, one pass)."""
    subject = draft(person("a"), person("a"), person("a"))
    assert [v.code for v in check(subject)] == ["duplicate_key", "duplicate_key"]
