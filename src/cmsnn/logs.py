"""Send a rule's output, including TensorFlow's and Keras' own printing, to its log."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

#: Separates the warnings of one model in a table cell (and on the console).
WARNING_SEPARATOR = " | "

#: How Snakemake's main log names a failed job's own log.
_FAILED_JOB_LOG = re.compile(
    r"^\s*log: (?P<paths>.+?) \(check log file\(s\) for error details\)$", re.M
)
#: The line of a Python traceback that says what went wrong.
_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Interrupt)\b.*$")


def redirect_output_to_log(log_path: str | os.PathLike) -> None:
    """Point file descriptors 1 and 2 (and ``sys.stdout``/``sys.stderr``) at ``log_path``.

    Redirecting the descriptors rather than only the Python objects also captures what
    compiled libraries (TensorFlow's C++ runtime) print, so the rule's log holds
    everything a user needs to see why a job failed.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def failed_job_logs(main_log_text: str) -> list[str]:
    """The rule logs of the failed jobs named in Snakemake's main log, in order."""
    paths = []
    for match in _FAILED_JOB_LOG.finditer(main_log_text):
        paths += [path.strip() for path in match["paths"].split(",")]
    return list(dict.fromkeys(paths))


def last_error_line(log_text: str) -> str:
    """The line of a job log that says why it failed: the last ``…Error: …`` line of a
    traceback, otherwise the last line with text."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    return (errors or lines or ["(the log is empty)"])[-1]


def failure_summary(main_logs, directory=".") -> list[str]:
    """``<job log>: <its error line>`` for every failed job of a run (for the console);
    ``main_logs`` is Snakemake's main log file, or a list of them."""
    paths = [main_logs] if isinstance(main_logs, str | os.PathLike) else list(main_logs or [])
    text = "\n".join(
        Path(path).read_text(errors="replace") for path in paths if Path(path).is_file()
    )
    summary = []
    for path in failed_job_logs(text):
        log_path = Path(directory) / path
        reason = (
            last_error_line(log_path.read_text(errors="replace"))
            if log_path.is_file()
            else "(no log was written)"
        )
        summary.append(f"{path}: {reason}")
    return summary
