"""
Random builder calls: build() either returns a spec whose payload round-trips through the
converter, or raises WorkflowValidationError, and never anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pdfs import ANCHOR_PDF, NOT_PDF, TWO_SIZES_PDF

from consigno_async import (
    Amr,
    Language,
    Mode,
    PdfaPolicy,
    SignerType,
    WorkflowBuilder,
    WorkflowValidationError,
)
from consigno_async.model import Workflow, converter

Op = Callable[[WorkflowBuilder], Any]


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [value]


KEYS = st.sampled_from(["alice", "bob", "carol", "helper"])
DOC_KEYS = st.sampled_from(["a.pdf", "b.pdf", "c.pdf"])
SHORT_TEXT = st.text(max_size=10)
EMAILS = st.one_of(st.sampled_from(["alice@example.com", "bob@example.org"]), SHORT_TEXT)
PHONES = st.one_of(st.none(), st.sampled_from(["+15145550100", "+33612345678", "514"]), SHORT_TEXT)
URLS = st.one_of(st.sampled_from(["https://app.example.com/x", "http://127.0.0.1:1/h"]), SHORT_TEXT)
AMRS = st.lists(st.sampled_from([*Amr, "fax"]), max_size=4)
NUMBERS = st.one_of(st.integers(-20, 900), st.floats(allow_nan=True, allow_infinity=True, width=32))
TAGS = st.one_of(st.sampled_from(["{{sig-bob}}", "[[p2]]", "{{absent}}", "WORD", ""]), SHORT_TEXT)


def _signer(
    key: str,
    email: str,
    phone: str | None,
    amr: list[Any],
    mode: Any,
    step: int | None,
    secret: str | None,
    kind: Any,
    lang: Any,
    return_url: str | None,
) -> Op:
    return lambda b: b.signer(
        key,
        first_name="First",
        last_name="Last",
        email=email,
        phone=phone,
        amr=amr,
        mode=mode,
        step=step,
        secret_question=secret,
        secret_answer=secret,
        type=kind,
        lang=lang,
        return_url=return_url,
        subject_dn="CN=x" if kind == SignerType.CERTIFIO and secret else None,
    )


signers = st.builds(
    _signer,
    KEYS,
    EMAILS,
    PHONES,
    AMRS,
    st.sampled_from([*Mode, "carrier"]),
    st.one_of(st.none(), st.integers(-1, 4)),
    st.one_of(st.none(), SHORT_TEXT),
    st.sampled_from([*SignerType, "robot"]),
    st.sampled_from([*Language, "de"]),
    st.one_of(st.none(), URLS),
)
documents = st.builds(
    lambda source, key, pdfa: lambda b: b.document(source, key=key, pdfa=pdfa),
    st.sampled_from([ANCHOR_PDF, TWO_SIZES_PDF, NOT_PDF]),
    DOC_KEYS,
    st.sampled_from([*PdfaPolicy, 7]),
)
fields = st.builds(
    lambda s, d, p, x, y, w, h: (
        lambda b: b.field(s, document=d, page=p, x=x, y=y, width=w, height=h)
    ),
    KEYS,
    st.one_of(st.none(), DOC_KEYS),
    st.integers(-1, 3),
    NUMBERS,
    NUMBERS,
    NUMBERS,
    NUMBERS,
)
anchors = st.builds(
    lambda s, d, t, p, skip, dx: (
        lambda b: b.anchor(s, document=d, tag=t, page=p, skip_if_not_found=skip, x_offset=dx)
    ),
    KEYS,
    st.one_of(st.none(), DOC_KEYS),
    TAGS,
    st.one_of(st.none(), st.integers(-1, 3)),
    st.booleans(),
    NUMBERS,
)
settings_ops = st.one_of(
    st.builds(lambda k, r: lambda b: b.placeholder(k, role=r), KEYS, SHORT_TEXT),
    st.builds(
        lambda e, p, a: lambda b: b.notify(first_name="N", last_name="M", email=e, phone=p, amr=a),
        EMAILS,
        PHONES,
        AMRS,
    ),
    st.builds(lambda u, i: lambda b: b.webhook(u, insecure=i), URLS, st.booleans()),
    st.builds(lambda u: lambda b: b.return_url(u), URLS),
    st.builds(
        lambda d: lambda b: b.expires_on(d),
        st.one_of(st.dates(dt.date(2000, 1, 1), dt.date(2200, 1, 1)), SHORT_TEXT),
    ),
    st.builds(lambda t: lambda b: b.message_to_signers(t), SHORT_TEXT),
    st.builds(lambda flag: lambda b: b.owner_emails(flag), st.booleans()),
    st.just(lambda b: b.parallel()),
    st.just(lambda b: b.inline_documents()),
)
fuzzy = st.one_of(signers, documents, fields, anchors, settings_ops)


def _good_signer(key: str, step: int | None, secret: bool) -> list[Op]:
    amr = [Amr.LINK, Amr.SECRET] if secret else [Amr.LINK, Amr.SMS]
    return [
        lambda b: b.signer(
            key,
            first_name="F",
            last_name="L",
            email=f"{key}@example.com",
            phone="+15145550100",
            amr=amr,
            step=step,
            secret_question="Q?" if secret else None,
            secret_answer="A!" if secret else None,
        ),
        lambda b: b.field(key, document="a.pdf", x=72, y=100),
    ]


good_workflows = st.builds(
    lambda people, extra: [
        lambda b: b.document(ANCHOR_PDF, key="a.pdf"),
        *(op for person in people for op in _good_signer(*person)),
        *extra,
    ],
    st.lists(
        st.tuples(KEYS, st.one_of(st.none(), st.integers(1, 3)), st.booleans()),
        min_size=1,
        max_size=3,
        unique_by=lambda person: person[0],
    ),
    st.lists(fuzzy, max_size=3),
)
#: Half the time a valid workflow with a few random calls added, else random calls only, so
#: both outcomes of build() are well exercised.
operations = st.one_of(good_workflows, st.lists(fuzzy, max_size=14))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=operations,
    launch=st.booleans(),
    second_factor=st.booleans(),
    name=st.one_of(st.just("Contract"), SHORT_TEXT),
)
def test_build_returns_round_tripping_spec_or_validation_error(
    ops: list[Op], launch: bool, second_factor: bool, name: str
) -> None:
    """Whatever the calls, build() gives a valid spec or WorkflowValidationError only."""
    builder = WorkflowBuilder(name, second_factor=second_factor)
    for op in ops:
        op(builder)
    try:
        spec = builder.build(launch=launch)
    except WorkflowValidationError as exc:
        violations = exc.violations
        event("refused")
        assert violations
        assert all(v.code and v.path and v.message for v in violations)
        return
    event("built")
    payload = spec.to_payload({d.key: f"id-{i}" for i, d in enumerate(spec.documents)})
    again = converter.unstructure(converter.structure(payload, Workflow))
    assert again == payload
    assert orjson.loads(orjson.dumps(payload)) == payload  # JSON-ready
    assert None not in _values(payload)  # never sends null
    assert payload["status"] == (1 if launch else 0)
    assert len(spec.fingerprint()) == 64


@settings(max_examples=40, deadline=None)
@given(amr=AMRS, phone=PHONES, second_factor=st.booleans())
def test_valid_signers_always_build(amr: list[Any], phone: str | None, second_factor: bool) -> None:
    """A signer with link + sms and a good phone always builds, whatever else is added."""
    builder = WorkflowBuilder("W", second_factor=second_factor).document(ANCHOR_PDF, key="a.pdf")
    builder.signer(
        "alice",
        first_name="A",
        last_name="B",
        email="a@example.com",
        phone="+15145550100",
        amr=[Amr.LINK, Amr.SMS],
    ).field("alice", x=10, y=10)
    spec = builder.build()
    assert spec.to_payload({"a.pdf": "x"})["actions"][0]["signer"]["amr"] == ["link", "sms"]
    # Adding a second signer changes the outcome only through the rules, never by crashing.
    builder.signer(
        "bob", first_name="B", last_name="C", email="b@example.com", phone=phone, amr=amr
    )
    builder.field("bob", x=10, y=100)
    try:
        builder.build()
    except WorkflowValidationError as exc:
        codes = exc.codes
        assert codes
