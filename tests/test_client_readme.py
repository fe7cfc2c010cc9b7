"""The README's client and security examples run as written, against the emulator."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from readme_support import readme_blocks

CLIENT_BLOCKS = readme_blocks("client")


def test_every_client_capability_has_an_example() -> None:
    assert len(CLIENT_BLOCKS) >= 6
    joined = "\n".join(CLIENT_BLOCKS)
    for method in (
        "upload_document",
        "launch(",
        "create_workflow",
        "launch_workflow",
        "get_workflow",
        "list_workflows",
        "delete_workflow",
        "download_documents",
        "download_audit_trail",
        "verify_token",
        "logout",
    ):
        assert method in joined, method


@pytest.mark.parametrize("index", range(len(CLIENT_BLOCKS)))
def test_client_example_runs(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(CLIENT_BLOCKS[index], f"README.md client example {index + 1}", "exec"), {})
    assert "Traceback" not in capsys.readouterr().err


def test_security_example_runs() -> None:
    (block,) = readme_blocks("security")
    root, library = logging.getLogger(), logging.getLogger("consigno_async")
    handlers, level = list(root.handlers), library.level
    try:
        exec(compile(block, "README.md security example", "exec"), {})
        assert library.level == logging.INFO
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        library.setLevel(level)
