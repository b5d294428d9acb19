"""One command in a fresh process, measured: the operating system's accounting of it
and its children (CPU seconds, peak resident memory), its wall seconds and its output.
Shared by the benchmarks that time whole Snakemake runs."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path


def run_measured(command: list[str], cwd: Path) -> tuple[resource.struct_rusage, float, str]:
    """Run ``command`` in ``cwd`` to its end: its resource usage (``ru_utime``,
    ``ru_stime``, ``ru_maxrss`` in KiB), wall seconds and output (stdout and stderr).

    Raises:
        RuntimeError: the command failed, with the end of its output.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.stdout.close()
    wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return usage, wall, output
