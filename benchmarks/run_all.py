"""
Run every benchmark of the project, one after the other, each in a fresh process.

Usage: ``python benchmarks/run_all.py [NAME ...]`` (names such as ``builder`` or ``client``;
all when none is given). Each script's output is printed and also saved to
``benchmarks/results/<name>.txt`` (a folder git ignores), with the exit code, so two runs can
be compared side by side. ``PYTHONHASHSEED`` is fixed, per the benchmark protocol; run on an
otherwise idle machine, without coverage or xdist.

Exit status: 0 when every benchmark met its own gate, 1 otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# Order matters a little: the emulator's ceiling first, so later figures can be read against it.
BENCHMARKS = ("builder", "emulator", "client", "batch")


def run(name: str) -> int:
    """Run ``bench_<name>.py`` in a fresh interpreter; save and echo its output."""
    script = HERE / f"bench_{name}.py"
    env = dict(os.environ, PYTHONHASHSEED="0")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    RESULTS.mkdir(exist_ok=True)
    report = (
        f"# bench_{name}.py exit={proc.returncode} wall={elapsed:.1f}s\n"
        f"{proc.stdout}\n{proc.stderr if proc.returncode else ''}"
    )
    (RESULTS / f"{name}.txt").write_text(report)
    print(report, flush=True)
    return proc.returncode


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default) and return 1 if any failed its gate."""
    names = argv or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    failures = [name for name in names if run(name) != 0]
    if failures:
        print(f"benchmarks that missed their gate or failed: {', '.join(failures)}")
        return 1
    print("all benchmarks ran and met their gates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
