"""
Run the emulator from a shell::

    python -m consigno_async.emulator --host 127.0.0.1 --port 8080 [--latency-ms N] [--seed S]
                                      [--data-dir DIR]

The first line on stdout is ``base_url=http://HOST:PORT/api/v1`` (flushed at once, so a parent
process can read it); the demo credentials follow (the password and client secret are the
documented demo values, never real secrets). Ctrl-C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from .server import Emulator

__all__ = ["main", "parse_args", "serve"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m consigno_async.emulator",
        description="Run a ConsignO Cloud emulator on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port; 0 picks a free one")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay every API answer")
    parser.add_argument("--seed", type=int, default=None, help="repeatable ids and fault dice")
    parser.add_argument("--data-dir", default=None, help="keep documents in this directory")
    parser.add_argument(
        "--no-second-factor",
        action="store_true",
        help="accept signers without a second factor (an organisation setting)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Start the emulator, print where it listens, and run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    emulator = Emulator(
        args.host,
        args.port,
        latency_ms=args.latency_ms,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    async with emulator:
        if args.no_second_factor:
            await emulator.settings(second_factor_required=False)
        creds = emulator.credentials
        print(f"base_url={emulator.base_url}", flush=True)
        print(f"control_url={emulator.root_url}/_emulator", flush=True)
        print(
            f"demo user: username={creds.username} password={creds.password}"
            f" client_id={creds.client_id} client_secret={creds.client_secret}",
            flush=True,
        )
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
    print("emulator stopped", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m consigno_async.emulator``."""
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
