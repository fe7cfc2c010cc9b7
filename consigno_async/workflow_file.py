"""
Workflows described in a file (TOML or JSON), in the builder's own terms.

``consigno launch contract.toml`` reads one of these; :func:`load_workflow_file` turns it
into a :class:`~consigno_async.WorkflowBuilder`, so every rule of the builder applies and
every problem (of the file or of the workflow) is reported at once as a
:class:`~consigno_async.errors.WorkflowValidationError`. The keys are the builder's
keyword arguments::

    name = "Employment contract"
    # launch = false             # a draft;  parallel = true: everyone signs at once
    expires_on = "2027-01-31"
    message_to_signers = "Please sign before Friday."

    [[documents]]
    path = "contract.pdf"        # relative to this file
    pdfa = "preferred"           # none | preferred | mandatory

    [[signers]]
    key = "alice"
    first_name = "Alice"
    last_name = "Martin"
    email = "alice@example.com"
    phone = "+15145550100"
    amr = ["link", "sms"]
    fields = [{ page = 1, x = 72, y = 650 }]

    [[signers]]
    key = "bob"
    first_name = "Bob"
    last_name = "Roy"
    email = "bob@example.com"
    phone = "+15145550101"
    amr = ["link", "sms"]
    anchors = [{ tag = "{{sig-bob}}", y_offset = -10 }]

    [[notify]]
    first_name = "Carol"
    last_name = "Lee"
    email = "carol@example.com"

    [[webhooks]]
    url = "https://app.example.com/hooks/consigno"

A signer with ``placeholder = true`` takes ``role`` (and ``step``, ``type``,
``zone_label``) instead of a name. The JSON form has the same structure.
"""

from __future__ import annotations

import inspect
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import orjson

from .builder import WorkflowBuilder
from .enums import PdfaPolicy
from .errors import Violation, WorkflowValidationError
from .spec import WorkflowSpec

__all__ = ["WorkflowFile", "load_workflow_file", "parse_workflow"]

_CODE = "invalid_file"
_TOP_LEVEL = {
    "name",
    "launch",
    "second_factor",
    "inline_documents",
    "parallel",
    "expires_on",
    "message_to_signers",
    "owner_emails",
    "return_url",
    "documents",
    "signers",
    "notify",
    "webhooks",
}
_SETTINGS: dict[str, str] = {
    "expires_on": "expires_on",
    "message_to_signers": "message_to_signers",
    "owner_emails": "owner_emails",
    "return_url": "return_url",
}


