"""
The suite-wide secret check (issue 4: "the whole suite's log output at DEBUG through a check
that no secret appears"). Not a test file: ``conftest.py`` installs it as a plugin.

For the whole session the ``consigno_async`` logger is at DEBUG and a handler on the root
logger keeps every record that reaches it, formatted with its traceback. The registry of
secrets holds the emulator's default password and client secret, every token any emulator in
the process issued (through :data:`consigno_async.emulator.tokens.TOKEN_OBSERVERS`), the
secret answers and passwords the tests use, and anything containing :data:`SECRET_MARKER`.
At session end a record carrying any of them fails the run; the report names the kind of
secret and the record, never the secret itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import pytest

from consigno_async.emulator import tokens as emulator_tokens

#: By convention, any test string containing this marker is a secret (``"my-s3cret-answer"``).
SECRET_MARKER = "s3cret"

#: Secret answers and passwords the tests send that predate the marker convention.
KNOWN_SECRETS = (
    "Rex-the-first-dog",
    "Rex the first dog",
    "Rex-the-dog",
    "Rex-the-secret-dog",
    "Swordfish-42",
    "Hunter2-xyz",
    "not-the-password",
)

# A JWT's payload segment starts with base64url('{"'); read greedily to the next non-base64url.
_JWT_SEGMENT = re.compile(r"eyJ[A-Za-z0-9_-]+")
_B64URL_RUN = re.compile(r"[A-Za-z0-9_-]{32,}")
_FORMAT = logging.Formatter("%(levelname)s %(name)s %(filename)s:%(lineno)d %(message)s")


class SecretRegistry:
    """What must never appear in a log record: fixed strings and the tokens' segments."""

    def __init__(self) -> None:
        self.fixed: dict[str, str] = {}
        self.token_parts: dict[str, str] = {}
        self._part_lengths: set[int] = set()
        self.tokens = 0

    def add(self, secret: str, label: str) -> None:
        """Register a plain secret (found as a substring anywhere in a record)."""
        if secret:
            self.fixed.setdefault(secret, label)

    def add_token(self, token: str) -> None:
        """Register a JWT: its payload and signature segments (the header is shared by all)."""
        self.tokens += 1
        label = f"emulator token #{self.tokens}"
        for part in token.split(".")[1:]:
            if len(part) >= 16:
                self.token_parts.setdefault(part, label)
                self._part_lengths.add(len(part))

    def find(self, text: str) -> list[str]:
        """The labels of the secrets ``text`` contains."""
        found = [label for secret, label in self.fixed.items() if secret in text]
        parts = self.token_parts
        if parts:
            for match in _JWT_SEGMENT.finditer(text):
                run = match.group()
                found += [parts[run[:n]] for n in self._part_lengths if run[:n] in parts]
            for match in _B64URL_RUN.finditer(text):
                if match.group() in parts:
                    found.append(parts[match.group()])
        return sorted(set(found))


def default_registry() -> SecretRegistry:
    """The registry for a test session (tokens are added as emulators issue them)."""
    creds = emulator_tokens.Credentials()
    registry = SecretRegistry()
    registry.add(creds.password, "the emulator's password")
    registry.add(creds.client_secret, "the emulator's client secret")
    registry.add(SECRET_MARKER, f"a test secret (contains {SECRET_MARKER!r})")
    for index, secret in enumerate(KNOWN_SECRETS):
        registry.add(secret, f"a test secret answer or password (KNOWN_SECRETS[{index}])")
    return registry


def format_record(record: logging.LogRecord) -> str:
    """The record as a handler would write it, traceback and stack included."""
    try:
        return _FORMAT.format(record)
    except Exception:  # a record whose arguments do not format: check its raw parts
        return f"{record.name} {record.msg!r} {record.args!r} {record.exc_info!r}"


class RecordCollector(logging.Handler):
    """Keeps every record it sees, formatted (formatting happens at emit, like a real log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(format_record(record))


def find_leaks(texts: Iterable[str], registry: SecretRegistry) -> list[str]:
    """One line per record that carries a secret: what kind, and where (no secret shown)."""
    leaks = []
    for text in texts:
        labels = registry.find(text)
        if labels:
            where = " ".join(text.split(" ", 3)[:3])  # level, logger, file:line
            leaks.append(f"{where}: {', '.join(labels)}")
    return leaks


_STATE = pytest.StashKey[tuple[SecretRegistry, RecordCollector, int]]()


def pytest_configure(config: pytest.Config) -> None:
    """Start collecting: ``consigno_async`` at DEBUG, a handler on the root logger."""
    registry = default_registry()
    collector = RecordCollector()
    library = logging.getLogger("consigno_async")
    config.stash[_STATE] = (registry, collector, library.level)
    library.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(collector)
    emulator_tokens.TOKEN_OBSERVERS.append(registry.add_token)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Undo :func:`pytest_configure`."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    registry, collector, level = state
    logging.getLogger().removeHandler(collector)
    logging.getLogger("consigno_async").setLevel(level)
    if registry.add_token in emulator_tokens.TOKEN_OBSERVERS:
        emulator_tokens.TOKEN_OBSERVERS.remove(registry.add_token)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    """Fail the run if any record of the session carries a secret."""
    registry, collector, _ = session.config.stash[_STATE]
    leaks = find_leaks(collector.texts, registry)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_line(
            f"secret check: {len(collector.texts)} log records, {registry.tokens} tokens, "
            f"{len(leaks)} leaks"
        )
    if leaks:
        if reporter is not None:
            reporter.section("SECRETS IN LOG RECORDS", sep="!", red=True)
            for line in leaks[:50]:
                reporter.write_line(line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
