"""
The ``consigno`` command (extra ``cli``: ``pip install 'consigno-async[cli]'``).

::

    consigno demo [--count N] [--out DIR]       the main job, on the embedded emulator
    consigno launch FILE... [--journal PATH]    workflows described in TOML/JSON files
    consigno status ID [--json]                 one workflow's status and signers
    consigno wait ID [--timeout S] [--json]     until completed, declined or expired
    consigno download ID DEST [--audit]         the signed documents (and audit trail)
    consigno archive ID DEST [--json]           the evidence bundle (with manifest.json)
    consigno emulator [--port P]                serve the emulator on loopback

Connection settings come from ``--base-url``, ``--username``, ``--password``, ``--tenant``
or the environment (``CONSIGNO_BASE_URL``, ``CONSIGNO_USERNAME``, ``CONSIGNO_PASSWORD``,
``CONSIGNO_TENANT``). They are never printed. Exit codes: 0 success, 1 the service (or the
network) failed, 2 bad usage or an invalid workflow. Errors go to stderr, one line each.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs
import click
import orjson

from ._version import __version__
from .enums import WorkflowStatus
from .errors import ConsignoError, WorkflowValidationError

if TYPE_CHECKING:
    from rich.console import Console

    from .batch import BatchProgress
    from .client import ConsignoClient
    from .responses import Workflow
    from .spec import WorkflowSpec

__all__ = ["main"]

EXIT_OK = 0
EXIT_SERVICE = 1
EXIT_USAGE = 2

_F = TypeVar("_F", bound=Callable[..., Any])


@attrs.frozen
class Connection:
    """Where and as whom to connect; ``repr`` never shows the password."""

    base_url: str
    username: str
    password: str = attrs.field(repr=False)
    tenant: str | None = None

    def client(self) -> ConsignoClient:
        """A new client (use it with ``async with``)."""
        from .client import ConsignoClient

        return ConsignoClient(
            self.base_url, username=self.username, password=self.password, tenant=self.tenant
        )


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, WorkflowValidationError):
        return "workflow is invalid: " + "; ".join(str(v) for v in exc.violations)
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def fail(message: str, code: int = EXIT_SERVICE) -> NoReturn:
    """Print ``error: message`` on stderr (one line) and exit with ``code``."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(code)


def exit_code_for(exc: BaseException) -> int:
    """2 for bad input (an invalid workflow, id, document or file), 1 for the rest."""
    if isinstance(exc, ValueError | click.UsageError):
        return EXIT_USAGE  # WorkflowValidationError and DocumentError are ValueErrors too
    return EXIT_SERVICE


def run(coro: Coroutine[Any, Any, int | None]) -> None:
    """Run ``coro``; map errors to one stderr line and an exit code."""
    try:
        code = asyncio.run(coro)
    except (ConsignoError, OSError, ValueError) as exc:
        fail(f"{type(exc).__name__}: {_one_line(exc)}", exit_code_for(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    sys.exit(code or EXIT_OK)


def connection_options(func: _F) -> _F:
    """Add ``--base-url/--username/--password/--tenant`` (and their env vars) to a command."""

    @click.option(
        "--base-url",
        envvar="CONSIGNO_BASE_URL",
        metavar="URL",
        help="API root, e.g. https://cloud.consigno.com/api/v1 [env CONSIGNO_BASE_URL]",
    )
    @click.option("--username", envvar="CONSIGNO_USERNAME", help="[env CONSIGNO_USERNAME]")
    @click.option(
        "--password",
        envvar="CONSIGNO_PASSWORD",
        show_default=False,
        help="[env CONSIGNO_PASSWORD] (prefer the variable: flags show in `ps`)",
    )
    @click.option("--tenant", envvar="CONSIGNO_TENANT", default=None, help="[env CONSIGNO_TENANT]")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        base_url: str | None,
        username: str | None,
        password: str | None,
        tenant: str | None,
        **kwargs: Any,
    ) -> Any:
        missing = [
            name
            for name, value in (
                ("--base-url", base_url),
                ("--username", username),
                ("--password", password),
            )
            if not value
        ]
        if missing:
            env = {
                "--base-url": "CONSIGNO_BASE_URL",
                "--username": "CONSIGNO_USERNAME",
                "--password": "CONSIGNO_PASSWORD",
            }
            names = ", ".join(f"{m} (or {env[m]})" for m in missing)
            fail(f"missing connection settings: {names}", EXIT_USAGE)
        assert base_url is not None
        assert username is not None
        assert password is not None
        conn = Connection(base_url.rstrip("/"), username, password, tenant or None)
        return func(*args, conn=conn, **kwargs)

    return wrapper  # type: ignore[return-value]


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."
)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _print_workflow(workflow: Workflow) -> None:
    from rich.table import Table

    console = _console()
    status = WorkflowStatus(int(workflow.status))
    console.print(f"[bold]{workflow.name}[/bold]  {workflow.id}  status: [bold]{status.name}[/]")
    if workflow.actions:
        table = Table("step", "signer", "e-mail", "mode", "status")
        for action in workflow.actions:
            signer = action.signer
            name = " ".join(p for p in (signer.first_name, signer.last_name) if p) if signer else ""
            table.add_row(
                str(action.step or ""),
                name,
                (signer.email or "") if signer else "",
                str(action.mode or ""),
                str(action.status or ""),
            )
        console.print(table)


