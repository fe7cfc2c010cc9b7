"""
Plumbing shared by the benchmark scripts (not a benchmark itself).

The scripts run as ``python benchmarks/bench_x.py``, so this folder is first on ``sys.path``
and they ``import _common``. What lives here:

- the environment block: Python and library versions, CPU model, CPU count, load average;
- CPU pinning with ``taskset`` (benchmark protocol §2: emulator on CPU 1, load on CPU 0);
- starting a server (usually the emulator) in a subprocess and reading the
  ``base_url=...`` line it prints first, with ``asyncio`` or plain ``subprocess``;
- a process's CPU seconds from ``/proc/PID/stat``; current and peak RSS of this process.
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any, Final

__all__ = [
    "EMULATOR_ARGS",
    "SERVER_CPU",
    "cpu_model",
    "cpu_seconds",
    "environment",
    "load_average",
    "peak_rss",
    "pin_self",
    "pinned_command",
    "rss_now",
    "start_server",
    "start_server_async",
]

#: The CPU the server runs on; the measuring process takes CPU 0.
SERVER_CPU: Final = 1

#: ``python`` arguments that start the emulator on a free port with a fixed seed.
EMULATOR_ARGS: Final = ("-m", "consigno_async.emulator", "--port", "0", "--seed", "1")

_TICKS: Final = os.sysconf("SC_CLK_TCK")
_PREFIX: Final = "base_url="


# ------------------------------------------------------------------------- environment


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (a busy machine explains noisy figures)."""
    return os.getloadavg()


def environment(libraries: Sequence[str] = ()) -> dict[str, Any]:
    """
    Where the figures were taken: interpreter, CPU, hash seed and the installed version of
    each distribution in ``libraries``.
    """
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "libraries": {name: metadata.version(name) for name in libraries},
    }


# ----------------------------------------------------------------------------- pinning


def pinned_command(command: Sequence[str], cpu: int) -> tuple[list[str], bool]:
    """
    ``command`` prefixed with ``taskset -c CPU`` when ``taskset`` exists and the machine has
    that CPU; returns the command and whether it is pinned.
    """
    if shutil.which("taskset") is not None and cpu < (os.cpu_count() or 1):
        return ["taskset", "-c", str(cpu), *command], True
    return list(command), False


def pin_self(cpu: int = 0) -> None:
    """Pin this process to ``cpu`` on a machine with more than one (no-op elsewhere)."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


# ---------------------------------------------------------------------- server process


def _base_url(line: bytes) -> str:
    text = line.decode().strip()
    if not text.startswith(_PREFIX):
        raise RuntimeError(f"unexpected first line from the server: {text!r}")
    return text.removeprefix(_PREFIX)


def start_server(*args: str, cpu: int = SERVER_CPU) -> tuple[subprocess.Popen[bytes], str, bool]:
    """
    Start ``python ARGS`` (pinned to ``cpu`` when possible); return the process, the base
    URL from its first stdout line and whether it is pinned. The caller terminates it.
    """
    command, pinned = pinned_command([sys.executable, *args], cpu)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    try:
        return process, _base_url(process.stdout.readline()), pinned
    except BaseException:
        process.terminate()
        process.wait(10)
        raise


async def start_server_async(
    *args: str, cpu: int = SERVER_CPU, timeout: float = 30
) -> tuple[asyncio.subprocess.Process, str, bool]:
    """:func:`start_server` for a running event loop (the first line is awaited, bounded)."""
    command, pinned = pinned_command([sys.executable, *args], cpu)
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout)
        return process, _base_url(line), pinned
    except BaseException:
        process.terminate()
        await process.wait()
        raise


# ------------------------------------------------------------------------ CPU and RSS


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by process ``pid`` (from ``/proc``)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_now() -> int:
    """This process's resident set size now, in bytes (``VmRSS``)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def peak_rss() -> int:
    """This process's peak resident set size so far, in bytes (``ru_maxrss``, Linux KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
