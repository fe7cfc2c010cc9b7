"""
An asyncio pipeline: a queue of incoming contracts -> launch -> wait -> archive.

Contracts arrive on a queue (here: generated; in real life, from a web form or a message
broker). Launchers take them off the queue, waiters follow each workflow until it is
signed, archivers save the evidence bundle. Each stage has its own bounded concurrency,
and the stages are connected by queues, so a slow stage never makes another one buffer
without bound.

    python examples/pipeline.py --count 10 --out evidence/
    python examples/pipeline.py --count 10 --out evidence/ --emulator-sign   # on the emulator

``--emulator-sign`` makes the emulator sign each workflow once launched (through its
control API): on the real service, people sign. Settings: --base-url, --username,
--password, --tenant, or the CONSIGNO_* variables.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from _settings import add_connection_arguments, client_from, contract_pdf

from consigno_async import Amr, ConsignoClient, WorkflowBuilder, WorkflowStatus
from consigno_async.archive import archive
from consigno_async.completion import wait_for_completion

DONE = None  # end-of-stream marker on the queues


async def produce(incoming: asyncio.Queue[WorkflowBuilder | None], count: int) -> None:
    """Contracts arriving: here, generated ones."""
    for number in range(1, count + 1):
        builder = (
            WorkflowBuilder(f"Pipeline contract {number}")
            .document(contract_pdf(f"Contract {number}"), key="contract", file_name="c.pdf")
            .signer(
                "client",
                first_name="Client",
                last_name=f"No {number}",
                email=f"client{number}@example.com",
                phone="+15145550100",
                amr=[Amr.LINK, Amr.SMS],
            )
            .anchor("client", document="contract", tag="{{sig-client}}")
        )
        await incoming.put(builder)


async def launcher(
    client: ConsignoClient,
    incoming: asyncio.Queue[WorkflowBuilder | None],
    launched: asyncio.Queue[str | None],
    sign: bool,
    base_url: str,
) -> None:
    while (builder := await incoming.get()) is not DONE:
        workflow = await client.launch(builder)
        print(f"launched {workflow.id} {workflow.name}", file=sys.stderr)
        if sign:
            await emulator_sign(base_url, workflow.id)
        await launched.put(workflow.id)


async def waiter(
    client: ConsignoClient,
    launched: asyncio.Queue[str | None],
    finished: asyncio.Queue[str | None],
    poll_interval: float,
) -> None:
    while (workflow_id := await launched.get()) is not DONE:
        workflow = await wait_for_completion(
            client, workflow_id, poll_interval=poll_interval, timeout=3600
        )
        if workflow.status is WorkflowStatus.COMPLETED:
            await finished.put(workflow_id)
        else:
            print(f"{workflow_id} ended {workflow.status.name}", file=sys.stderr)


async def archiver(
    client: ConsignoClient, finished: asyncio.Queue[str | None], out: Path, report: list[Path]
) -> None:
    while (workflow_id := await finished.get()) is not DONE:
        bundle = await archive(client, workflow_id, out / workflow_id, overwrite=True)
        report.append(bundle.path)
        print(f"archived {workflow_id} -> {bundle.path}", file=sys.stderr)


async def emulator_sign(base_url: str, workflow_id: str) -> None:
    """Have the emulator sign (its control API); only meaningful against the emulator."""
    from consigno_async.emulator import EmulatorControl

    async with EmulatorControl(base_url.split("/api/")[0]) as control:
        await control.sign(workflow_id)


async def run(args: argparse.Namespace) -> int:
    incoming: asyncio.Queue[WorkflowBuilder | None] = asyncio.Queue(maxsize=16)
    launched: asyncio.Queue[str | None] = asyncio.Queue(maxsize=16)
    finished: asyncio.Queue[str | None] = asyncio.Queue(maxsize=16)
    bundles: list[Path] = []
    out = Path(args.out)
    async with client_from(args) as client, asyncio.TaskGroup() as group:
        launchers = [
            group.create_task(
                launcher(client, incoming, launched, args.emulator_sign, args.base_url)
            )
            for _ in range(args.launchers)
        ]
        waiters = [
            group.create_task(waiter(client, launched, finished, args.poll_interval))
            for _ in range(args.waiters)
        ]
        archivers = [group.create_task(archiver(client, finished, out, bundles)) for _ in range(2)]
        await produce(incoming, args.count)
        for _ in launchers:
            await incoming.put(DONE)
        await asyncio.gather(*launchers)
        for _ in waiters:
            await launched.put(DONE)
        await asyncio.gather(*waiters)
        for _ in archivers:
            await finished.put(DONE)
    print(f"{len(bundles)} of {args.count} contracts signed and archived in {out}")
    return 0 if len(bundles) == args.count else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--out", default="evidence")
    parser.add_argument("--launchers", type=int, default=4)
    parser.add_argument("--waiters", type=int, default=16)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--emulator-sign", action="store_true")
    add_connection_arguments(parser)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
