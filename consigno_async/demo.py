"""
``consigno demo``: the project's main job, end to end, on the embedded emulator.

1. Starts the emulator in this process (loopback, random port) and a webhook receiver.
2. Writes a sample contract (``sample.pdf``, two pages, with anchor tags) with
   :mod:`consigno_async.pdfgen`.
3. Builds ``count`` signing projects from it: three signers each, two placed by anchors and
   one by coordinates; every other project is sequential (steps 1, 2, 3), the others
   parallel; each asks for a webhook.
4. Launches them with :func:`~consigno_async.batch.launch_many` (a progress bar shows it).
5. Has the emulator sign every project, and follows them with
   :func:`~consigno_async.completion.watch`, woken by the webhooks.
6. Archives each completed project (signed documents, audit trail, workflow JSON,
   manifest with SHA-256) under ``out/<workflow id>/`` and checks each bundle.
7. Returns a :class:`DemoSummary`; :func:`print_summary` draws it as a table.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from .archive import archive, verify_archive
from .batch import BatchProgress, launch_many
from .builder import WorkflowBuilder
from .completion import watch
from .enums import Amr, WorkflowStatus
from .pdfgen import Page, TextLine, write_pdf
from .webhooks import WebhookReceiver, make_app

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from .spec import WorkflowSpec

__all__ = ["DemoSummary", "print_summary", "run_demo", "sample_pages"]

_HOOK_PATH = "/consigno/webhook"
_SIGNERS = (
    ("client", "Camille", "Tremblay", "{{sig-client}}"),
    ("consultant", "Mathis", "Gagnon", "{{sig-consultant}}"),
)


@attrs.frozen
class DemoSummary:
    """What the demo did, with its timings (seconds) and where the files are."""

    count: int
    launched: int
    completed: int
    archived: int
    verified: int
    failed: int
    launch_seconds: float
    total_seconds: float
    out: Path
    sample: Path
    webhook_events: int

    @property
    def throughput(self) -> float:
        """Workflows launched per second during the launch phase."""
        return self.launched / self.launch_seconds if self.launch_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        data = attrs.asdict(self)
        data["out"] = str(self.out)
        data["sample"] = str(self.sample)
        data["throughput"] = round(self.throughput, 2)
        return data


def sample_pages() -> list[Page]:
    """The sample contract: page 1 with two anchor tags, page 2 with a witness block."""
    first = [
        TextLine("Consulting services agreement", 72, 72, 18),
        TextLine("Between Example Corp. (the Client) and the Consultant.", 72, 110),
        TextLine("1. The Consultant provides the services described in Appendix A.", 72, 140),
        TextLine("2. Fees are paid within 30 days of each invoice.", 72, 160),
        TextLine("3. This agreement is governed by the laws of Quebec.", 72, 180),
        TextLine("Client:", 72, 560),
        TextLine("{{sig-client}}", 72, 600, 8),
        TextLine("Consultant:", 330, 560),
        TextLine("{{sig-consultant}}", 330, 600, 8),
    ]
    second = [
        TextLine("Appendix A - Services and witness", 72, 72, 16),
        TextLine("Advice on the Client's e-signature processes.", 72, 110),
        TextLine("Witness:", 72, 620),
    ]
    return [Page(lines=first), Page(lines=second)]


def _spec(index: int, sample: Path, hook_url: str) -> WorkflowSpec:
    sequential = index % 2 == 0
    builder = WorkflowBuilder(f"Consulting agreement #{index + 1:05d}")
    builder.document(sample, key="agreement")
    for number, (key, first, last, tag) in enumerate(_SIGNERS):
        builder.signer(
            key,
            first_name=first,
            last_name=last,
            email=f"{key}.{index + 1}@example.com",
            phone=f"+1514555{(index * 3 + number) % 10000:04d}",
            amr=[Amr.LINK, Amr.SMS],
        )
        builder.anchor(key, document="agreement", tag=tag, y_offset=-30)
    builder.signer(
        "witness",
        first_name="Lea",
        last_name="Roy",
        email=f"witness.{index + 1}@example.com",
        phone="+15145550199",
        amr=[Amr.LINK, Amr.SMS],
    )
    builder.field("witness", document="agreement", page=2, x=72, y=640)
    builder.webhook(hook_url)
    if not sequential:
        builder.parallel()
    return builder.build()


class _Bars:
    """Rich progress bars, or nothing when there is no console."""

    def __init__(self, console: Console | None, count: int) -> None:
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        if console is None:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress(
            "[progress.description]{task.description:<10}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        for name in ("launched", "signed", "completed", "archived"):
            self.tasks[name] = self.progress.add_task(name, total=count)

    def __enter__(self) -> _Bars:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def set(self, name: str, completed: int) -> None:
        if self.progress is not None:
            self.progress.update(self.tasks[name], completed=completed)

    def on_launch(self, progress: BatchProgress) -> None:
        self.set("launched", progress.finished)


async def run_demo(
    *,
    count: int = 20,
    out: Path = Path("demo-output"),
    concurrency: int = 16,
    console: Console | None = None,
) -> DemoSummary:
    """Run the demo (see the module docstring) and return its summary."""
    from .client import ConsignoClient
    from .emulator import Emulator

    started = time.perf_counter()
    out = Path(out)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    sample = out / "sample.pdf"
    await asyncio.to_thread(write_pdf, sample, sample_pages())

    async with Emulator() as emu:
        creds = emu.credentials
        async with ConsignoClient(
            emu.base_url,
            username=creds.username,
            password=creds.password,
            tenant=creds.tenant,
            concurrency=concurrency,
        ) as client:
            receiver = WebhookReceiver(client=client, confirm=False)
            runner = web.AppRunner(make_app(receiver, _HOOK_PATH), access_log=None)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                port = runner.addresses[0][1]
                hook_url = f"http://127.0.0.1:{port}{_HOOK_PATH}"
                with _Bars(console, count) as bars:
                    summary = await _run(
                        client, emu, receiver, bars, count, out, sample, hook_url, concurrency
                    )
            finally:
                await runner.cleanup()
    return attrs.evolve(summary, total_seconds=time.perf_counter() - started)


async def _run(
    client: Any,
    emu: Any,
    receiver: WebhookReceiver,
    bars: _Bars,
    count: int,
    out: Path,
    sample: Path,
    hook_url: str,
    concurrency: int,
) -> DemoSummary:
    launch_started = time.perf_counter()
    specs = (_spec(i, sample, hook_url) for i in range(count))
    results = await launch_many(client, specs, concurrency=concurrency, progress=bars.on_launch)
    launch_seconds = time.perf_counter() - launch_started
    ids = [r.workflow_id for r in results if r.ok and r.workflow_id]
    failed = len(results) - len(ids)

    signed = 0
    gate = asyncio.Semaphore(concurrency)

    async def sign(workflow_id: str) -> None:
        nonlocal signed
        async with gate:
            await emu.sign(workflow_id)
        signed += 1
        bars.set("signed", signed)

    completed = archived = verified = 0
    archive_tasks: list[asyncio.Task[None]] = []

    async def keep(workflow_id: str) -> None:
        nonlocal archived, verified
        async with gate:
            bundle = await archive(client, workflow_id, out / workflow_id, overwrite=True)
        archived += 1
        problems = await asyncio.to_thread(verify_archive, bundle.path)
        verified += not problems
        bars.set("archived", archived)

    async with asyncio.TaskGroup() as group:
        for workflow_id in ids:
            group.create_task(sign(workflow_id))
        async for change in watch(client, ids, poll_interval=0.5, webhooks=receiver):
            if change.status is WorkflowStatus.COMPLETED:
                completed += 1
                bars.set("completed", completed)
                archive_tasks.append(group.create_task(keep(change.workflow_id)))
            elif change.is_final:
                failed += 1
    return DemoSummary(
        count=count,
        launched=len(ids),
        completed=completed,
        archived=archived,
        verified=verified,
        failed=failed,
        launch_seconds=launch_seconds,
        total_seconds=0.0,
        out=out,
        sample=sample,
        webhook_events=receiver.stats.accepted,
    )


def print_summary(summary: DemoSummary, console: Console) -> None:
    """Draw the summary table and say where the files are."""
    from rich.table import Table

    table = Table(title="consigno demo", show_header=True)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("workflows asked", str(summary.count))
    table.add_row("launched", str(summary.launched))
    table.add_row("completed", str(summary.completed))
    table.add_row("archived (manifest verified)", f"{summary.archived} ({summary.verified})")
    table.add_row("failed", str(summary.failed))
    table.add_row("webhook events received", str(summary.webhook_events))
    table.add_row("launch time", f"{summary.launch_seconds:.2f} s")
    table.add_row("launch throughput", f"{summary.throughput:.1f} workflows/s")
    table.add_row("total time", f"{summary.total_seconds:.2f} s")
    console.print(table)
    console.print(f"Sample contract: {summary.sample}")
    console.print(f"Evidence bundles: {summary.out}/<workflow id>/ (manifest.json in each)")
