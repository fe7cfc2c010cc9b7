"""The `consigno` command: every subcommand against the emulator, exit codes, secrecy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from batch_support import write_workflow_toml
from click.testing import CliRunner, Result

from consigno_async.archive import verify_archive
from consigno_async.cli import main
from consigno_async.emulator import Emulator
from consigno_async.errors import WorkflowValidationError
from consigno_async.workflow_file import load_workflow_file, parse_workflow

T = TypeVar("T")
SECRET = "demo-password"


class ThreadedEmulator:
    """An emulator on its own event loop in a thread, so that sync CLI tests can use it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.emulator = Emulator()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.emulator.start())
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.emulator.close())
        self.loop.close()

    def __enter__(self) -> ThreadedEmulator:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)


@pytest.fixture(scope="module")
def emu() -> Iterator[ThreadedEmulator]:
    with ThreadedEmulator() as threaded:
        yield threaded


@pytest.fixture
def runner(emu: ThreadedEmulator) -> CliRunner:
    creds = emu.emulator.credentials
    assert creds.password == SECRET
    return CliRunner(
        env={
            "CONSIGNO_BASE_URL": emu.emulator.base_url,
            "CONSIGNO_USERNAME": creds.username,
            "CONSIGNO_PASSWORD": creds.password,
            "CONSIGNO_TENANT": None,
        }
    )


def invoke(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, list(args), catch_exceptions=False)
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    return result


def launched_id(runner: CliRunner, tmp_path: Path, name: str = "CLI contract") -> str:
    toml = write_workflow_toml(tmp_path, name)
    result = invoke(runner, "launch", str(toml), "--json")
    assert result.exit_code == 0, result.stderr
    rows = orjson.loads(result.stdout)
    return str(rows[0]["workflowId"])


def test_help_and_version() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "launch", "status", "wait", "download", "archive", "emulator"):
        assert command in result.stdout
    assert CliRunner().invoke(main, ["--version"]).stdout.startswith("consigno, version")


