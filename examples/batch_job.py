"""
A batch job: launch one signing project per PDF of a directory, resumably.

    python examples/batch_job.py contracts/ --journal batch.sqlite
    python examples/batch_job.py --generate 50 --journal batch.sqlite   # sample PDFs

Run it again with the same journal after a crash (or Ctrl-C): what was launched is skipped,
what was in flight is reconciled, nothing is launched twice. Settings: --base-url,
--username, --password, --tenant, or the CONSIGNO_* environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from _settings import add_connection_arguments, client_from, write_contracts

from consigno_async import Amr, WorkflowBuilder
from consigno_async.batch import BatchProgress, LaunchItem, launch_many


def items(pdfs: list[Path]) -> Iterator[LaunchItem]:
    """One builder per PDF, keyed by the file name (a stable key for the journal)."""
    for number, pdf in enumerate(pdfs, 1):
        builder = (
            WorkflowBuilder(f"Contract {pdf.stem}")
            .document(pdf, key="contract")
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
        yield LaunchItem(builder, key=pdf.name)


def show(progress: BatchProgress) -> None:
    total = progress.total if progress.total is not None else "?"
    print(
        f"\rlaunched {progress.done}/{total}, failed {progress.failed}, "
        f"in flight {progress.in_flight}   ",
        end="",
        file=sys.stderr,
        flush=True,
    )


def find_pdfs(args: argparse.Namespace) -> list[Path]:
    if args.generate:
        directory = Path(args.directory or tempfile.mkdtemp(prefix="contracts-"))
        return write_contracts(directory, args.generate)
    if not args.directory:
        raise SystemExit("give a directory of PDFs, or --generate N")
    return sorted(Path(args.directory).glob("*.pdf"))


async def run(args: argparse.Namespace, pdfs: list[Path]) -> int:
    async with client_from(args) as client:
        results = await launch_many(
            client,
            items(pdfs),
            concurrency=args.concurrency,
            journal=args.journal,
            progress=show,
        )
    print(file=sys.stderr)
    for pdf, result in zip(pdfs, results, strict=True):
        if result.ok:
            note = " (launched by an earlier run)" if result.skipped else ""
            print(f"{pdf.name}\t{result.workflow_id}{note}")
        else:
            print(f"{pdf.name}\tERROR {result.error}", file=sys.stderr)
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} launched, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", help="a directory of PDF contracts")
    parser.add_argument("--generate", type=int, default=0, help="write N sample PDFs first")
    parser.add_argument("--journal", default="batch.sqlite", help="SQLite journal path")
    parser.add_argument("--concurrency", type=int, default=8)
    add_connection_arguments(parser)
    args = parser.parse_args(argv)
    return asyncio.run(run(args, find_pdfs(args)))


if __name__ == "__main__":
    sys.exit(main())
