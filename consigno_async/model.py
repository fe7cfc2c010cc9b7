"""
The request side of the data model: the body of ``POST /workflows`` as frozen attrs classes,
and the one cattrs converter that writes (and reads) it in the service's wire names.

The classes use Python names (``first_name``, ``assigned_to``); :data:`converter` turns them
into the wire form: camelCase keys, ``subjectDN``, ``placeHolder``, ``isSecretAnswerChanged``,
``ref``/``assignedTo``/``page`` as numeric *strings*, ``expiresOn`` as ``YYYY-MM-DD``. Unset
values (``None``, and empty optional lists) are left out: the converter never sends ``null``.
You rarely build these by hand: :class:`~consigno_async.WorkflowBuilder` does it, after
checking every rule. ::

    >>> from consigno_async.model import Field, converter
    >>> converter.unstructure(Field(x=72, y=650, page=1, assigned_to=1))
    {'x': 72, 'y': 650, 'width': 165, 'height': 37, 'page': '1', 'assignedTo': '1'}
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
import orjson
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .enums import Amr, Language, Mode, PdfaPolicy, SignerType

__all__ = [
    "Action",
    "Anchor",
    "Contact",
    "Document",
    "Field",
    "Notification",
    "Signer",
    "Webhook",
    "Workflow",
    "converter",
    "dumps",
]

#: Default size of a signature zone, in units of 1/72" (the service's documented default).
DEFAULT_ZONE_WIDTH = 165
DEFAULT_ZONE_HEIGHT = 37


@attrs.frozen(kw_only=True)
class Field:
    """
    A signature zone placed by coordinates (wire: ``documents[].fields[]``).

    ``x``/``y`` are in units of 1/72" from the top-left corner of ``page`` (1-based);
    ``assigned_to`` is the ``ref`` of the action whose signer fills the zone.
    """

    x: float
    y: float
    width: float = DEFAULT_ZONE_WIDTH
    height: float = DEFAULT_ZONE_HEIGHT
    page: int
    assigned_to: int


@attrs.frozen(kw_only=True)
class Anchor:
    """
    A signature zone placed relative to a text tag found in the PDF
    (wire: ``documents[].anchors[]``). Without ``page`` the zone goes on every occurrence.
    """

    tag: str
    x_offset: float = 0
    y_offset: float = 0
    width: float = DEFAULT_ZONE_WIDTH
    height: float = DEFAULT_ZONE_HEIGHT
    assigned_to: int
    page: int | None = None
    skip_if_not_found: bool | None = None


@attrs.frozen(kw_only=True)
class Document:
    """
    One document of a workflow: either ``document_id`` (from ``POST /documents``) or
    ``name`` + ``data`` (base64 PDF, sent inline), plus its zones.
    """

    document_id: str | None = None
    name: str | None = None
    data: str | None = attrs.field(default=None, repr=lambda v: "None" if v is None else "...")
    document_label: str | None = None
    fields: tuple[Field, ...] = ()
    anchors: tuple[Anchor, ...] = ()


def _hidden(value: object) -> str:
    return "None" if value is None else "'***'"


@attrs.frozen(kw_only=True)
class Signer:
    """
    Who signs an action (wire: ``actions[].signer``). ``secret_answer`` never shows in reprs.

    A placeholder signer (``place_holder=True``) has only a ``role``; the workflow owner fills
    in the person later in the service's web workspace.
    """

    type: SignerType = SignerType.ESIG
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    amr: tuple[Amr, ...] | None = None
    lang: Language | None = None
    secret_question: str | None = None
    secret_answer: str | None = attrs.field(default=None, repr=_hidden)
    is_secret_answer_changed: bool | None = None
    subject_dn: str | None = None
    client_user_id: str | None = None
    role: str | None = None
    place_holder: bool | None = None


@attrs.frozen(kw_only=True)
class Action:
    """One signing action (wire: ``actions[]``): a signer, its step, mode and zone label."""

    ref: int
    step: int
    mode: Mode = Mode.REMOTE
    zone_label: str
    return_url: str | None = None
    signer: Signer


@attrs.frozen(kw_only=True)
class Contact:
    """A person notified at completion (wire: ``notifications[].contact``)."""

    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    amr: tuple[Amr, ...] | None = None
    lang: Language | None = None
    secret_question: str | None = None
    secret_answer: str | None = attrs.field(default=None, repr=_hidden)
    is_secret_answer_changed: bool | None = None


@attrs.frozen(kw_only=True)
class Notification:
    """Wrapper of a :class:`Contact` (wire: ``notifications[]``)."""

    contact: Contact


@attrs.frozen(kw_only=True)
class Webhook:
    """A URL the service calls on workflow events (wire: ``webhooks[]``)."""

    url: str
    insecure: bool | None = None


@attrs.frozen(kw_only=True)
class Workflow:
    """
    The whole ``POST /workflows`` body. ``status`` is 0 to create a draft, 1 to create and
    launch. ``notifications`` is always sent, even empty, as the service expects.
    """

    name: str
    expires_on: dt.date
    pdfa_policy: PdfaPolicy
    status: int
    documents: tuple[Document, ...]
    actions: tuple[Action, ...]
    notifications: tuple[Notification, ...]
    webhooks: tuple[Webhook, ...] = ()
    message_to_signers: str | None = None
    return_url: str | None = None
    workflow_owner_emails_enabled: bool | None = None
    parallel_actions: bool | None = None


_SPECIAL_NAMES = {"subject_dn": "subjectDN"}
_CAMEL = re.compile(r"_([a-z0-9])")
# Attributes the service wants as numeric strings while the model keeps them as ints.
_NUMERIC_STRINGS = frozenset({"ref", "assigned_to", "page"})


def wire_name(name: str) -> str:
    """
    The wire name of a model attribute::

        >>> wire_name("is_secret_answer_changed"), wire_name("subject_dn")
        ('isSecretAnswerChanged', 'subjectDN')
    """
    return _SPECIAL_NAMES.get(name) or _CAMEL.sub(lambda m: m.group(1).upper(), name)


class _NumberStrings(dict[int, str]):
    """
    ``str(n)`` for the small numbers written again and again (``ref``, then ``assignedTo`` of
    each zone, ``page``): one shared string per number. A plain dict lookup only reads
    memory, where an LRU cache also relinks its list on every hit; numbers past
    ``_SHARED_NUMBERS`` are converted without being kept, so the table stays bounded.
    """

    def __missing__(self, number: int) -> str:
        text = str(number)
        if 0 <= number < _SHARED_NUMBERS:
            self[number] = text
        return text


_SHARED_NUMBERS = 1 << 17
_numeric_string: Callable[[int], str] = _NumberStrings().__getitem__


def _int_from_wire(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"expected a numeric string, got {type(value).__name__}")
    return int(value)


# Reads the member's value slot directly: much faster than the ``.value`` property, and
# this runs for every signer of every payload.
_enum_value = operator.attrgetter("_value_")


def _date_from_wire(value: Any, _: Any) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(f"expected a YYYY-MM-DD string, got {type(value).__name__}")
    return dt.date.fromisoformat(value)


def _overrides(cls: type) -> dict[str, Any]:
    result = {}
    for attribute in attrs.fields(cls):
        extra: dict[str, Any] = {}
        if attribute.name in _NUMERIC_STRINGS:
            extra = {"unstruct_hook": _numeric_string, "struct_hook": _int_from_wire}
        # Only "unset" values are left out (None, or an empty optional list); a real default
        # such as the zone width 165 or mode "remote" is always written.
        if attribute.default not in (None, (), attrs.NOTHING):
            extra["omit_if_default"] = False
        result[attribute.name] = override(rename=wire_name(attribute.name), **extra)
    return result


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(
        omit_if_default=True,
        forbid_extra_keys=False,
        unstruct_collection_overrides={tuple: list},
    )
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    # Plain str/int on the wire (not the enum objects), so the body is JSON-ready for any encoder.
    for enum_type in (Amr, Language, Mode, PdfaPolicy, SignerType):
        conv.register_unstructure_hook(enum_type, _enum_value)
    # Optional plain values are written as they are (None is never written at all), so skip
    # cattrs' generic optional handler: it runs for every optional attribute of every signer.
    for optional in (str | None, bool | None, float | None, int | None):
        conv.register_unstructure_hook(optional, identity)
    # The AMR list and language of every signer: skip the generic optional dispatch too.
    conv.register_unstructure_hook(tuple[Amr, ...] | None, _enum_values)
    conv.register_unstructure_hook(Language | None, _optional_enum_value)
    conv.register_structure_hook(dt.date, _date_from_wire)
    for cls in (Field, Anchor, Document, Signer, Action, Contact, Notification, Webhook, Workflow):
        fields = _overrides(cls)
        unstructure = make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **fields)
        conv.register_unstructure_hook(cls, unstructure)
        # The lists of zones and actions: one list comprehension calling the class's own
        # function, instead of a generator and a dispatch per item (cattrs' generic path).
        conv.register_unstructure_hook_func(_is_tuple_of(cls), _list_of(unstructure))
        conv.register_structure_hook(cls, make_dict_structure_fn(cls, conv, **fields))
    return conv


def _is_tuple_of(cls: type) -> Callable[[Any], bool]:
    wanted = tuple[cls, ...]  # type: ignore[valid-type]
    return lambda type_: bool(type_ == wanted)


def _list_of(unstructure: Callable[[Any], Any]) -> Callable[[tuple[Any, ...]], list[Any]]:
    def unstructure_all(items: tuple[Any, ...]) -> list[Any]:
        return [unstructure(item) for item in items]

    return unstructure_all


def _enum_values(values: tuple[Any, ...] | None) -> list[Any] | None:
    return None if values is None else [_enum_value(value) for value in values]


def _optional_enum_value(value: Any) -> Any:
    return None if value is None else _enum_value(value)


#: The module-level converter (built once, at import): ``converter.unstructure(workflow)``
#: gives the JSON-ready body; ``converter.structure(body, Workflow)`` reads it back.
converter: cattrs.Converter = _make_converter()


def dumps(obj: Any) -> bytes:
    """Serialise a model object (or an unstructured dict) to compact JSON bytes with orjson."""
    if attrs.has(type(obj)):
        obj = converter.unstructure(obj)
    return orjson.dumps(obj)