class _Group(click.Group):
    """A click group whose usage errors are one ``error: ...`` line on stderr, exit 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `consigno`: show the help
                click.echo(exc.format_message(), err=True)
                sys.exit(EXIT_USAGE)
            fail(exc.format_message(), EXIT_USAGE)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            fail("aborted", EXIT_SERVICE)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


class _LaunchBar:
    """A rich progress bar on stderr for ``launch`` (when stderr is a terminal)."""

    def __init__(self, total: int) -> None:
        from rich.console import Console

        console = Console(stderr=True)
        self.progress: Any = None
        if console.is_terminal and total > 1:
            from rich.progress import Progress

            self.progress = Progress(console=console, transient=True)
            self.task = self.progress.add_task("launching", total=total)

    async def __aenter__(self) -> _LaunchBar:
        if self.progress is not None:
            self.progress.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, progress: BatchProgress) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=progress.finished)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="consigno")
def main() -> None:
    """The ConsignO Cloud e-signature client: launch, track and archive signing projects."""


@main.command()
@connection_options
@click.argument("workflow_id")
@json_option
def status(conn: Connection, workflow_id: str, as_json: bool) -> None:
    """Show a workflow's status and its signers."""

    async def go() -> int:
        async with conn.client() as client:
            workflow = await client.get_workflow(workflow_id)
        if as_json:
            emit_json(workflow.to_dict())
        else:
            _print_workflow(workflow)
        return EXIT_OK

    run(go())


@main.command()
@connection_options
@click.argument("workflow_id")
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=None, help="Seconds; default none."
)
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=5.0, show_default=True)
@json_option
def wait(
    conn: Connection, workflow_id: str, timeout: float | None, poll_interval: float, as_json: bool
) -> None:
    """Wait until a workflow is completed, declined or expired (exit 1 unless completed)."""
    from .completion import wait_for_completion

    async def go() -> int:
        async with conn.client() as client:
            workflow = await wait_for_completion(
                client, workflow_id, timeout=timeout, poll_interval=poll_interval
            )
        final = WorkflowStatus(int(workflow.status))
        if as_json:
            emit_json(workflow.to_dict())
        else:
            click.echo(f"{workflow.id} {final.name}")
        if final is not WorkflowStatus.COMPLETED:
            click.echo(f"error: workflow {workflow.id} ended {final.name}", err=True)
            return EXIT_SERVICE
        return EXIT_OK

    run(go())


@main.command()
@connection_options
@click.argument("workflow_id")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--audit", is_flag=True, help="Also download the audit trail.")
@json_option
def download(conn: Connection, workflow_id: str, dest: Path, audit: bool, as_json: bool) -> None:
    """Download a workflow's signed documents (and with --audit its audit trail) into DEST."""
    audit_target = dest / f"{workflow_id}-audit-trail.pdf"

    async def go() -> int:
        files = []
        async with conn.client() as client:
            files.append(await client.download_documents(workflow_id, f"{dest}{os.sep}"))
            if audit:
                files.append(await client.download_audit_trail(workflow_id, audit_target))
        rows = [
            {"path": str(f.path), "contentType": f.content_type, "size": f.size, "sha256": f.sha256}
            for f in files
        ]
        if as_json:
            emit_json(rows)
        else:
            for row in rows:
                click.echo(f"{row['path']}  {row['size']} bytes  sha256 {row['sha256']}")
        return EXIT_OK

    run(go())