def test_missing_settings_is_a_usage_error_on_one_line() -> None:
    result = CliRunner(env={"CONSIGNO_BASE_URL": None, "CONSIGNO_PASSWORD": None}).invoke(
        main, ["status", "a" * 24]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: missing connection settings")
    assert "CONSIGNO_PASSWORD" in result.stderr
    assert result.stderr.count("\n") == 1


def test_launch_status_wait_download_archive(
    runner: CliRunner, emu: ThreadedEmulator, tmp_path: Path
) -> None:
    workflow_id = launched_id(runner, tmp_path)

    status = invoke(runner, "status", workflow_id, "--json")
    assert status.exit_code == 0
    data = orjson.loads(status.stdout)
    assert data["id"] == workflow_id
    assert data["status"] == 1
    text = invoke(runner, "status", workflow_id)
    assert "LAUNCHED" in text.stdout
    assert "alice@example.com" in text.stdout

    timed_out = invoke(runner, "wait", workflow_id, "--timeout", "0.3", "--poll-interval", "0.05")
    assert timed_out.exit_code == 1
    assert "did not finish" in timed_out.stderr

    emu.call(emu.emulator.sign(workflow_id))
    waited = invoke(runner, "wait", workflow_id, "--poll-interval", "0.05", "--json")
    assert waited.exit_code == 0
    assert orjson.loads(waited.stdout)["status"] == 2

    dest = tmp_path / "dl"
    downloaded = invoke(runner, "download", workflow_id, str(dest), "--audit", "--json")
    assert downloaded.exit_code == 0, downloaded.stderr
    files = orjson.loads(downloaded.stdout)
    assert len(files) == 2
    for entry in files:
        assert Path(entry["path"]).read_bytes().startswith(b"%PDF-")
        assert len(entry["sha256"]) == 64

    bundle = tmp_path / "evidence"
    archived = invoke(runner, "archive", workflow_id, str(bundle), "--json")
    assert archived.exit_code == 0, archived.stderr
    manifest = orjson.loads(archived.stdout)
    assert manifest["workflow"]["id"] == workflow_id
    assert {f["role"] for f in manifest["files"]} == {"signed-documents", "audit-trail", "workflow"}
    assert verify_archive(bundle) == []
    again = invoke(runner, "archive", workflow_id, str(bundle))
    assert again.exit_code == 1
    assert "already exists" in again.stderr


def test_declined_workflow_makes_wait_fail(
    runner: CliRunner, emu: ThreadedEmulator, tmp_path: Path
) -> None:
    workflow_id = launched_id(runner, tmp_path, "to decline")
    emu.call(emu.emulator.decline(workflow_id))
    result = invoke(runner, "wait", workflow_id, "--poll-interval", "0.05")
    assert result.exit_code == 1
    assert "DECLINED" in result.stdout
    assert "ended DECLINED" in result.stderr


def test_service_errors_exit_1_on_one_line(runner: CliRunner) -> None:
    result = invoke(runner, "status", "0" * 24)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: NotFoundError")
    assert result.stderr.count("\n") == 1
    bad_id = invoke(runner, "status", "../../etc/passwd")
    assert bad_id.exit_code == 2


def test_launch_many_files_with_a_journal(runner: CliRunner, tmp_path: Path) -> None:
    files = []
    for i in range(3):
        folder = tmp_path / f"w{i}"
        folder.mkdir()
        files.append(str(write_workflow_toml(folder, f"journaled {i}")))
    journal = str(tmp_path / "cli.sqlite")
    first = invoke(runner, "launch", *files, "--journal", journal)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.count("\n") == 3
    second = invoke(runner, "launch", *files, "--journal", journal, "--json")
    assert second.exit_code == 0
    assert all(row["skipped"] for row in orjson.loads(second.stdout))


def test_invalid_workflow_file_exits_2_with_violations(runner: CliRunner, tmp_path: Path) -> None:
    toml = write_workflow_toml(tmp_path)
    text = toml.read_text().replace('phone = "+15145550100"', 'phone = "514"')
    text = text.replace('first_name = "Alice"', 'first_name = "Alice"\nnickname = "Al"')
    toml.write_text(text)
    result = invoke(runner, "launch", str(toml))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "signers[0].nickname" in result.stderr
    assert "[invalid_file]" in result.stderr
    toml.write_text(text.replace("nickname", "# nickname"))
    result = invoke(runner, "launch", str(toml))
    assert result.exit_code == 2
    assert "invalid_phone" in result.stderr
    good_dir = tmp_path / "good"
    good_dir.mkdir()
    good = write_workflow_toml(good_dir)
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": 3}')
    both = invoke(runner, "launch", str(good), str(toml), str(broken))
    assert both.exit_code == 2
    assert both.stdout == ""  # nothing launched while a file is invalid
    lines = both.stderr.splitlines()
    assert len(lines) == 2
    assert "contract.toml" in lines[0]
    assert "broken.json" in lines[1]
    missing = invoke(runner, "launch", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: Invalid value for 'FILES...'")
    assert missing.stderr.count("\n") == 1
    unknown = invoke(runner, "frobnicate")
    assert unknown.exit_code == 2
    assert unknown.stderr.count("\n") == 1


def test_workflow_file_formats(tmp_path: Path) -> None:
    toml = write_workflow_toml(tmp_path)
    spec = load_workflow_file(toml).build()
    assert spec.name == "Contract from a file"
    assert spec.launch
    payload = spec.to_payload({"contract.pdf": "a" * 24})
    assert [a["step"] for a in payload["actions"]] == [1, 2]
    assert payload["messageToSigners"] == "Please sign."
    assert payload["notifications"][0]["contact"]["email"] == "carol@example.com"
    as_json = tmp_path / "draft.json"
    data = {
        "name": "Draft",
        "launch": False,
        "documents": [{"path": "contract.pdf", "key": "c"}],
        "webhooks": ["https://app.example.com/hook"],
    }
    as_json.write_bytes(orjson.dumps(data))
    draft = load_workflow_file(as_json).build()
    assert not draft.launch
    hooks = draft.to_payload({"c": "b" * 24})["webhooks"]
    assert [h["url"] for h in hooks] == ["https://app.example.com/hook"]
    (tmp_path / "broken.toml").write_text("name = ")
    with pytest.raises(WorkflowValidationError, match="not valid TOML"):
        load_workflow_file(tmp_path / "broken.toml")
    with pytest.raises(WorkflowValidationError) as info:
        parse_workflow({"documents": "x", "signers": [{"first_name": "A"}], "launch": "yes"})
    paths = {v.path for v in info.value.violations}
    assert paths == {"name", "documents", "signers[0].key", "launch"}


def test_emulator_command_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "consigno_async.cli", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("base_url=http://127.0.0.1:")
        assert first.rstrip().endswith("/api/v1")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--count", "5", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "completed" in result.stdout
    assert "throughput" in result.stdout
    bundles = [p for p in out.iterdir() if p.is_dir()]
    assert len(bundles) == 5
    for bundle in bundles:
        assert verify_archive(bundle) == []
    result = CliRunner().invoke(main, ["demo", "--count", "5", "--out", str(out), "--json"])
    summary = orjson.loads(result.stdout)
    assert (summary["launched"], summary["completed"], summary["verified"]) == (5, 5, 5)
    assert summary["webhook_events"] >= 5


def test_refused_credentials_exit_1_without_echoing_them(emu: ThreadedEmulator) -> None:
    wrong = "not-the-password-4242"
    runner = CliRunner(
        env={
            "CONSIGNO_BASE_URL": emu.emulator.base_url,
            "CONSIGNO_USERNAME": "demo",
            "CONSIGNO_PASSWORD": wrong,
        }
    )
    result = runner.invoke(main, ["status", "a" * 24, "--json"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: AuthenticationError")
    assert result.stderr.count("\n") == 1
    assert wrong not in result.stdout + result.stderr
    flag = CliRunner(env={"CONSIGNO_PASSWORD": None}).invoke(
        main,
        [
            "status",
            "a" * 24,
            "--base-url",
            emu.emulator.base_url,
            "--username",
            "demo",
            "--password",
            wrong,
        ],
    )
    assert flag.exit_code == 1
    assert wrong not in flag.stdout + flag.stderr
