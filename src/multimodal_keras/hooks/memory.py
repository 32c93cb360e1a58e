"""The process's peak memory: reset and read from ``/proc`` on Linux, ``getrusage`` elsewhere.

We keep our own: neither the standard library nor psutil resets the peak resident set
size, which is what gives each node its own peak rather than the process's so far.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")
RESET_PEAK_RSS = "5"  # see proc(5): writing 5 to clear_refs resets the peak resident set size
KIB_PER_MIB = 1024


def reset_peak_memory() -> bool:
    """Reset the process's peak resident set size, where Linux allows it; True if it did."""
    try:
        CLEAR_REFS.write_text(RESET_PEAK_RSS)
    except OSError:
        return False
    return True


def peak_memory_mib() -> float:
    """The process's peak resident set size since the last reset (or since it started), MiB."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / KIB_PER_MIB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in bytes on macOS and in KiB elsewhere.
    return peak / KIB_PER_MIB / (KIB_PER_MIB if sys.platform == "darwin" else 1)
