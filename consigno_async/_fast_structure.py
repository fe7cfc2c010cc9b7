"""
Generated fast paths for reading the response models (used by :mod:`.responses`).

cattrs' generated structuring code calls one hook per member, and most members of a workflow
are plain strings, numbers or ``None`` that need no conversion at all. For each response
class, :func:`fast_structure_fn` generates a function that checks such members inline
(``type(v) is str``) and calls a hook only where there is real work (dates, nested models).

The fast function handles only the usual case. At the first member it does not expect (a
wrong type, a missing required member, an unknown enum value, not a ``dict`` at all) it hands
the whole object to the *slow* hook, the cattrs-generated one it stands in for, which then
returns the same value or raises the same error it always did. The two cannot disagree:
the fast path never raises on data, and it returns only when every member took its
no-conversion branch.
"""

from __future__ import annotations

import enum
import linecache
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["fast_structure_fn"]

StructureFn = Callable[[Any, Any], Any]

_MISSING: Any = object()


def _is_optional(t: Any) -> bool:
    args = typing.get_args(t)
    return (
        typing.get_origin(t) in (typing.Union, types.UnionType)
        and len(args) == 2
        and type(None) in args
    )


def _member_code(
    index: int,
    field: attrs.Attribute[Any],
    wire: str,
    direct: Mapping[Any, StructureFn],
    nested: Mapping[type, StructureFn],
    env: dict[str, Any],
) -> list[str] | None:
    """Lines that leave member ``index`` in ``v{index}`` (or bail out); None: unsupported."""
    t: Any = field.type
    v = f"v{index}"
    optional = _is_optional(t)
    if optional:
        t = next(a for a in typing.get_args(t) if a is not type(None))
    required = field.default is attrs.NOTHING
    if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
        return None
    env[f"d{index}"] = field.default
    if optional and required:
        return None  # no such member in the response models
    if optional and field.default is None and (t in (str, int, bool) or t in direct):
        # Missing and null both mean None: one test for the usual case.
        if t in direct:
            env[f"h{index}"] = direct[t]
            return [
                f"    {v} = o.get({wire!r})",
                f"    if {v} is not None: {v} = h{index}({v}, None)",
            ]
        env[f"t{index}"] = t
        return [
            f"    {v} = o.get({wire!r})",
            f"    if {v} is not None and type({v}) is not t{index}: return slow(o, _)",
        ]
    lines = [f"    {v} = o.get({wire!r}, _M)"]
    if required:
        lines.append(f"    if {v} is _M: return slow(o, _)")
    else:
        lines.append(f"    if {v} is _M: {v} = d{index}")
        if optional:
            lines.append(f"    elif {v} is None: pass")
    # The last branch handles a present value (not None, for an optional member).
    head = "    else:" if not required else "    if True:"
    if t in (str, int, bool):
        env[f"t{index}"] = t
        lines += [head, f"        if type({v}) is not t{index}: return slow(o, _)"]
    elif t in direct:
        env[f"h{index}"] = direct[t]
        lines += [head, f"        {v} = h{index}({v}, None)"]
    elif isinstance(t, type) and issubclass(t, enum.Enum):
        env[f"m{index}"] = {m.value: m for m in t}
        env[f"b{index}"] = int if issubclass(t, int) else str
        lines += [
            head,
            f"        if type({v}) is not b{index}: return slow(o, _)",
            f"        {v} = m{index}.get({v})",
            f"        if {v} is None: return slow(o, _)",
        ]
    elif t in nested:
        env[f"n{index}"] = nested[t]
        lines += [head, f"        {v} = n{index}({v}, None)"]
    elif typing.get_origin(t) is tuple and typing.get_args(t)[1:] == (Ellipsis,):
        item = typing.get_args(t)[0]
        lines += [head, f"        if type({v}) is not list: return slow(o, _)"]
        if item in nested:
            env[f"n{index}"] = nested[item]
            lines.append(f"        {v} = tuple([n{index}(i, None) for i in {v}])")
        elif item in (str, int) or item == dict[str, Any]:
            env[f"t{index}"] = item if item in (str, int) else dict
            lines += [
                f"        for i in {v}:",
                f"            if type(i) is not t{index}: return slow(o, _)",
                f"        {v} = tuple({v})",
            ]
        else:
            return None
    else:
        return None
    return lines


def _plain_slots(cls: type, fields: tuple[attrs.Attribute[Any], ...]) -> bool:
    """True if attrs' __init__ would only store each value in its slot."""
    if any(hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__")):
        return False
    return all(
        f.validator is None
        and f.converter is None
        and isinstance(cls.__dict__.get(f.name), types.MemberDescriptorType)
        for f in fields
    )


def fast_structure_fn(
    cls: type,
    slow: StructureFn,
    *,
    wire_names: Mapping[str, str],
    direct: Mapping[Any, StructureFn],
    nested: Mapping[type, StructureFn],
    computed: Mapping[str, Callable[[dict[str, Any]], Any]] | None = None,
) -> StructureFn:
    """
    A structuring function for the attrs class ``cls`` that defers to ``slow`` for anything
    unusual (see the module docstring). ``slow`` itself is returned when a member's type is
    not one the generator knows.

    ``direct`` maps a type to a hook that accepts ``None`` and never needs a fallback
    (dates); ``nested`` maps attrs classes to their fast functions; ``computed`` maps each
    ``init=False`` member to a function of the JSON object giving its value (what ``slow``
    stores there).
    """
    attrs.resolve_types(cls)
    computed = computed or {}
    fields = attrs.fields(cls)
    env: dict[str, Any] = {"slow": slow, "_M": _MISSING, "cls": cls, "new": object.__new__}
    body: list[str] = ["def structure(o, _=None):", "    if type(o) is not dict: return slow(o, _)"]
    arguments = []
    for index, field in enumerate(f for f in fields if f.init):
        lines = _member_code(index, field, wire_names[field.name], direct, nested, env)
        if lines is None:
            return slow
        body += lines
        arguments.append((field.name, f"v{index}"))
    for index, field in enumerate((f for f in fields if not f.init), start=len(arguments)):
        if field.name not in computed:
            return slow
        env[f"c{index}"] = computed[field.name]
        arguments.append((field.name, f"c{index}(o)"))
    if _plain_slots(cls, fields):
        # What attrs' __init__ does for such a class (object.__setattr__ of each member, in
        # order), without the keyword-argument matching: the members' slot descriptors.
        body.append("    obj = new(cls)")
        for name, value in arguments:
            env[f"set_{name}"] = cls.__dict__[name].__set__
            body.append(f"    set_{name}(obj, {value})")
    else:
        init_fields = [f for f in fields if f.init]
        init_args = ", ".join(f"{f.alias}=v{i}" for i, f in enumerate(init_fields))
        body.append(f"    obj = cls({init_args})")
        for name, value in arguments:
            if name in computed:
                body.append(f"    object.__setattr__(obj, {name!r}, {value})")
    body.append("    return obj")
    source = "\n".join(body) + "\n"
    filename = f"<consigno_async fast structure {cls.__qualname__}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), env)  # generated from attrs metadata only
    function: StructureFn = env["structure"]
    return function
