"""
ConsignoClient's overhead, measured as a ratio to hand-written raw aiohttp calls.

Topology (benchmark protocol §2): the emulator runs in its own process
(``python -m consigno_async.emulator``) pinned to CPU 1 with ``taskset``; this process is
pinned to CPU 0. Both variants share one ``TCPConnector(limit=C)`` per run and send the same
bytes and headers:

- ``raw``: ``session.get/post`` + status check + ``orjson.loads`` + the envelope's
  ``response`` member (what a careful user writes by hand); for create, the body is built
  from the same spec on every call (``orjson.dumps(spec.to_payload())``), as the client does:
  same work by hand. ``raw_prebuilt`` (create only, for reference) serializes it once;
- ``raw_model``: the same, plus ``structure(..., Workflow)`` into the client's attrs model (to
  tell the cost of typed models from the cost of the client's machinery);
- ``client``: ``ConsignoClient.get_workflow`` / ``create_workflow`` (token management,
  retry loop, hooks check, decoding, structuring into attrs models; for create, also the
  spec's ``to_payload``).

Before timing, ``same_method_url_headers_body`` checks on a traced session (the timed ones
carry no tracing) that every raw variant sends exactly what the client sends: method, URL,
all headers and the body bytes.

For ``get_workflow`` and ``create_workflow`` at concurrency 1 and 16, the variants run
interleaved (raw, client, client, raw, ...) after a warm-up, ``--rounds`` times; the median
wall-time ratio and the client CPU µs per request (``time.process_time``) are reported, with
the spread and the server's CPU use (a server near 100 % of its core means the run measured
the server, and the wall ratio understates the client's cost: look at the CPU ratio).

Then the peak RSS growth of a 200 MB (and a 50 MB) upload and download, each in a fresh
process (``ru_maxrss`` minus the RSS after imports and a warm-up call). The file is written
first and read once, so the page cache holds it; only the client process is measured.

Usage: ``python benchmarks/bench_client.py [--requests N] [--rounds R] [--skip-rss]``;
prints JSON. Targets: ratio <= 1.10; RSS growth < 16 MiB; 50 vs 200 MB within 4 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import _common
import aiohttp
import orjson
from _common import cpu_seconds, peak_rss, rss_now

from consigno_async import Amr, ConsignoClient, WorkflowBuilder
from consigno_async.emulator import EmulatorControl
from consigno_async.pdfgen import Page, make_pdf, write_large_pdf
from consigno_async.responses import Workflow, structure

_PDF = make_pdf([Page(lines=["Benchmark agreement"])])
USER, PASSWORD = "demo", "demo-password"
MiB = 1024 * 1024


def _one_signer(name: str, source: str | bytes, key: str) -> WorkflowBuilder:
    """A workflow of one document ``key`` and one signer with a field on its first page."""
    return (
        WorkflowBuilder(name)
        .document(source, key=key)
        .signer(
            "a",
            first_name="A",
            last_name="B",
            email="a@example.com",
            phone="+15145550100",
            amr=[Amr.LINK, Amr.SMS],
        )
        .field("a", document=key, page=1, x=72, y=650)
    )


def _spec() -> Any:
    return _one_signer("Bench", _PDF, "bench.pdf").inline_documents().build()


async def _run(
    concurrency: int, total: int, call: Callable[[], Awaitable[Any]]
) -> tuple[float, float]:
    per_task = total // concurrency

    async def worker() -> None:
        for _ in range(per_task):
            await call()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu


async def _same_requests(base_url: str) -> dict[str, bool]:
    """
    Check that each raw variant sends what the client sends: method, URL, every header and
    the body bytes, as aiohttp's tracing sees them leave (on a separate, traced session: the
    timed sessions carry no tracing).
    """
    sent: list[tuple[str, str, list[tuple[str, str]], bytes]] = []
    body: list[bytes] = []

    async def on_headers(_s: Any, _c: Any, params: aiohttp.TraceRequestHeadersSentParams) -> None:
        body.clear()
        sent.append((params.method, str(params.url), sorted(params.headers.items()), b""))

    async def on_chunk(_s: Any, _c: Any, params: aiohttp.TraceRequestChunkSentParams) -> None:
        body.append(params.chunk)
        method, url, headers, _ = sent[-1]
        sent[-1] = (method, url, headers, b"".join(body))

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(on_headers)
    trace.on_request_chunk_sent.append(on_chunk)
    same: dict[str, bool] = {}
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = ConsignoClient(base_url, username=USER, password=PASSWORD, session=session)
        async with client:
            cases = await _cases(base_url, session, client)
            for operation, variants in cases.items():
                seen = {}
                for name, call in variants.items():
                    sent.clear()
                    await call()
                    seen[name] = sent[-1]
                for name, request in seen.items():
                    if name != "client":
                        same[f"{operation}:{name}"] = request == seen["client"]
    if not all(same.values()):
        print(f"WARNING: the variants do not send the same requests: {same}", file=sys.stderr)
    return same


async def _overhead(
    base_url: str, server_pid: int, total: int, rounds: int
) -> list[dict[str, Any]]:
    results = []
    for concurrency in (1, 16):
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = ConsignoClient(
                base_url,
                username=USER,
                password=PASSWORD,
                session=session,
                concurrency=concurrency,
            )
            async with client:
                cases = await _cases(base_url, session, client)
                for operation, variants in cases.items():
                    count = total if operation == "get_workflow" else total // 2
                    count -= count % concurrency
                    result = await _compare(variants, concurrency, count, rounds, server_pid)
                    results.append({"operation": operation, "concurrency": concurrency, **result})
                    print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    return results


async def _cases(
    base_url: str, session: aiohttp.ClientSession, client: ConsignoClient
) -> dict[str, dict[str, Callable[[], Awaitable[Any]]]]:
    """The two operations, each as a raw call and a client call sending the same bytes."""
    spec = _spec()
    prebuilt_body = orjson.dumps(spec.to_payload())
    workflow = await client.create_workflow(spec)
    held = client._auth.peek()
    assert held is not None
    get_url = f"{base_url}/workflows/{workflow.id}"
    create_url = f"{base_url}/workflows"
    headers = {"Accept": "application/json", "X-Auth-Token": held[0]}
    post_headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-Auth-Token": held[0],
    }

    async def raw_get() -> Any:
        async with session.get(get_url, headers=headers) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(resp.status)
            return orjson.loads(body)["response"]

    # Same work by hand: the body is built from the spec on every call, as the client does.
    async def raw_create() -> Any:
        data = orjson.dumps(spec.to_payload())
        async with session.post(create_url, data=data, headers=post_headers) as resp:
            body = await resp.read()
            if resp.status != 201:
                raise RuntimeError(resp.status)
            return orjson.loads(body)["response"]

    # For reference only: the body serialized once, outside the loop (less work than the
    # client does, so not the baseline of the ratio).
    async def raw_create_prebuilt() -> Any:
        async with session.post(create_url, data=prebuilt_body, headers=post_headers) as resp:
            body = await resp.read()
            if resp.status != 201:
                raise RuntimeError(resp.status)
            return orjson.loads(body)["response"]

    async def raw_get_model() -> Any:
        async with session.get(get_url, headers=headers) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(resp.status)
            return structure(orjson.loads(body)["response"], Workflow)

    async def raw_create_model() -> Any:
        data = orjson.dumps(spec.to_payload())
        async with session.post(create_url, data=data, headers=post_headers) as resp:
            body = await resp.read()
            if resp.status != 201:
                raise RuntimeError(resp.status)
            return structure(orjson.loads(body)["response"], Workflow)

    async def client_get() -> Any:
        return await client.get_workflow(workflow.id)

    async def client_create() -> Any:
        return await client.create_workflow(spec)

    return {
        "get_workflow": {"raw": raw_get, "raw_model": raw_get_model, "client": client_get},
        "create_workflow": {
            "raw": raw_create,
            "raw_model": raw_create_model,
            "client": client_create,
            "raw_prebuilt": raw_create_prebuilt,
        },
    }


async def _compare(
    variants: dict[str, Callable[[], Awaitable[Any]]],
    concurrency: int,
    count: int,
    rounds: int,
    server_pid: int,
) -> dict[str, Any]:
    """Warm up, then run raw and client interleaved ``rounds`` times; medians and spread."""
    for call in variants.values():
        await _run(concurrency, max(concurrency, count // 10), call)
    names = list(variants)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    server_cpu = server_wall = 0.0
    for round_ in range(rounds):
        # Interleaved, the order reversed every other round, so drift hits every variant.
        for name in names if round_ % 2 == 0 else names[::-1]:
            before, started = cpu_seconds(server_pid), time.perf_counter()
            samples[name].append(await _run(concurrency, count, variants[name]))
            server_cpu += cpu_seconds(server_pid) - before
            server_wall += time.perf_counter() - started
    med = statistics.median

    def ratios(base: str, index: int) -> list[float]:
        pairs = zip(samples[base], samples["client"], strict=True)
        return [c[index] / r[index] for r, c in pairs]

    def per_request_us(name: str) -> float:
        return round(med(s[1] for s in samples[name]) / count * 1e6, 1)

    wall_ratios = ratios("raw", 0)
    extra: dict[str, Any] = {}
    if "raw_prebuilt" in samples:
        extra["wall_ratio_vs_raw_prebuilt_body"] = round(med(ratios("raw_prebuilt", 0)), 3)
        extra["raw_prebuilt_body_cpu_us_per_req"] = per_request_us("raw_prebuilt")
    return {
        "requests_per_round": count,
        "wall_ratio_median": round(med(wall_ratios), 3),
        "wall_ratio_range": [round(min(wall_ratios), 3), round(max(wall_ratios), 3)],
        "cpu_ratio_median": round(med(ratios("raw", 1)), 3),
        "wall_ratio_vs_raw_model": round(med(ratios("raw_model", 0)), 3),
        "cpu_ratio_vs_raw_model": round(med(ratios("raw_model", 1)), 3),
        "raw_req_per_s": round(count / med(s[0] for s in samples["raw"])),
        "client_req_per_s": round(count / med(s[0] for s in samples["client"])),
        "raw_cpu_us_per_req": per_request_us("raw"),
        "raw_model_cpu_us_per_req": per_request_us("raw_model"),
        "client_cpu_us_per_req": per_request_us("client"),
        "server_cpu_utilisation": round(server_cpu / server_wall, 2),
        **extra,
    }


# --------------------------------------------------------------------- RSS (child processes)


async def _child(mode: str, base_url: str, target: str) -> dict[str, Any]:
    async with ConsignoClient(base_url, username=USER, password=PASSWORD) as client:
        await client.list_workflow_page()  # warm-up: login, connection, code paths
        if mode == "upload":
            await client.upload_document(_PDF, file_name="warm.pdf")
            baseline = rss_now()
            started = time.perf_counter()
            meta = await client.upload_document(target)
            elapsed = time.perf_counter() - started
            peak = peak_rss()
            extra = {"bytes": meta.file_size}
        else:
            workflow_id, out = target.split("|", 1)
            baseline = rss_now()
            started = time.perf_counter()
            result = await client.download_documents(workflow_id, out)
            elapsed = time.perf_counter() - started
            peak = peak_rss()
            extra = {"bytes": result.size}
            os.unlink(result)
    return {
        "baseline_mib": round(baseline / MiB, 1),
        "peak_mib": round(peak / MiB, 1),
        "growth_mib": round((peak - baseline) / MiB, 2),
        "seconds": round(elapsed, 3),
        **extra,
    }


def _warm_page_cache(path: str) -> None:
    with open(path, "rb") as handle:
        while handle.read(8 * MiB):
            pass


def _spawn(mode: str, base_url: str, target: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--base-url",
        base_url,
        "--target",
        target,
    ]
    command, _pinned = _common.pinned_command(command, 0)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


async def _rss(base_url: str, workdir: str) -> list[dict[str, Any]]:
    results = []
    for size_mb in (50, 200):
        path = os.path.join(workdir, f"doc-{size_mb}.pdf")
        # A valid PDF of that size, read once so the page cache holds it (disk I/O excluded).
        write_large_pdf(path, size_mb * 1_000_000)
        _warm_page_cache(path)
        up = _spawn("upload", base_url, path)
        # The download: a completed workflow whose only document is the big file.
        async with ConsignoClient(base_url, username=USER, password=PASSWORD) as client:
            meta = await client.upload_document(path)
            spec = _one_signer(f"Big {size_mb}", path, "big.pdf").build()
            workflow = await client.create_workflow(spec, document_ids={"big.pdf": meta.id})
        async with EmulatorControl(base_url.removesuffix("/api/v1")) as control:
            await control.sign(workflow.id)
        down = _spawn("download", base_url, f"{workflow.id}|{workdir}/out/")
        results.append({"size_mb": size_mb, "upload": up, "download": down})
        os.unlink(path)
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    # Many short rounds rather than a few long ones: on a shared machine a burst of load from
    # another process then spoils one pair of samples, not the median.
    parser.add_argument("--requests", type=int, default=480, help="per round (get; create /2)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--child", choices=["upload", "download"])
    parser.add_argument("--base-url")
    parser.add_argument("--target")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(await _child(args.child, args.base_url, args.target)))
        return
    _common.pin_self(0)
    with tempfile.TemporaryDirectory(prefix="bench-client-") as workdir:
        data_dir = os.path.join(workdir, "emulator")
        server, base_url, pinned = _common.start_server(
            *_common.EMULATOR_ARGS, "--data-dir", data_dir
        )
        try:
            report: dict[str, Any] = {
                "python": platform.python_version(),
                "aiohttp": aiohttp.__version__,
                "cpu": _common.cpu_model(),
                "pinned": pinned,
                "load_average_before": _common.load_average(),
                "same_method_url_headers_body": await _same_requests(base_url),
                "overhead": await _overhead(base_url, server.pid, args.requests, args.rounds),
            }
            if not args.skip_rss:
                report["rss"] = await _rss(base_url, workdir)
                report["rss_note"] = "file pre-read into the page cache; client process only"
        finally:
            server.terminate()
            server.wait(10)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
