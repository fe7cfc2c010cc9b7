"""
The emulator's own throughput for ``GET /api/v1/workflows/{id}``: the ceiling the client's
benchmarks run under.

Topology (benchmark protocol §2.1): the emulator runs in its own process
(``python -m consigno_async.emulator``) pinned to CPU 1 with ``taskset`` when available; this
load client — raw aiohttp, no library code — is pinned to CPU 0. For concurrency 1 and 16 it
runs a bounded loop of requests, several rounds after a warm-up, and reports the median
requests per second, the spread, and the server's CPU use (from ``/proc/PID/stat``): a server
near 100 % of its core means the figure is the server's ceiling.

Usage: ``python benchmarks/bench_emulator.py [--requests N] [--rounds R]``; prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import time
from typing import Any

import aiohttp

from consigno_async.pdfgen import Page, make_pdf

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


async def _start_server() -> tuple[asyncio.subprocess.Process, str, bool]:
    command = [sys.executable, "-m", "consigno_async.emulator", "--port", "0", "--seed", "1"]
    pinned = shutil.which("taskset") is not None and (os.cpu_count() or 1) > 1
    if pinned:
        command = ["taskset", "-c", "1", *command]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
    if not line.startswith("base_url="):
        raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
    return process, line.removeprefix("base_url="), pinned


async def _prepare(session: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    async with session.post(
        f"{base}/auth/login", json={"username": "demo", "password": "demo-password"}
    ) as response:
        token = response.headers["X-Auth-Token"]
    form = aiohttp.FormData()
    form.add_field("file", make_pdf([Page(lines=["Bench"])]), filename="bench.pdf")
    async with session.post(
        f"{base}/documents", data=form, headers={"X-Auth-Token": token}
    ) as response:
        doc = (await response.json())["response"]["metadata"]["documentId"]
    signer = {
        "type": "esig",
        "firstName": "Ann",
        "lastName": "Lee",
        "email": "ann@example.com",
        "phone": "+15145550100",
        "amr": ["link", "sms"],
    }
    payload = {
        "name": "Benchmark",
        "status": 1,
        "documents": [
            {"documentId": doc, "fields": [{"x": 72, "y": 600, "page": "1", "assignedTo": "1"}]}
        ],
        "actions": [{"ref": "1", "step": 1, "zoneLabel": "Sign", "signer": signer}],
        "notifications": [],
    }
    async with session.post(
        f"{base}/workflows", json=payload, headers={"X-Auth-Token": token}
    ) as response:
        workflow_id = (await response.json())["response"]["id"]
    return token, workflow_id


async def _round(
    session: aiohttp.ClientSession, url: str, token: str, requests: int, concurrency: int
) -> float:
    headers = {"X-Auth-Token": token}
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"unexpected status {response.status}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def run(requests: int, rounds: int) -> dict[str, Any]:
    """Start the emulator, measure, stop it; return the result as a dict."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    process, base, pinned = await _start_server()
    results: dict[str, Any] = {}
    try:
        connector = aiohttp.TCPConnector(limit=16)
        async with aiohttp.ClientSession(connector=connector) as session:
            token, workflow_id = await _prepare(session, base)
            url = f"{base}/workflows/{workflow_id}"
            for concurrency in (1, 16):
                await _round(session, url, token, max(200, requests // 5), concurrency)
                rates, server_cpu, client_cpu = [], [], []
                for _ in range(rounds):
                    cpu_before = _cpu_seconds(process.pid)
                    mine_before = time.process_time()
                    wall = await _round(session, url, token, requests, concurrency)
                    server_cpu.append((_cpu_seconds(process.pid) - cpu_before) / wall)
                    client_cpu.append((time.process_time() - mine_before) / wall)
                    rates.append(requests / wall)
                median = statistics.median(rates)
                results[f"c{concurrency}"] = {
                    "requests_per_round": requests,
                    "rounds": rounds,
                    "req_per_s_median": round(median),
                    "req_per_s_min": round(min(rates)),
                    "req_per_s_max": round(max(rates)),
                    "spread": round((max(rates) - min(rates)) / median, 3),
                    "server_cpu_utilisation": round(statistics.median(server_cpu), 3),
                    "server_cpu_us_per_request": round(
                        statistics.median(server_cpu) / median * 1e6, 1
                    ),
                    "client_cpu_utilisation": round(statistics.median(client_cpu), 3),
                }
    finally:
        process.terminate()
        await process.wait()
    return {
        "benchmark": "emulator GET /api/v1/workflows/{id}",
        "server_pinned_cpu1": pinned,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "results": results,
    }


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per concurrency")
    args = parser.parse_args()
    import json

    print(json.dumps(asyncio.run(run(args.requests, args.rounds)), indent=2))


if __name__ == "__main__":
    main()
