"""
Batch launching: 200 launches (one upload + one create each) against the emulator with
50 ms of latency per answer, at concurrency 1 and 16. Prints JSON: wall time per run, the
speed-up (target >= 10x), and the client's peak RSS.

Topology (benchmark-protocol.md): the emulator runs in its own process
(``python -m consigno_async.emulator --latency-ms 50``), pinned to CPU 1 when ``taskset``
exists; each measured run is a fresh client process pinned to CPU 0, so its ``ru_maxrss``
is the peak of that run only. The emulator is reset between runs; runs are interleaved
(C=1, C=16, C=16, ...) and the C=16 figure is the median of its repeats.

    python benchmarks/bench_batch.py [--count 200] [--latency-ms 50] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pinned(cpu: int, argv: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu), *argv]
    return argv


async def child(base_url: str, password: str, count: int, concurrency: int) -> dict[str, Any]:
    """One measured run, in a fresh process: launch ``count`` workflows."""
    from consigno_async import Amr, ConsignoClient, WorkflowBuilder
    from consigno_async.batch import launch_many
    from consigno_async.pdfgen import Page, make_pdf

    pdf = make_pdf([Page(lines=["Benchmark contract", "Sign: {{sig}}"])])

    def items() -> Any:
        for i in range(count):
            yield (
                WorkflowBuilder(f"bench {concurrency} {i}")
                .document(pdf, key="c", file_name="c.pdf")
                .signer(
                    "s",
                    first_name="Ann",
                    last_name="Lee",
                    email="ann@example.com",
                    phone="+15145550100",
                    amr=[Amr.LINK, Amr.SMS],
                )
                .anchor("s", document="c", tag="{{sig}}")
            )

    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with ConsignoClient(
        base_url, username="demo", password=password, concurrency=max(concurrency, 1)
    ) as client:
        async for _ in client.list_workflows():  # log in before the clock starts
            break
        cpu = time.process_time()
        started = time.perf_counter()
        results = await launch_many(client, items(), concurrency=concurrency)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    failed = sum(not r.ok for r in results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "concurrency": concurrency,
        "count": count,
        "failed": failed,
        "wall_s": round(wall, 3),
        "client_cpu_s": round(cpu, 3),
        "launches_per_s": round(count / wall, 1),
        "rss_after_imports_mib": round(rss_start / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
    }


def start_emulator(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    argv = [sys.executable, "-m", "consigno_async.emulator", "--port", "0"]
    argv += ["--latency-ms", str(latency_ms), "--seed", "1"]
    proc = subprocess.Popen(_pinned(1, argv), stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    if not first.startswith("base_url="):
        proc.kill()
        raise SystemExit(f"emulator did not start: {first!r}")
    return proc, first.removeprefix("base_url=")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), or NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(base_url: str, count: int, concurrency: int, server_pid: int) -> dict[str, Any]:
    from consigno_async.emulator import EmulatorControl

    async def reset() -> None:
        async with EmulatorControl(base_url.split("/api/")[0]) as control:
            await control.reset()

    asyncio.run(reset())
    server_cpu = cpu_seconds(server_pid)
    argv = [sys.executable, __file__, "--child", str(concurrency), "--count", str(count)]
    argv += ["--base-url", base_url]
    out = subprocess.run(
        _pinned(0, argv),
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_PASSWORD": "demo-password"},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    busy = cpu_seconds(server_pid) - server_cpu
    result["server_cpu_s"] = round(busy, 2)
    result["server_cpu_share"] = round(busy / result["wall_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=3, help="runs at C=16 (median taken)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        password = os.environ["BENCH_PASSWORD"]
        print(json.dumps(asyncio.run(child(args.base_url, password, args.count, args.child))))
        return

    emulator, base_url = start_emulator(args.latency_ms)
    try:
        pid = emulator.pid
        serial = measure(base_url, args.count, 1, pid)
        concurrent = [measure(base_url, args.count, 16, pid) for _ in range(max(1, args.repeats))]
    finally:
        emulator.terminate()
        emulator.wait(10)
    median16 = statistics.median(r["wall_s"] for r in concurrent)
    import aiohttp

    report = {
        "benchmark": "bench_batch",
        "launches": args.count,
        "emulator_latency_ms": args.latency_ms,
        "c1": serial,
        "c16_runs": concurrent,
        "c16_median_wall_s": median16,
        "speedup_c16_vs_c1": round(serial["wall_s"] / median16, 2),
        "target_speedup": 10.0,
        "peak_rss_mib": {
            "c1": serial["peak_rss_mib"],
            "c16": max(r["peak_rss_mib"] for r in concurrent),
        },
        "all_launched": all(r["failed"] == 0 for r in [serial, *concurrent]),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "cpu": platform.processor() or platform.machine(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