def _keywords(method: Callable[..., Any], *, skip: int = 0) -> set[str]:
    params = list(inspect.signature(method).parameters.values())[skip:]
    return {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


class _Reader:
    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.problems: list[Violation] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Violation(_CODE, path, message))

    def table(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(path, "must be a table (an object)")
            return None
        return value

    def tables(self, data: Mapping[str, Any], name: str) -> list[tuple[str, Mapping[str, Any]]]:
        value = data.get(name, [])
        if not isinstance(value, list):
            self.problem(name, "must be a list of tables ([[...]] in TOML, an array in JSON)")
            return []
        found = []
        for index, item in enumerate(value):
            table = self.table(item, f"{name}[{index}]")
            if table is not None:
                found.append((f"{name}[{index}]", table))
        return found

    def unknown(self, table: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(table) - allowed):
            hint = ", ".join(sorted(allowed))
            self.problem(f"{path}.{key}", f"unknown setting {key!r}; expected one of: {hint}")

    def call(self, path: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            method(*args, **kwargs)
        except (TypeError, ValueError) as exc:
            self.problem(path, " ".join(str(exc).split()))


def _pdfa(value: Any) -> PdfaPolicy:
    if isinstance(value, str):
        return PdfaPolicy[value.strip().upper()]
    return PdfaPolicy(value)


@attrs.frozen
class WorkflowFile:
    """A parsed workflow file: its builder, and whether it asks to launch (or a draft)."""

    builder: WorkflowBuilder
    launch: bool = True

    def build(self) -> WorkflowSpec:
        """Check and build the workflow (see :meth:`WorkflowBuilder.build`)."""
        return self.builder.build(launch=self.launch)


def parse_workflow(data: Mapping[str, Any], base_dir: str | os.PathLike[str] = ".") -> WorkflowFile:
    """
    A :class:`WorkflowFile` from a decoded workflow description (see the module docstring). Document
    paths are resolved against ``base_dir``. Raises
    :class:`~consigno_async.errors.WorkflowValidationError` (code ``invalid_file``) listing
    every problem of the description; the builder's own rules are checked by ``build()``.
    """
    reader = _Reader(Path(base_dir))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        reader.problem("name", "the workflow needs a name (a non-empty string)")
        name = "unnamed"
    reader.unknown(data, _TOP_LEVEL, "workflow")
    second_factor = data.get("second_factor", True)
    if not isinstance(second_factor, bool):
        reader.problem("second_factor", "must be true or false")
        second_factor = True
    builder = WorkflowBuilder(name, second_factor=second_factor)

    for flag, method in (
        ("inline_documents", builder.inline_documents),
        ("parallel", builder.parallel),
    ):
        if flag in data:
            reader.call(flag, method, data[flag])
    for key, method_name in _SETTINGS.items():
        if key in data:
            reader.call(key, getattr(builder, method_name), data[key])

    document_keys = _keywords(builder.document, skip=1) | {"path"}
    for path, table in reader.tables(data, "documents"):
        reader.unknown(table, document_keys, path)
        source = table.get("path")
        if not isinstance(source, str) or not source:
            reader.problem(f"{path}.path", "each document needs a path (a string)")
            continue
        kwargs = {k: v for k, v in table.items() if k in document_keys - {"path"}}
        if "pdfa" in kwargs:
            try:
                kwargs["pdfa"] = _pdfa(kwargs["pdfa"])
            except (KeyError, ValueError):
                reader.problem(f"{path}.pdfa", "must be none, preferred or mandatory (or 0-2)")
                del kwargs["pdfa"]
        resolved = reader.base_dir / source
        kwargs.setdefault("file_name", Path(source).name)
        reader.call(path, builder.document, str(resolved), **kwargs)

    signer_keys = _keywords(builder.signer) | {"fields", "anchors", "placeholder"}
    placeholder_keys = _keywords(builder.placeholder) | {"fields", "anchors", "placeholder"}
    field_keys = _keywords(builder.field, skip=1)
    anchor_keys = _keywords(builder.anchor, skip=1)
    for path, table in reader.tables(data, "signers"):
        signer_key = table.get("key")
        if not isinstance(signer_key, str) or not signer_key:
            reader.problem(f"{path}.key", "each signer needs a key (a string)")
            continue
        is_placeholder = table.get("placeholder", False) is True
        allowed = placeholder_keys if is_placeholder else signer_keys
        reader.unknown(table, allowed, path)
        kwargs = {
            k: v
            for k, v in table.items()
            if k in allowed - {"fields", "anchors", "placeholder", "key"}
        }
        add: Callable[..., Any] = builder.placeholder if is_placeholder else builder.signer
        reader.call(path, add, signer_key, **kwargs)
        for kind, keys, zone in (
            ("fields", field_keys, builder.field),
            ("anchors", anchor_keys, builder.anchor),
        ):
            for zone_path, zone_table in reader.tables(table, kind):
                full = f"{path}.{zone_path}"
                reader.unknown(zone_table, keys, full)
                zone_kwargs = {k: v for k, v in zone_table.items() if k in keys}
                reader.call(full, zone, signer_key, **zone_kwargs)

    notify_keys = _keywords(builder.notify)
    for path, table in reader.tables(data, "notify"):
        reader.unknown(table, notify_keys, path)
        reader.call(path, builder.notify, **{k: v for k, v in table.items() if k in notify_keys})

    hooks = data.get("webhooks", [])
    if isinstance(hooks, list):
        hooks = [{"url": h} if isinstance(h, str) else h for h in hooks]
    webhook_keys = _keywords(builder.webhook)
    for path, table in reader.tables({"webhooks": hooks}, "webhooks"):
        reader.unknown(table, webhook_keys, path)
        reader.call(path, builder.webhook, **{k: v for k, v in table.items() if k in webhook_keys})

    launch = data.get("launch", True)
    if not isinstance(launch, bool):
        reader.problem("launch", "must be true or false")
    if reader.problems:
        raise WorkflowValidationError(reader.problems)
    return WorkflowFile(builder, launch if isinstance(launch, bool) else True)


def load_workflow_file(path: str | os.PathLike[str]) -> WorkflowFile:
    """
    Read a workflow description from a ``.toml`` or ``.json`` file and return it as a
    :class:`WorkflowFile` (call ``.build()`` on it). Raises :class:`OSError` if the file
    cannot be read, and :class:`~consigno_async.errors.WorkflowValidationError` for a
    malformed file or description.

    Example::

        spec = load_workflow_file("contract.toml").build()
    """
    file = Path(path)
    raw = file.read_bytes()
    try:
        if file.suffix.lower() == ".json":
            data = orjson.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        kind = "JSON" if file.suffix.lower() == ".json" else "TOML"
        message = " ".join(str(exc).split())
        raise WorkflowValidationError(
            [Violation(_CODE, file.name, f"not valid {kind}: {message}")]
        ) from None
    if not isinstance(data, Mapping):
        raise WorkflowValidationError([Violation(_CODE, file.name, "must hold one table/object")])
    return parse_workflow(data, file.parent)
