"""
The service's rules, checked on the raw JSON body of ``POST /workflows`` (and ``PUT``).

Two passes, so a client that skipped the builder still meets them:

1. :func:`check_shape` — types and enumerated values. A wrong type or value answers
   ``400`` code ``4002 MALFORMED_REQUEST`` with ``parameters.field`` naming it, e.g.
   ``actions[0].signer.amr[1]``.
2. :func:`check_rules` — the service's rules. A violation answers ``400`` code
   ``4000 VALIDATION_FAILED`` with ``parameters.rule`` (the same strings as the builder's
   violation codes: ``no_signer``, ``embedded_in_parallel_step``, ``secret_amr_embedded``,
   ``missing_link_amr``, ``second_factor_required``, ``phone_required``, ``invalid_phone``,
   ``secret_incomplete``, ``subject_dn_required``, ``return_url_required``, ``unknown_signer``,
   ``unknown_document``, ``signer_without_zone``, ``duplicate_key``, ``duplicate_anchor_tag``,
   ``invalid_email``, ``invalid_url``, ``invalid_geometry``, ``page_out_of_range``,
   ``field_out_of_page``, ``anchor_not_found``, ``no_document``, ``not_pdf``),
   ``parameters.path`` (a JSON path into the body), and ``parameters.rules`` listing every
   rule broken, comma-separated. Messages name fields, never their values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from .codes import EmulatorError

__all__ = ["DocumentFacts", "check_rules", "check_shape", "effective_steps", "parse_expiry"]

SIGNER_TYPES = frozenset({"esig", "certifio", "certifiocloud", "approver", "freezone"})
AMRS = frozenset({"link", "sms", "call", "secret", "saml", "certifiocloud"})
MODES = frozenset({"remote", "embedded"})
LANGS = frozenset({"en", "fr"})
_SECOND_FACTORS = frozenset({"sms", "call", "secret"})
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _bad(field: str, message: str) -> EmulatorError:
    return EmulatorError("4002", f"Malformed request: {field} {message}", field=field)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_numeric_ref(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


class _Shape:
    """Checks one JSON value at a time against a small, explicit schema."""

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _bad(path, "must be an object")
        return value

    def array(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key, [])
        if value is None or not isinstance(value, list):
            raise _bad(f"{path}{key}", "must be an array")
        return value

    def text(self, parent: Mapping[str, Any], key: str, path: str, required: bool = False) -> None:
        if key not in parent:
            if required:
                raise _bad(f"{path}{key}", "is required")
            return
        if not isinstance(parent[key], str):
            raise _bad(f"{path}{key}", "must be a string")

    def flag(self, parent: Mapping[str, Any], key: str, path: str) -> None:
        if key in parent and not isinstance(parent[key], bool):
            raise _bad(f"{path}{key}", "must be a boolean")

    def number(
        self, parent: Mapping[str, Any], key: str, path: str, required: bool = False
    ) -> None:
        if key not in parent:
            if required:
                raise _bad(f"{path}{key}", "is required")
            return
        if not _is_number(parent[key]):
            raise _bad(f"{path}{key}", "must be a number")

    def ref(self, parent: Mapping[str, Any], key: str, path: str, required: bool = False) -> None:
        if key not in parent:
            if required:
                raise _bad(f"{path}{key}", "is required")
            return
        if not _is_numeric_ref(parent[key]):
            raise _bad(f"{path}{key}", "must be a numeric string")

    def choice(
        self, parent: Mapping[str, Any], key: str, path: str, allowed: frozenset[str]
    ) -> None:
        if key in parent and parent[key] not in allowed:
            raise _bad(f"{path}{key}", f"must be one of {', '.join(sorted(allowed))}")

    def integer(
        self, parent: Mapping[str, Any], key: str, path: str, allowed: tuple[int, ...]
    ) -> None:
        value = parent.get(key)
        if key in parent and (isinstance(value, bool) or value not in allowed):
            raise _bad(f"{path}{key}", f"must be one of {', '.join(map(str, allowed))}")


def parse_expiry(value: Any, today: dt.date) -> dt.date:
    """``expiresOn`` as a date: ``YYYY-MM-DD`` or epoch milliseconds; not in the past."""
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise _bad("expiresOn", "is not a valid date") from exc
    elif _is_number(value):
        day = dt.datetime.fromtimestamp(value / 1000, dt.UTC).date()
    else:
        raise _bad("expiresOn", "must be a date (YYYY-MM-DD) or epoch milliseconds")
    if day < today:
        raise _bad("expiresOn", "must not be in the past")
    return day


def _person(shape: _Shape, person: dict[str, Any], path: str) -> None:
    for key in ("firstName", "lastName", "email", "phone", "phoneExt", "secretQuestion"):
        shape.text(person, key, path)
    shape.text(person, "secretAnswer", path)
    shape.flag(person, "isSecretAnswerChanged", path)
    shape.choice(person, "lang", path, LANGS)
    for index, amr in enumerate(shape.array(person, "amr", path)):
        if amr not in AMRS:
            raise _bad(f"{path}amr[{index}]", f"must be one of {', '.join(sorted(AMRS))}")


def check_shape(body: Any, *, partial: bool = False) -> dict[str, Any]:
    """Check types and enumerated values of a workflow body; raise 4002 naming the field."""
    shape = _Shape()
    wf = shape.obj(body, "body")
    shape.text(wf, "name", "", required=not partial)
    for key in ("messageToSigners", "returnUrl", "customInitiatorName", "customInitiatorEmail"):
        shape.text(wf, key, "")
    for key in ("workflowOwnerEmailsEnabled", "parallelActions", "sequentialDocuments"):
        shape.flag(wf, key, "")
    shape.integer(wf, "pdfaPolicy", "", (0, 1, 2))
    shape.integer(wf, "status", "", (0, 1))
    if "documents" not in wf and not partial:
        raise _bad("documents", "is required")
    for i, doc in enumerate(shape.array(wf, "documents", "")):
        path = f"documents[{i}]."
        shape.obj(doc, path.rstrip("."))
        shape.text(doc, "documentId", path)
        shape.text(doc, "name", path)
        shape.text(doc, "data", path)
        shape.text(doc, "documentLabel", path)
        if "documentId" not in doc and not ("name" in doc and "data" in doc):
            raise _bad(f"{path}documentId", "is required (or name and data for inline)")
        for j, zone in enumerate(shape.array(doc, "fields", path)):
            zpath = f"{path}fields[{j}]."
            shape.obj(zone, zpath.rstrip("."))
            shape.number(zone, "x", zpath, required=True)
            shape.number(zone, "y", zpath, required=True)
            shape.number(zone, "width", zpath)
            shape.number(zone, "height", zpath)
            shape.ref(zone, "page", zpath, required=True)
            shape.ref(zone, "assignedTo", zpath, required=True)
        for j, anchor in enumerate(shape.array(doc, "anchors", path)):
            apath = f"{path}anchors[{j}]."
            shape.obj(anchor, apath.rstrip("."))
            shape.text(anchor, "tag", apath, required=True)
            shape.number(anchor, "xOffset", apath)
            shape.number(anchor, "yOffset", apath)
            shape.number(anchor, "width", apath)
            shape.number(anchor, "height", apath)
            shape.ref(anchor, "page", apath)
            shape.ref(anchor, "assignedTo", apath, required=True)
            shape.flag(anchor, "skipIfNotFound", apath)
    for i, action in enumerate(shape.array(wf, "actions", "")):
        path = f"actions[{i}]."
        shape.obj(action, path.rstrip("."))
        shape.choice(action, "mode", path, MODES)
        for key in ("returnUrl", "zoneLabel", "messageToSigner"):
            shape.text(action, key, path)
        if "step" in action and (
            isinstance(action["step"], bool)
            or not isinstance(action["step"], int)
            or action["step"] < 1
        ):
            raise _bad(f"{path}step", "must be a positive integer")
        shape.ref(action, "ref", path)
        if "signer" not in action:
            raise _bad(f"{path}signer", "is required")
        signer = shape.obj(action["signer"], f"{path}signer")
        spath = f"{path}signer."
        shape.choice(signer, "type", spath, SIGNER_TYPES)
        for key in ("subjectDN", "clientUserId", "role"):
            shape.text(signer, key, spath)
        shape.flag(signer, "placeHolder", spath)
        _person(shape, signer, spath)
    for i, notification in enumerate(shape.array(wf, "notifications", "")):
        path = f"notifications[{i}]."
        shape.obj(notification, path.rstrip("."))
        if "contact" not in notification:
            raise _bad(f"{path}contact", "is required")
        _person(shape, shape.obj(notification["contact"], f"{path}contact"), f"{path}contact.")
    for i, hook in enumerate(shape.array(wf, "webhooks", "")):
        path = f"webhooks[{i}]."
        shape.obj(hook, path.rstrip("."))
        shape.text(hook, "url", path, required=True)
        shape.flag(hook, "insecure", path)
    return wf


@attrs.frozen
class DocumentFacts:
    """What the emulator knows of a referenced document: page sizes and (lazily) its text."""

    page_sizes: list[tuple[float, float]] | None
    texts: Callable[[], list[str] | None]


def effective_steps(actions: list[dict[str, Any]]) -> list[int]:
    """Each action's step: its ``step``, or its position (1, 2, 3...) when omitted."""
    return [int(a.get("step", index + 1)) for index, a in enumerate(actions)]


