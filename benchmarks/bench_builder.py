"""
Benchmark of WorkflowBuilder: validation and serialization at 1,000 and 10,000 signers with
3 fields each (benchmark-protocol.md section 6).

Each figure is the median of 7 ``timeit`` rounds, each running the number of loops
``Timer.autorange`` picked; the two sizes run in turn, round by round, so that drift on a
shared machine hits both alike. Pure CPU, no network. The gate is linearity: the time for
10,000 signers must stay within 12 times the time for 1,000, estimated as the median of the
per-round ratios (each round times both sizes back to back). The ratio of the two medians is
reported too, but it flaps under load: one quiet 1k median and one busy 10k median, taken
minutes apart, made a 10.4x workload read 13.4x on a loaded 2-core machine. Also checks
(section 7) that the orjson bytes decode to the same object as the stdlib ``json`` output.

Run: ``PYTHONHASHSEED=0 .venv/bin/python benchmarks/bench_builder.py`` (prints JSON; exit
status 1 if the linearity gate fails). "validation" is ``builder.violations()`` (every rule),
"build" is validation plus making the frozen spec, "serialization" is ``to_payload()`` plus
``orjson.dumps``; the gate is on ``build()`` + ``to_payload()``, timed as ``timeit`` does,
with the cycle collector off. ``build_plus_to_payload_gc_on`` is the same work with the
collector on, as in a real program (informative).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

import _common
import orjson

from consigno_async import Amr, WorkflowBuilder
from consigno_async.pdfgen import Page, make_pdf

SIZES = (1_000, 10_000)
FIELDS_PER_SIGNER = 3
REPEATS = 7
RATIO_GATE = 12.0
BUDGET_1K_MS = 20.0
PDF = make_pdf([Page(612, 792, [f"Page {n}"]) for n in range(1, FIELDS_PER_SIGNER + 1)])


def make_builder(signers: int) -> WorkflowBuilder:
    """A valid builder: one 3-page document, ``signers`` signers with a field on each page."""
    builder = WorkflowBuilder("Benchmark").document(PDF, key="doc.pdf")
    for i in range(signers):
        key = f"s{i}"
        builder.signer(
            key,
            first_name="First",
            last_name=f"Last{i}",
            email=f"signer{i}@example.com",
            phone=f"+1514{i:07d}",
            amr=[Amr.LINK, Amr.SMS],
        )
        for page in range(1, FIELDS_PER_SIGNER + 1):
            builder.field(key, document="doc.pdf", page=page, x=72, y=100 + (i % 600))
    return builder


def interleaved_rounds(
    funcs: dict[int, Callable[[], Any]], *, collector: bool = False
) -> dict[int, list[float]]:
    """
    Per-call times of each function: ``Timer.autorange`` picks each one's loop count, then
    REPEATS rounds run them in turn (1k, 10k, 1k, 10k...) so drift hits both sizes alike.
    ``timeit`` turns the cycle collector off; ``collector=True`` keeps it on, as in a real
    program (where its full passes over a big heap show up).
    """
    setup: Callable[[], object] = gc.enable if collector else (lambda: None)
    timers = {size: timeit.Timer(func, setup=setup) for size, func in funcs.items()}
    loops = {size: timer.autorange()[0] for size, timer in timers.items()}
    rounds: dict[int, list[float]] = {size: [] for size in funcs}
    for _ in range(REPEATS):
        for size, timer in timers.items():
            rounds[size].append(timer.timeit(loops[size]) / loops[size])
    return rounds


def measure() -> dict[str, dict[str, Any]]:
    """All the figures, in milliseconds, by size then by measure."""
    ids = {"doc.pdf": "5f0c3d2e1a9b8c7d6e5f4a3b"}
    builders = {size: make_builder(size) for size in SIZES}
    specs = {size: builder.build() for size, builder in builders.items()}  # PDF read once
    payloads = {size: spec.to_payload(ids) for size, spec in specs.items()}
    result: dict[str, dict[str, Any]] = {str(size): {} for size in SIZES}
    for size, payload in payloads.items():
        fast, slow = orjson.dumps(payload), json.dumps(payload).encode()
        if orjson.loads(fast) != json.loads(slow):
            raise SystemExit("orjson and json disagree: the fast path drops something")
        result[str(size)]["payload_bytes"] = len(fast)

    def per_size(make: Callable[[int], Callable[[], Any]]) -> dict[int, Callable[[], Any]]:
        return {size: make(size) for size in SIZES}

    cases: dict[str, dict[int, Callable[[], Any]]] = {
        "chain_calls": per_size(lambda n: lambda: make_builder(n)),
        "validation": per_size(lambda n: builders[n].violations),
        "build": per_size(lambda n: builders[n].build),
        "serialization": per_size(lambda n: lambda: orjson.dumps(specs[n].to_payload(ids))),
        "to_payload": per_size(lambda n: lambda: specs[n].to_payload(ids)),
        "orjson_dumps": per_size(lambda n: lambda: orjson.dumps(payloads[n])),
        "json_dumps": per_size(lambda n: lambda: json.dumps(payloads[n])),
        "build_plus_to_payload": per_size(lambda n: lambda: builders[n].build().to_payload(ids)),
    }
    # The same gated work with the cycle collector on (informative, not gated).
    cases["build_plus_to_payload_gc_on"] = cases["build_plus_to_payload"]
    small, large = SIZES
    for name, funcs in cases.items():
        rounds = interleaved_rounds(funcs, collector=name.endswith("_gc_on"))
        for size, times in rounds.items():
            result[str(size)][name] = round(statistics.median(times) * 1000, 3)
        # Each round times both sizes back to back: the median of those paired ratios is
        # the steadiest view on a machine shared with other work.
        paired = [b / a for a, b in zip(rounds[small], rounds[large], strict=True)]
        result.setdefault("paired_ratio", {})[name] = round(statistics.median(paired), 2)
    return result


def main() -> int:
    """Run both sizes, print the JSON report, return 1 if the linearity gate fails."""
    by_size = measure()
    paired = by_size.pop("paired_ratio")
    small, large = by_size[str(SIZES[0])], by_size[str(SIZES[1])]
    ratios = {
        key: round(large[key] / small[key], 2)
        for key in (
            "validation",
            "serialization",
            "build",
            "to_payload",
            "build_plus_to_payload",
            "build_plus_to_payload_gc_on",
        )
    }
    report = {
        "benchmark": "builder",
        "unit": "ms per call (median of 7 interleaved timeit rounds, loops from autorange)",
        "fields_per_signer": FIELDS_PER_SIGNER,
        "sizes": by_size,
        "ratio_10k_over_1k": ratios,
        "median_of_paired_round_ratios": {key: paired[key] for key in ratios},
        "gate": {
            "ratio_max": RATIO_GATE,
            "gated": "build_plus_to_payload",
            "estimator": "median_of_paired_round_ratios",
            "ratio": paired["build_plus_to_payload"],
            "ratio_ok": paired["build_plus_to_payload"] <= RATIO_GATE,
            "budget_1k_build_ms": BUDGET_1K_MS,
            "budget_1k_ok": small["build"] < BUDGET_1K_MS,
            "note": "timing budgets are informative on a shared machine; only the ratio gates",
        },
        "environment": _common.environment(("attrs", "cattrs", "orjson", "pypdf")),
    }
    for label in ("validation", "serialization", "build_plus_to_payload"):
        print(
            f"{label:>21}: {small[label]:8.2f} ms @1k  {large[label]:8.2f} ms @10k  "
            f"ratio {ratios[label]:.2f}x",
            file=sys.stderr,
        )
    print(json.dumps(report, indent=2))
    return 0 if report["gate"]["ratio_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
