"""The processes of a run, as Linux's ``/proc`` shows them (standard library only): the
Snakemake process a job runs under, and whether a process still runs. Elsewhere they
know nothing, and nothing that relies on them acts."""

from __future__ import annotations

import os
from pathlib import Path


def snakemake_ancestor() -> tuple[int, str] | None:
    """The outermost Snakemake process above this one, as ``(pid, start time)``; None
    where there is none or ``/proc`` cannot tell (not Linux)."""
    found, pid = None, os.getppid()
    for _ in range(64):
        if pid <= 1:
            break
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        fields = stat.rsplit(")", 1)[1].split()
        if _is_snakemake(command):
            found = (pid, fields[19])  # the start time tells a reused pid apart
        pid = int(fields[1])
    return found


def process_alive(pid: int, started: str) -> bool:
    """Whether process ``pid``, started at ``started`` (``/proc``'s clock ticks), runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


def this_process() -> tuple[int, str] | None:
    """``(pid, start time)`` of this process; None without ``/proc``."""
    try:
        fields = Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return os.getpid(), fields[19]


def _is_snakemake(command: bytes) -> bool:
    """Whether a ``/proc/<pid>/cmdline`` is Snakemake's: its program, or ``-m snakemake``
    (not merely a command that mentions the word)."""
    arguments = command.split(b"\0")
    if arguments and arguments[0].rsplit(b"/", 1)[-1] == b"snakemake":
        return True
    programs = [argument.rsplit(b"/", 1)[-1] for argument in arguments[:3]]
    return b"snakemake" in programs[1:2] or any(
        first == b"-m" and second == b"snakemake"
        for first, second in zip(arguments, arguments[1:], strict=False)
    )