def _url_ok(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def _people(wf: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, action in enumerate(wf.get("actions", [])):
        signer = action["signer"]
        if not signer.get("placeHolder"):
            yield f"actions[{i}].signer", signer
    for i, notification in enumerate(wf.get("notifications", [])):
        yield f"notifications[{i}].contact", notification["contact"]


def _person_rules(wf: dict[str, Any], second_factor: bool) -> Iterator[tuple[str, str]]:
    for path, person in _people(wf):
        for key in ("firstName", "lastName"):
            if not str(person.get(key, "")).strip():
                yield "invalid_value", f"{path}.{key}"
        if not _EMAIL.fullmatch(person.get("email", "")):
            yield "invalid_email", f"{path}.email"
        amr = set(person.get("amr", []))
        if "link" not in amr:
            yield "missing_link_amr", f"{path}.amr"
        if second_factor and not amr & _SECOND_FACTORS:
            yield "second_factor_required", f"{path}.amr"
        phone = person.get("phone")
        if not phone:
            if amr & {"sms", "call"}:
                yield "phone_required", f"{path}.phone"
        elif not _E164.fullmatch(phone):
            yield "invalid_phone", f"{path}.phone"
        if "secret" in amr:
            for key in ("secretQuestion", "secretAnswer"):
                if not str(person.get(key, "")).strip():
                    yield "secret_incomplete", f"{path}.{key}"
                    break
            else:
                if person.get("isSecretAnswerChanged") is False:
                    yield "secret_incomplete", f"{path}.isSecretAnswerChanged"


def _action_rules(wf: dict[str, Any], launching: bool) -> Iterator[tuple[str, str]]:
    actions: list[dict[str, Any]] = wf.get("actions", [])
    if launching and not actions:
        yield "no_signer", "actions"
    refs = Counter(str(a.get("ref", i + 1)).strip() for i, a in enumerate(actions))
    steps = effective_steps(actions)
    sizes = Counter(steps)
    for i, action in enumerate(actions):
        path = f"actions[{i}]"
        signer = action["signer"]
        if refs[str(action.get("ref", i + 1)).strip()] > 1:
            yield "duplicate_key", f"{path}.ref"
        if action.get("returnUrl") is not None and not _url_ok(action["returnUrl"]):
            yield "invalid_url", f"{path}.returnUrl"
        if (
            signer.get("type") == "certifio"
            and not signer.get("placeHolder")
            and not str(signer.get("subjectDN", "")).strip()
        ):
            yield "subject_dn_required", f"{path}.signer.subjectDN"
        if action.get("mode") != "embedded":
            continue
        if "secret" in signer.get("amr", []):
            yield "secret_amr_embedded", f"{path}.signer.amr"
        if not action.get("returnUrl"):
            yield "return_url_required", f"{path}.returnUrl"
        if sizes[steps[i]] > 1:
            yield "embedded_in_parallel_step", f"{path}.step"
    if wf.get("returnUrl") is not None and not _url_ok(wf["returnUrl"]):
        yield "invalid_url", "returnUrl"
    for i, hook in enumerate(wf.get("webhooks", [])):
        if not _url_ok(hook["url"]):
            yield "invalid_url", f"webhooks[{i}].url"


def _zone_rules(
    wf: dict[str, Any], facts: Mapping[int, DocumentFacts], launching: bool
) -> Iterator[tuple[str, str]]:
    actions: list[dict[str, Any]] = wf.get("actions", [])
    refs = {str(a.get("ref", i + 1)).strip(): a for i, a in enumerate(actions)}
    with_zone: set[str] = set()
    for i, doc in enumerate(wf["documents"]):
        fact = facts.get(i)
        sizes = fact.page_sizes if fact is not None else None
        for j, zone in enumerate(doc.get("fields", [])):
            path = f"documents[{i}].fields[{j}]"
            ref = str(zone["assignedTo"]).strip()
            if ref not in refs:
                yield "unknown_signer", f"{path}.assignedTo"
            with_zone.add(ref)
            width, height = zone.get("width", 165), zone.get("height", 37)
            if zone["x"] < 0 or zone["y"] < 0 or width <= 0 or height <= 0:
                yield "invalid_geometry", path
                continue
            page = int(zone["page"])
            if page < 1 or (sizes is not None and page > len(sizes)):
                yield "page_out_of_range", f"{path}.page"
            elif sizes is not None:
                page_width, page_height = sizes[page - 1]
                if zone["x"] + width > page_width or zone["y"] + height > page_height:
                    yield "field_out_of_page", path
        tags: Counter[str] = Counter()
        texts: list[str] | None = None
        for j, anchor in enumerate(doc.get("anchors", [])):
            path = f"documents[{i}].anchors[{j}]"
            ref = str(anchor["assignedTo"]).strip()
            if ref not in refs:
                yield "unknown_signer", f"{path}.assignedTo"
            with_zone.add(ref)
            tag = anchor["tag"]
            tags[tag] += 1
            if tags[tag] == 2:
                yield "duplicate_anchor_tag", f"{path}.tag"
            if anchor.get("width", 165) <= 0 or anchor.get("height", 37) <= 0:
                yield "invalid_geometry", path
            page = int(anchor.get("page", 0) or 0)
            if page and sizes is not None and page > len(sizes):
                yield "page_out_of_range", f"{path}.page"
                continue
            if anchor.get("skipIfNotFound") or fact is None:
                continue
            if texts is None:
                texts = fact.texts() or []
            searched = texts[page - 1 : page] if page else texts
            if texts and not any(tag in text for text in searched):
                yield "anchor_not_found", f"{path}.tag"
    if launching:
        for i, action in enumerate(actions):
            ref = str(action.get("ref", i + 1)).strip()
            if not action["signer"].get("placeHolder") and ref not in with_zone:
                yield "signer_without_zone", f"actions[{i}]"


def check_rules(
    wf: dict[str, Any],
    facts: Mapping[int, DocumentFacts],
    *,
    launching: bool,
    second_factor: bool = True,
) -> None:
    """Raise 4000 for the first rule the (shape-checked) body breaks, listing them all."""
    found: list[tuple[str, str]] = []
    if not wf.get("documents"):
        found.append(("no_document", "documents"))
    if not str(wf.get("name", "x")).strip():
        found.append(("invalid_value", "name"))
    found.extend(_action_rules(wf, launching))
    found.extend(_person_rules(wf, second_factor))
    found.extend(_zone_rules(wf, facts, launching))
    if not found:
        return
    rule, path = found[0]
    rules = ",".join(dict.fromkeys(code for code, _ in found))
    raise EmulatorError(
        "4000",
        f"The workflow breaks the rule {rule} at {path}"
        + (f" ({len(found)} problems)" if len(found) > 1 else ""),
        rule=rule,
        path=path,
        rules=rules,
    )
