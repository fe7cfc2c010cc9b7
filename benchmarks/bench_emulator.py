"""
The emulator's own throughput for ``GET /api/v1/workflows/{id}``: the ceiling the client's
benchmarks run under.

Topology (benchmark protocol §2.1): the emulator runs in its own process
(``python -m consigno_async.emulator``) pinned to CPU 1 with ``taskset`` when available; this
load client — raw aiohttp, no library code — is pinned to CPU 0. For concurrency 1 and 16 it
runs a bounded loop of requests, several rounds after a warm-up, and reports the median
requests per second, the spread, and the server's CPU use (from ``/proc/PID/stat``): a server
near 100 % of its core means the figure is the server's ceiling. A bare aiohttp server
answering the same bytes, on the same core, is measured interleaved with the emulator, so the
ratio between the two (robust on a busy machine) shows what the emulator's own work costs.

Usage: ``python benchmarks/bench_emulator.py [--requests N] [--rounds R]``; prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import _common
import aiohttp
from _common import cpu_seconds, start_server_async

from consigno_async.pdfgen import Page, make_pdf

_BASELINE = """
import sys
from aiohttp import web

body = open(sys.argv[1], "rb").read()

async def handler(request):
    return web.Response(body=body, content_type="application/json")

async def start():
    app = web.Application()
    app.router.add_get("/api/v1/workflows/{id}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"base_url=http://127.0.0.1:{runner.addresses[0][1]}/api/v1", flush=True)
    await asyncio.Event().wait()

import asyncio
asyncio.run(start())
"""


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


def _summary(
    requests: int, rates: list[float], server_cpu: list[float], client_cpu: list[float]
) -> dict[str, Any]:
    median = statistics.median(rates)
    return {
        "req_per_s_median": round(median),
        "req_per_s_min": round(min(rates)),
        "req_per_s_max": round(max(rates)),
        "spread": round((max(rates) - min(rates)) / median, 3),
        "server_cpu_utilisation": round(statistics.median(server_cpu), 3),
        "server_cpu_us_per_request": round(statistics.median(server_cpu) / median * 1e6, 1),
        "client_cpu_utilisation": round(statistics.median(client_cpu), 3),
    }


async def run(requests: int, rounds: int, body_path: str) -> dict[str, Any]:
    """
    Start the emulator and a bare aiohttp server answering the same bytes, measure both
    interleaved, stop them; return the result as a dict.
    """
    _common.pin_self(0)
    emulator, base, pinned = await start_server_async(*_common.EMULATOR_ARGS)
    baseline: asyncio.subprocess.Process | None = None
    response_bytes = 0
    results: dict[str, Any] = {}
    try:
        connector = aiohttp.TCPConnector(limit=16)
        async with aiohttp.ClientSession(connector=connector) as session:
            token, workflow_id = await _prepare(session, base)
            url = f"{base}/workflows/{workflow_id}"
            async with session.get(url, headers={"X-Auth-Token": token}) as response:
                body = await response.read()
            response_bytes = len(body)
            await asyncio.to_thread(Path(body_path).write_bytes, body)
            baseline, bare_base, _ = await start_server_async("-c", _BASELINE, body_path)
            targets = {
                "emulator": (emulator, url),
                "bare_aiohttp": (baseline, f"{bare_base}/workflows/{workflow_id}"),
            }
            for concurrency in (1, 16):
                samples: dict[str, tuple[list[float], list[float], list[float]]] = {
                    name: ([], [], []) for name in targets
                }
                for _process, target in targets.values():
                    await _round(session, target, token, max(200, requests // 5), concurrency)
                for _ in range(rounds):
                    for name, (process, target) in targets.items():
                        rates, server_cpu, client_cpu = samples[name]
                        cpu_before = cpu_seconds(process.pid)
                        mine_before = time.process_time()
                        wall = await _round(session, target, token, requests, concurrency)
                        server_cpu.append((cpu_seconds(process.pid) - cpu_before) / wall)
                        client_cpu.append((time.process_time() - mine_before) / wall)
                        rates.append(requests / wall)
                entry = {name: _summary(requests, *samples[name]) for name in targets}
                emu, bare = entry["emulator"], entry["bare_aiohttp"]
                entry["emulator_vs_bare_req_per_s"] = round(
                    emu["req_per_s_median"] / bare["req_per_s_median"], 3
                )
                entry["emulator_vs_bare_server_cpu_per_request"] = round(
                    emu["server_cpu_us_per_request"] / bare["server_cpu_us_per_request"], 2
                )
                results[f"c{concurrency}"] = entry
    finally:
        for process in (emulator, baseline):
            if process is not None:
                process.terminate()
                await process.wait()
    return {
        "benchmark": "emulator GET /api/v1/workflows/{id}",
        "requests_per_round": requests,
        "rounds": rounds,
        "response_bytes": response_bytes,
        "server_pinned_cpu1": pinned,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "cpu": _common.cpu_model(),
        "cpus": os.cpu_count(),
        "results": results,
    }


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per concurrency")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        result = asyncio.run(run(args.requests, args.rounds, os.path.join(scratch, "body.json")))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
