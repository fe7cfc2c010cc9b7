"""The examples run as written against the emulator."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp import ClientSession, web

from consigno_async.archive import verify_archive
from consigno_async.emulator import Emulator

EXAMPLES = Path(__file__).parent.parent / "examples"


async def run_example(emu: Emulator, script: str, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "CONSIGNO_BASE_URL": emu.base_url,
        "CONSIGNO_USERNAME": emu.credentials.username,
        "CONSIGNO_PASSWORD": emu.credentials.password,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_batch_job_runs_and_resumes(consigno_emulator: Emulator, tmp_path: Path) -> None:
    journal = str(tmp_path / "batch.sqlite")
    contracts = str(tmp_path / "contracts")
    code, out, err = await run_example(
        consigno_emulator, "batch_job.py", contracts, "--generate", "6", "--journal", journal
    )
    assert code == 0, err
    assert len(out.splitlines()) == 6
    assert "6 launched, 0 failed" in err
    code, out, err = await run_example(
        consigno_emulator, "batch_job.py", contracts, "--journal", journal
    )
    assert code == 0, err
    assert out.count("(launched by an earlier run)") == 6
    assert (await consigno_emulator.stats())["workflows_created"] == 6


async def test_pipeline_launches_waits_and_archives(
    consigno_emulator: Emulator, tmp_path: Path
) -> None:
    out_dir = tmp_path / "evidence"
    code, out, err = await run_example(
        consigno_emulator,
        "pipeline.py",
        "--count",
        "4",
        "--out",
        str(out_dir),
        "--poll-interval",
        "0.05",
        "--emulator-sign",
    )
    assert code == 0, err
    assert "4 of 4 contracts signed and archived" in out
    bundles = sorted(out_dir.iterdir())
    assert len(bundles) == 4
    for bundle in bundles:
        assert verify_archive(bundle) == []


@pytest.fixture
def web_backend() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("web_backend")
    finally:
        sys.path.remove(str(EXAMPLES))


async def test_web_backend_keeps_one_client_and_launches_per_request(
    consigno_emulator: Emulator, web_backend: ModuleType, unused_tcp_port: int
) -> None:
    creds = consigno_emulator.credentials
    args = argparse.Namespace(
        base_url=consigno_emulator.base_url,
        username=creds.username,
        password=creds.password,
        tenant=None,
    )
    runner = web.AppRunner(web_backend.create_app(args))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    base = f"http://127.0.0.1:{unused_tcp_port}"
    person = {
        "first_name": "Alice",
        "last_name": "Martin",
        "email": "alice@example.com",
        "phone": "+15145550100",
    }
    try:
        async with ClientSession() as session:
            ids = []
            for _ in range(3):
                async with session.post(f"{base}/contracts", json=person) as resp:
                    assert resp.status == 201
                    body = await resp.json()
                    assert body["status"] == "LAUNCHED"
                    ids.append(body["id"])
            async with session.get(f"{base}/contracts/{ids[0]}") as resp:
                assert resp.status == 200
                assert (await resp.json())["id"] == ids[0]
            async with session.post(f"{base}/contracts", json={**person, "phone": "5"}) as resp:
                assert resp.status == 422
                codes = {v["code"] for v in (await resp.json())["violations"]}
                assert "invalid_phone" in codes
            async with session.post(f"{base}/contracts", json={"first_name": "X"}) as resp:
                assert resp.status == 400
    finally:
        await runner.cleanup()
    stats = await consigno_emulator.stats()
    assert stats["workflows_created"] == 3
    assert stats["logins"] == 1  # one client, one session, for the app's lifetime
