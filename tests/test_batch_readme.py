"""The README's batch, completion, webhook and archive examples run as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from readme_support import readme_blocks

BATCH_BLOCKS = readme_blocks("batch")


def test_every_batch_capability_has_an_example() -> None:
    """launch_many, wait_for_completion, watch, webhooks and archive each have one."""
    joined = "\n".join(BATCH_BLOCKS)
    for name in ("launch_many(", "wait_for_completion(", "watch(", "WebhookReceiver(", "archive("):
        assert name in joined, name


@pytest.mark.parametrize("index", range(len(BATCH_BLOCKS)))
def test_batch_example_runs(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each example is a whole script: it runs against the emulator and prints its results."""
    monkeypatch.chdir(tmp_path)
    exec(compile(BATCH_BLOCKS[index], f"README.md batch example {index + 1}", "exec"), {})
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out.strip(), "the example printed nothing"
