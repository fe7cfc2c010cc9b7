"""
Seeded fault injection: the failures real integrations meet, on demand and repeatable.

A fault is a JSON object (``POST /_emulator/faults``) or keyword arguments
(``Emulator.add_fault``; snake_case or camelCase keys):

- ``{"status": 429, "retryAfter": 0.2}`` — answer 429 (code 4290) or 503 (code 5030) with a
  ``Retry-After`` header, without touching the request; other 5xx statuses answer with a
  framework-shaped body.
- ``{"latencyMs": 50}`` — wait before answering (adds up with the server's base latency).
- ``{"drop": "before_commit"}`` / ``{"drop": "after_commit"}`` — read the request, then cut the
  connection without an answer, before or after applying the change.
- ``{"truncate": true}`` — apply the request, then send only half of the body announced by
  ``Content-Length`` and cut the connection.
- ``{"html": 502}`` — answer with the HTML error page of a reverse proxy.

Common keys: ``rate`` (probability, default 1), ``paths`` (exact paths, prefixes — a prefix
matches itself and what lies below it — or ``fnmatch`` patterns such as
``/api/v1/workflows/*/documents``), ``methods``, ``count`` (fire at most that many times).
Randomness comes from one ``random.Random(seed)``, so a run with the same seed and the same
request order injects the same faults. Control routes (``/_emulator``) are never faulted.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .codes import EmulatorError

__all__ = ["Fault", "FaultSet", "parse_fault"]

_KEYS = {
    "status": "status",
    "retryAfter": "retry_after",
    "retry_after": "retry_after",
    "latencyMs": "latency_ms",
    "latency_ms": "latency_ms",
    "drop": "drop",
    "truncate": "truncate",
    "html": "html",
    "rate": "rate",
    "paths": "paths",
    "methods": "methods",
    "count": "count",
}
_STATUSES = frozenset({429, 500, 502, 503, 504})


@attrs.define
class Fault:
    """One injected fault (see the module docstring for the meaning of each field)."""

    id: str
    status: int | None = None
    retry_after: float = 0.1
    latency_ms: float = 0.0
    drop: str | None = None
    truncate: bool = False
    html: int | None = None
    rate: float = 1.0
    paths: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    count: int | None = None
    fired: int = 0

    @property
    def kind(self) -> str:
        """``status``, ``html``, ``drop``, ``truncate`` or ``latency``."""
        if self.status is not None:
            return "status"
        if self.html is not None:
            return "html"
        if self.drop is not None:
            return "drop"
        if self.truncate:
            return "truncate"
        return "latency"

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to ``method path`` (rate and count aside)."""
        if self.count is not None and self.fired >= self.count:
            return False
        if self.methods and method.upper() not in self.methods:
            return False
        if not self.paths:
            return True
        return any(
            path == prefix
            or path.startswith(prefix.rstrip("/") + "/")
            or fnmatch.fnmatchcase(path, prefix)
            for prefix in self.paths
        )

    def to_json(self) -> dict[str, Any]:
        """The fault as ``GET /_emulator/faults`` lists it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "retryAfter": self.retry_after,
            "latencyMs": self.latency_ms,
            "drop": self.drop,
            "truncate": self.truncate,
            "html": self.html,
            "rate": self.rate,
            "paths": list(self.paths),
            "methods": list(self.methods),
            "count": self.count,
            "fired": self.fired,
        }


def _bad(field: str, message: str) -> EmulatorError:
    return EmulatorError("4002", f"Invalid fault: {message}", field=field)


def _number(spec: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(key, f"{key} must be a number between {low} and {high}")
    return float(value)


def _strings(spec: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = spec.get(key, ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise _bad(key, f"{key} must be a list of strings")
    return tuple(value)


def parse_fault(raw: Mapping[str, Any], fault_id: str) -> Fault:
    """Build a :class:`Fault` from its JSON or keyword form; raises 4002 when malformed."""
    spec: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _KEYS:
            raise _bad(key, f"unknown key {key!r}")
        spec[_KEYS[key]] = value
    fault = Fault(id=fault_id)
    status = spec.get("status")
    if status is not None:
        if isinstance(status, bool) or status not in _STATUSES:
            raise _bad("status", f"status must be one of {sorted(_STATUSES)}")
        fault.status = int(status)
    html = spec.get("html")
    if html is not None:
        if isinstance(html, bool) or not isinstance(html, int) or not 400 <= html <= 599:
            raise _bad("html", "html must be an HTTP error status (400-599)")
        fault.html = html
    drop = spec.get("drop")
    if drop is not None:
        if drop not in ("before_commit", "after_commit"):
            raise _bad("drop", "drop must be 'before_commit' or 'after_commit'")
        fault.drop = drop
    truncate = spec.get("truncate", False)
    if not isinstance(truncate, bool):
        raise _bad("truncate", "truncate must be a boolean")
    fault.truncate = truncate
    retry_after = _number(spec, "retry_after", 0, 3600)
    if retry_after is not None:
        fault.retry_after = retry_after
    fault.latency_ms = _number(spec, "latency_ms", 0, 600_000) or 0.0
    rate = _number(spec, "rate", 0, 1)
    fault.rate = 1.0 if rate is None else rate
    count = spec.get("count")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _bad("count", "count must be a positive integer")
        fault.count = count
    fault.paths = _strings(spec, "paths")
    fault.methods = tuple(m.upper() for m in _strings(spec, "methods"))
    terminal = [k for k in ("status", "html", "drop") if spec.get(k) is not None]
    if truncate:
        terminal.append("truncate")
    if len(terminal) > 1:
        raise _bad(terminal[1], f"one fault cannot combine {' and '.join(terminal)}")
    if not terminal and not fault.latency_ms:
        raise _bad("status", "a fault needs status, html, drop, truncate or latencyMs")
    return fault


@attrs.frozen
class Decision:
    """What the faults decided for one request: extra latency and at most one terminal fault."""

    latency_ms: float
    fault: Fault | None


class FaultSet:
    """The active faults and the seeded random generator that decides when they fire."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self.faults: list[Fault] = []
        self._next = 0

    def add(self, raw: Mapping[str, Any]) -> Fault:
        """Parse and activate a fault; return it (its ``id`` removes it later)."""
        self._next += 1
        fault = parse_fault(raw, f"fault-{self._next}")
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault (the generator keeps its sequence)."""
        self.faults.clear()

    def reset(self) -> None:
        """Remove every fault and restart the generator from the seed."""
        self.faults.clear()
        self.random = random.Random(self.seed)
        self._next = 0

    def decide(self, method: str, path: str) -> Decision:
        """Roll the dice for one request."""
        latency = 0.0
        chosen: Fault | None = None
        for fault in self.faults:
            if not fault.matches(method, path):
                continue
            if fault.rate < 1.0 and self.random.random() >= fault.rate:
                continue
            if fault.kind == "latency":
                fault.fired += 1
                latency += fault.latency_ms
            elif chosen is None:
                fault.fired += 1
                latency += fault.latency_ms
                chosen = fault
        return Decision(latency, chosen)