@main.command("archive")
@connection_options
@click.argument("workflow_id")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace an existing bundle at DEST.")
@json_option
def archive_command(
    conn: Connection, workflow_id: str, dest: Path, overwrite: bool, as_json: bool
) -> None:
    """Save the evidence bundle (documents, audit trail, workflow JSON, manifest) in DEST."""
    from .archive import archive

    async def go() -> int:
        async with conn.client() as client:
            bundle = await archive(client, workflow_id, dest, overwrite=overwrite)
        if as_json:
            emit_json(orjson.loads(bundle.manifest.read_bytes()) | {"path": str(bundle.path)})
        else:
            for entry in bundle.files:
                click.echo(f"{bundle.path / entry.path}  sha256 {entry.sha256}")
            click.echo(f"{bundle.manifest}")
        return EXIT_OK

    run(go())


@main.command()
@connection_options
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--journal",
    type=click.Path(path_type=Path),
    default=None,
    help="SQLite journal: rerun with the same one to resume without duplicates.",
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True)
@json_option
def launch(
    conn: Connection, files: Sequence[Path], journal: Path | None, concurrency: int, as_json: bool
) -> None:
    """Launch the workflows described in TOML or JSON FILES (see the README for the format)."""
    from .batch import launch_many
    from .workflow_file import load_workflow_file

    specs: list[WorkflowSpec] = []
    refused = []
    for path in files:
        try:
            # Keyed by content (the spec's fingerprint): with a journal, a rerun skips what
            # was launched, and an edited file is a new workflow.
            specs.append(load_workflow_file(path).build())
        except (ConsignoError, OSError) as exc:
            refused.append(exc)
            click.echo(f"error: {path}: {_one_line(exc)}", err=True)
    if refused:  # launch nothing until every file is valid
        sys.exit(max(exit_code_for(exc) for exc in refused))

    async def go() -> int:
        async with conn.client() as client, _LaunchBar(len(specs)) as bar:
            results = await launch_many(
                client, specs, concurrency=concurrency, journal=journal, progress=bar.update
            )
        codes = {EXIT_OK}
        rows = []
        for path, result in zip(files, results, strict=True):
            if result.error is None:
                rows.append(
                    {"file": str(path), "workflowId": result.workflow_id, "skipped": result.skipped}
                )
                if not as_json:
                    note = " (already launched)" if result.skipped else ""
                    click.echo(f"{path}: {result.workflow_id}{note}")
            else:
                rows.append({"file": str(path), "error": _one_line(result.error)})
                click.echo(f"error: {path}: {_one_line(result.error)}", err=True)
                codes.add(exit_code_for(result.error))
        worst = EXIT_SERVICE if EXIT_SERVICE in codes else max(codes)
        if as_json:
            emit_json(rows)
        return worst

    run(go())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="TCP port; 0 picks a free one.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Delay every API answer.",
)
@click.option("--seed", type=int, default=None, help="Repeatable ids and fault dice.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep documents in this directory.",
)
@click.option("--no-second-factor", is_flag=True, help="Accept signers without a second factor.")
def emulator(
    host: str,
    port: int,
    latency_ms: float,
    seed: int | None,
    data_dir: str | None,
    no_second_factor: bool,
) -> None:
    """Serve the ConsignO emulator until interrupted; prints base_url=... first."""
    import argparse

    from .emulator.__main__ import serve

    args = argparse.Namespace(
        host=host,
        port=port,
        latency_ms=latency_ms,
        seed=seed,
        data_dir=data_dir,
        no_second_factor=no_second_factor,
    )

    async def go() -> int:
        await serve(args)
        return EXIT_OK

    run(go())


@main.command()
@click.option("--count", type=click.IntRange(1, 100_000), default=20, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Where the evidence bundles go.",
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=16, show_default=True)
@json_option
def demo(count: int, out: Path, concurrency: int, as_json: bool) -> None:
    """The main job on the embedded emulator: build, launch, sign, wait, archive."""
    from .demo import print_summary, run_demo

    async def go() -> int:
        summary = await run_demo(
            count=count, out=out, concurrency=concurrency, console=None if as_json else _console()
        )
        if as_json:
            emit_json(summary.to_dict())
        else:
            print_summary(summary, _console())
        return EXIT_OK if summary.completed == count else EXIT_SERVICE

    run(go())


if __name__ == "__main__":  # pragma: no cover
    main()
