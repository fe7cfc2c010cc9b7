"""
The response side of the data model: what the service returns, as frozen attrs classes.

The classes use Python names (``created_on``, ``total_actions``); :data:`converter` reads the
service's camelCase JSON into them. They are **tolerant**: members the client does not know
are ignored (the service adds fields over time), and most members are optional because the
reference does not say which ones are always present. Each :class:`Workflow` also keeps the
JSON it was read from (:meth:`Workflow.to_dict`), unknown members included.

A signer's secret answer is never read into a model, even if a response carried it.

>>> wf = converter.structure({"id": "5f0c" * 6, "name": "NDA", "status": 1, "extra": 0}, Workflow)
>>> wf.status, wf.name
(<WorkflowStatus.LAUNCHED: 1>, 'NDA')
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._fast_structure import fast_structure_fn
from .enums import ActionStatus, WorkflowStatus
from .errors import ResponseFormatError

__all__ = [
    "Action",
    "ActionSigner",
    "DocumentMetadata",
    "Workflow",
    "WorkflowDocument",
    "WorkflowPage",
    "converter",
    "structure",
]

_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class DocumentMetadata:
    """
    An uploaded document, as ``POST /documents`` describes it (``response.metadata``).

    ``document_id`` is what a workflow refers to; a document can be used by one workflow only.
    """

    document_id: str
    original_document_id: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    page_count: int | None = None
    content_type: str | None = None
    created_by: str | None = None
    upload_date: str | None = None
    pdfa_policy: int | None = None
    pdfa_level: str | None = None
    has_corrupted_signatures: bool | None = None

    @property
    def id(self) -> str:
        """Alias of :attr:`document_id`."""
        return self.document_id


@attrs.frozen(kw_only=True)
class WorkflowDocument:
    """A document of a workflow, with its signature zones as the service echoes them."""

    document_id: str | None = None
    original_document_id: str | None = None
    name: str | None = None
    document_label: str | None = None
    fields: tuple[dict[str, Any], ...] = ()
    anchors: tuple[dict[str, Any], ...] = ()


@attrs.frozen(kw_only=True)
class ActionSigner:
    """The person behind an action (never carries a secret answer)."""

    type: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    amr: tuple[str, ...] = ()
    lang: str | None = None
    client_user_id: str | None = None
    role: str | None = None
    place_holder: bool | None = None
    secret_question: str | None = None


@attrs.frozen(kw_only=True)
class Action:
    """
    One signer's step in a workflow. ``sign_url`` is set for embedded signers: redirect the
    user there to sign.
    """

    id: str | None = None
    ref: str | None = None
    step: int | None = None
    status: ActionStatus | None = None
    status_date: dt.datetime | None = None
    mode: str | None = None
    zone_label: str | None = None
    return_url: str | None = None
    sign_url: str | None = None
    decline_reason: str | None = None
    signer: ActionSigner | None = None


@attrs.frozen(kw_only=True)
class Workflow:
    """
    A workflow (a signing project) as the service reports it.

    ``status`` is a :class:`~consigno_async.WorkflowStatus`; dates are timezone-aware
    ``datetime`` objects (``expires_on`` a ``date``); ``edit_url`` opens the project in the
    service's web application.
    """

    id: str
    name: str = ""
    status: WorkflowStatus = WorkflowStatus.CREATED
    version: int | None = None
    documents: tuple[WorkflowDocument, ...] = ()
    actions: tuple[Action, ...] = ()
    notifications: tuple[dict[str, Any], ...] = ()
    webhooks: tuple[dict[str, Any], ...] = ()
    total_actions: int | None = None
    remaining_actions: int | None = None
    created_on: dt.datetime | None = None
    modified_on: dt.datetime | None = None
    status_date: dt.datetime | None = None
    expires_on: dt.date | None = None
    edit_url: str | None = None
    created_by: str | None = None
    pdfa_policy: int | None = None
    parallel_actions: bool | None = None
    workflow_owner_emails_enabled: bool | None = None
    message_to_signers: str | None = None
    _raw: Mapping[str, Any] = attrs.field(factory=dict, init=False, repr=False, eq=False)

    @property
    def document_ids(self) -> frozenset[str]:
        """Every document id this workflow refers to (current and original ids)."""
        ids = set()
        for doc in self.documents:
            if doc.document_id:
                ids.add(doc.document_id)
            if doc.original_document_id:
                ids.add(doc.original_document_id)
        return frozenset(ids)

    def to_dict(self) -> dict[str, Any]:
        """The workflow's JSON object in the service's wire names, unknown members included."""
        if self._raw:
            # A deep copy (orjson round trip, fast): the caller may change it freely.
            data_copy: dict[str, Any] = orjson.loads(orjson.dumps(self._raw))
            return data_copy
        data: dict[str, Any] = converter.unstructure(self)
        return data


@attrs.frozen(kw_only=True)
class WorkflowPage:
    """One page of ``GET /workflows``: ``offset``, ``count`` items here, ``total`` in all."""

    count: int = 0
    total: int = 0
    offset: int = 0
    workflows: tuple[Workflow, ...] = ()


_CAMEL = re.compile(r"_([a-z0-9])")


def _wire(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name.lstrip("_"))


def _datetime_from_wire(value: Any, _: Any) -> dt.datetime | None:
    # ISO-8601 with milliseconds and "Z" (3.11's fromisoformat reads it). A format the client
    # does not know is not fatal: the value stays available in Workflow.to_dict().
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, dt.UTC)
    return None


def _date_from_wire(value: Any, _: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _datetime_to_wire(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _optional_str(value: Any, _: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    return _str_from_wire(value, _)


def _optional_int(value: Any, _: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return int(value)


def _optional_bool(value: Any, _: Any) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def _str_from_wire(value: Any, _: Any) -> str:
    # ids, refs and pages are strings on the wire but some are numbers in places: accept both.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _is_optional(t: Any) -> bool:
    args = typing.get_args(t)
    return (
        typing.get_origin(t) in (typing.Union, types.UnionType)
        and len(args) == 2
        and type(None) in args
    )


def _is_tuple(t: Any) -> bool:
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis


# Hooks for the optional members that need no dispatch at all (each accepts None itself).
_OPTIONAL_FAST: dict[Any, Any] = {
    str: _optional_str,
    int: _optional_int,
    bool: _optional_bool,
    dt.datetime: _datetime_from_wire,
    dt.date: _date_from_wire,
}


def _make_converter() -> cattrs.Converter:
    # detailed_validation=False: no per-field try/except in the generated code (the hot path of
    # every call); a failure still says which type could not be read.
    conv = cattrs.Converter(
        forbid_extra_keys=False,
        detailed_validation=False,
        unstruct_collection_overrides={tuple: list},
    )
    conv.register_structure_hook(str, _str_from_wire)
    conv.register_structure_hook(dt.datetime, _datetime_from_wire)
    conv.register_structure_hook(dt.date, _date_from_wire)
    conv.register_unstructure_hook(dt.datetime, _datetime_to_wire)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    for enum_type in (WorkflowStatus, ActionStatus):
        conv.register_unstructure_hook(enum_type, _enum_value)
        # Explicit, or the str hook above would claim the StrEnum (singledispatch on bases).
        conv.register_structure_hook(enum_type, _enum_structure)
    # Zones, notifications and webhooks stay plain JSON objects: no copy, no per-key work.
    conv.register_structure_hook_func(
        lambda t: t == dict[str, Any], lambda v, _: v if isinstance(v, dict) else _not_object(v)
    )

    # Optional members and homogeneous tuples are most of a workflow's fields: resolve the inner
    # hook once, when the structuring code is generated, instead of dispatching on every value.
    def optional_hook(t: Any) -> Any:
        inner_type = next(a for a in typing.get_args(t) if a is not type(None))
        direct = _OPTIONAL_FAST.get(inner_type)
        if direct is not None:
            return direct
        inner = conv.get_structure_hook(inner_type)

        def structure_optional(value: Any, _: Any) -> Any:
            return None if value is None else inner(value, inner_type)

        return structure_optional

    def tuple_hook(t: Any) -> Any:
        inner_type = typing.get_args(t)[0]
        inner = conv.get_structure_hook(inner_type)

        def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
            if type(value) is not list:
                raise TypeError(f"expected a JSON array, got {type(value).__name__}")
            return tuple([inner(item, inner_type) for item in value])

        return structure_tuple

    conv.register_structure_hook_factory(_is_optional, optional_hook)
    conv.register_structure_hook_factory(_is_tuple, tuple_hook)
    # Nested classes first, and the Workflow hook (which keeps the raw JSON) registered before
    # WorkflowPage's code is generated, so that the workflows of a page keep theirs too.
    slow: dict[type, Any] = {}
    for cls in _MODELS:
        renames: dict[str, Any] = {
            a.name: override(rename=_wire(a.name)) for a in attrs.fields(cls) if a.init
        }
        structure_fn: Any = make_dict_structure_fn(cls, conv, **renames)
        if cls is Workflow:
            structure_fn = _keeping_raw(structure_fn)
        conv.register_structure_hook(cls, structure_fn)
        slow[cls] = structure_fn
        omit: dict[str, Any] = {
            a.name: override(omit=True) for a in attrs.fields(cls) if not a.init
        }
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, **{**renames, **omit})
        )
    # Then the fast paths (see _fast_structure): the slow hooks above stay what they defer to.
    fast: dict[type, Any] = {}
    for cls in _MODELS:
        fast[cls] = fast_structure_fn(
            cls,
            slow[cls],
            wire_names={a.name: _wire(a.name) for a in attrs.fields(cls) if a.init},
            direct={dt.datetime: _datetime_from_wire, dt.date: _date_from_wire},
            nested=fast,
            computed={"_raw": _without_secret_answers} if cls is Workflow else None,
        )
        conv.register_structure_hook(cls, fast[cls])
    _FAST_HOOKS.update(fast)
    return conv


def _keeping_raw(structure_workflow: Any) -> Any:
    def workflow_hook(value: Any, cls: Any) -> Workflow:
        workflow: Workflow = structure_workflow(value, cls)
        _set_raw(workflow, value)
        return workflow

    return workflow_hook


def _set_raw(workflow: Workflow, value: dict[str, Any]) -> None:
    # Keep the JSON the workflow was read from (unknown members included) for to_dict().
    object.__setattr__(workflow, "_raw", _without_secret_answers(value))


_MODELS: tuple[type, ...] = (
    DocumentMetadata,
    WorkflowDocument,
    ActionSigner,
    Action,
    Workflow,
    WorkflowPage,
)
#: The converter's hooks for the models, looked up without cattrs' dispatch by structure().
_FAST_HOOKS: dict[type, Any] = {}


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def _without_secret_answers(value: dict[str, Any]) -> dict[str, Any]:
    # The service is not supposed to echo secret answers; if it ever does, they are not kept.
    actions = value.get("actions")
    if not isinstance(actions, list):
        return value
    for a in actions:
        if isinstance(a, dict):
            signer = a.get("signer")
            if isinstance(signer, dict) and "secretAnswer" in signer:
                break
    else:
        return value
    cleaned = []
    for action in actions:
        signer = action.get("signer") if isinstance(action, dict) else None
        if isinstance(signer, dict) and "secretAnswer" in signer:
            signer = {k: v for k, v in signer.items() if k != "secretAnswer"}
            action = {**action, "signer": signer}
        cleaned.append(action)
    return {**value, "actions": cleaned}


def _enum_structure(value: Any, cls: type[enum.Enum]) -> Any:
    return cls(value)


def _not_object(value: Any) -> dict[str, Any]:
    raise TypeError(f"expected a JSON object, got {type(value).__name__}")


#: The module-level converter, built once at import: ``converter.structure(data, Workflow)``
#: reads a response; ``converter.unstructure(workflow)`` gives back wire-named JSON.
converter: cattrs.Converter = _make_converter()


def structure(data: Any, cls: type[_T], *, status: int | None = None) -> _T:
    """
    ``converter.structure`` with every failure turned into
    :class:`~consigno_async.errors.ResponseFormatError` (the response has the wrong shape).
    """
    try:
        hook = _FAST_HOOKS.get(cls)
        if hook is not None:
            result: _T = hook(data, cls)
            return result
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResponseFormatError(
            f"the response does not have the shape of a {cls.__name__}: {_describe(exc)}",
            status=status,
            content_type="application/json",
        ) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        inner = exc.exceptions[0] if exc.exceptions else exc
        return f"{type(inner).__name__}: {inner}"
    return f"{type(exc).__name__}: {exc}"
