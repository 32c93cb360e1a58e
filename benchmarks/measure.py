"""Wall time and peak resident memory of a call in this process, or of a child process.

A call's peak is read from the kernel's high-water mark (``VmHWM``), reset just before
the call through ``/proc/self/clear_refs``; where that reset is refused, a thread
samples ``VmRSS`` every few milliseconds instead. A child's peak is its own
``ru_maxrss``, from ``os.wait4``.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
MIB = 1024 * 1024


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), flags=re.MULTILINE)
    return int(match.group(1)) if match else 0


def resident_mib() -> float:
    """This process's resident memory now, in MiB."""
    return _status_kib("VmRSS") / 1024


def _reset_high_water_mark() -> bool:
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Measurement:
    """One call: wall seconds, resident MiB before it, and its peak above that."""

    seconds: float
    before_mib: float
    peak_above_mib: float
    result: Any = None


class _Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = _status_kib("VmRSS")
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.005):
            self.peak_kib = max(self.peak_kib, _status_kib("VmRSS"))


def measure(call: Callable[[], Any]) -> Measurement:
    """Run ``call()`` and measure its wall time and the peak resident memory it added."""
    before_kib = _status_kib("VmRSS")
    exact = _reset_high_water_mark()
    sampler = None if exact else _Sampler()
    if sampler:
        sampler.start()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    if sampler:
        sampler.stopped.set()
        sampler.join()
        peak_kib = max(sampler.peak_kib, _status_kib("VmRSS"))
    else:
        peak_kib = _status_kib("VmHWM")
    return Measurement(seconds, before_kib / 1024, max(0, peak_kib - before_kib) / 1024, result)


@dataclass
class ChildRun:
    """A finished child process: exit code, wall seconds, peak resident MiB, its output."""

    returncode: int
    seconds: float
    peak_mib: float
    stdout: str
    stderr: str


def run_child(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> ChildRun:
    """Run a command to completion, its output to ``log``; time it and read its peak memory."""
    started = time.perf_counter()
    with log.open("w") as stream:
        child = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=stream, stderr=subprocess.STDOUT, text=True
        )
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text()
    # ru_maxrss is in KiB on Linux.
    return ChildRun(child.returncode, seconds, usage.ru_maxrss / 1024, output, "")
