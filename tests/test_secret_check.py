"""The suite-wide secret check itself: it finds planted secrets, and a leak fails a run."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from secret_check import (
    SECRET_MARKER,
    RecordCollector,
    SecretRegistry,
    default_registry,
    find_leaks,
    format_record,
)

from consigno_async.emulator import tokens as emulator_tokens
from consigno_async.emulator.state import Clock, Stats

TESTS = Path(__file__).parent


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("consigno_async.http", logging.DEBUG, "x.py", 7, msg, args, exc_info)


def _issued_token(registry: SecretRegistry) -> str:
    """A token issued by a real TokenService, seen by the registry through the observer hook."""
    service = emulator_tokens.TokenService(emulator_tokens.Credentials(), Clock(), Stats())
    emulator_tokens.TOKEN_OBSERVERS.append(registry.add_token)
    try:
        token, _ = service.issue("demo", None, False)
    finally:
        emulator_tokens.TOKEN_OBSERVERS.remove(registry.add_token)
    return token


def test_every_issued_token_is_registered_and_found_however_it_is_logged() -> None:
    registry = default_registry()
    token = _issued_token(registry)
    assert registry.tokens == 1
    header, payload, signature = token.split(".")
    try:
        raise RuntimeError(f"bad answer for token {token}")
    except RuntimeError as exc:
        in_traceback = format_record(_record("request failed", exc=exc))
    planted = [
        format_record(_record("sending %s", {"X-Auth-Token": token})),
        in_traceback,
        format_record(_record("glued: token=" + payload + "xyz")),
        format_record(_record("signature only: " + signature)),
    ]
    leaks = find_leaks(planted, registry)
    assert len(leaks) == len(planted)
    assert all("emulator token #1" in line for line in leaks)
    assert not any(payload in line or signature in line for line in leaks)  # never shown
    # The header segment is the same for every HS256 token: not a secret on its own.
    assert find_leaks([f"alg header {header}", "GET /workflows -> 200"], registry) == []


def test_fixed_secrets_and_the_marker_are_found() -> None:
    registry = default_registry()
    texts = [
        format_record(_record("login as %s / %s", "demo", "demo-password")),
        format_record(_record("loginAs secret demo-platform-secret")),
        format_record(_record("answer %r", "Rex-the-first-dog")),
        format_record(_record("answer my-S3CRET? no; my-" + SECRET_MARKER + "-answer")),
        format_record(_record("workflow %s created", "0123456789abcdef01234567")),
    ]
    leaks = find_leaks(texts, registry)
    assert len(leaks) == 4
    assert "the emulator's password" in leaks[0]
    assert "client secret" in leaks[1]
    assert "KNOWN_SECRETS[0]" in leaks[2]
    assert "DEBUG consigno_async.http x.py:7" in leaks[3]


def test_the_collector_keeps_formatted_records_with_their_traceback() -> None:
    collector = RecordCollector()
    logger = logging.getLogger("consigno_async.test_secret_check")
    logger.addHandler(collector)
    logger.propagate = False  # this planted secret must not reach the session's own check
    try:
        try:
            raise ValueError("boom-Swordfish-42")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(collector)
        logger.propagate = True
    (text,) = collector.texts
    assert "Traceback" in text
    assert "boom-Swordfish-42" in text
    assert find_leaks(collector.texts, default_registry())


def _run_pytest(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(
        "from secret_check import pytest_configure, pytest_sessionfinish, pytest_unconfigure\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_planted.py").write_text(body)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(TESTS), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_leak_fails_the_whole_run_and_a_clean_run_passes(tmp_path: Path) -> None:
    leak = _run_pytest(
        tmp_path,
        "import logging\n"
        "def test_leaks():\n"
        "    logging.getLogger('consigno_async.client').debug('answer: %s', 'my-s3cret-pet')\n",
    )
    assert leak.returncode == 1, leak.stdout + leak.stderr
    assert "1 passed" in leak.stdout  # the test itself passed: the check failed the run
    assert "SECRETS IN LOG RECORDS" in leak.stdout
    assert "DEBUG consigno_async.client" in leak.stdout
    assert "my-s3cret-pet" not in leak.stdout + leak.stderr

    clean = _run_pytest(
        tmp_path,
        "import logging\n"
        "def test_clean():\n"
        "    logging.getLogger('consigno_async.client').debug('GET /workflows -> 200')\n",
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 log records, 0 tokens, 0 leaks" in clean.stdout
