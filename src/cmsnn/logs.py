"""Send a rule's output, including TensorFlow's and Keras' own printing, to its log."""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import sys
import traceback
from pathlib import Path

#: How Snakemake's main log names a failed job's own log.
_FAILED_JOB_LOG = re.compile(
    r"^\s*log: (?P<paths>.+?) \(check log file\(s\) for error details\)$", re.M
)
#: The line of a Python traceback that says what went wrong.
_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Interrupt)\b.*$")
#: Lines TensorFlow's C++ runtime prints in every job that say nothing about the job:
#: absl's notice that logging is not initialised, and an error-level line about an
#: attribute TensorFlow's own Python wrapper passes to its own data-pipeline op (a
#: version mismatch inside the TensorFlow wheel; the op ignores it). Removed from a
#: job's log when it ends; every other line, errors included, stays.
KNOWN_HARMLESS_LINES = (
    re.compile(
        r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
        r"STDERR$"
    ),
    re.compile(
        r"^E\d{4} .* NodeDef mentions attribute use_unbounded_threadpool which is not in the op "
        r"definition"
    ),
)


def redirect_output_to_log(log_path: str | os.PathLike) -> None:
    """Point file descriptors 1 and 2 (and ``sys.stdout``/``sys.stderr``) at ``log_path``.

    Redirecting the descriptors rather than only the Python objects also captures what
    compiled libraries (TensorFlow's C++ runtime) print, so the rule's log holds
    everything a user needs to see why a job failed. TensorFlow's informational lines
    are not printed, and :data:`KNOWN_HARMLESS_LINES` are removed when the job ends.
    """
    # INFO lines only ("this binary is optimized to use AVX2"); warnings and errors stay.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    global _CONSOLE
    # What the job printed to before: the console of a local run, the batch system's
    # job log on a cluster (for the few lines meant for a person watching, console()).
    _CONSOLE = os.fdopen(os.dup(2), "w", buffering=1)
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
    atexit.register(remove_harmless_lines_from_output)
    _unwritten_log_note(log_path).unlink(missing_ok=True)  # an earlier run's
    sys.excepthook = _traceback_to_log_or_console(str(log_path))


def _traceback_to_log_or_console(log_path: str):
    """An excepthook: the traceback goes to the log; where the log cannot take it (the
    disk is full), its last line goes to the console, with why, instead of nowhere."""

    def excepthook(kind, error, trace):
        text = "".join(traceback.format_exception(kind, error, trace))
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except OSError as failure:
            reason = f"{last_error_line(text)[:500]} (the log could not take it: {failure})"
            console().write(f"{log_path}: {reason}\n")
            console().flush()
            try:  # for the end of the run's summary (the working folder: another disk?)
                unwritten = _unwritten_log_note(log_path)
                unwritten.parent.mkdir(parents=True, exist_ok=True)
                unwritten.write_text(reason)
            except OSError:
                pass

    return excepthook


#: Where a job notes the error its log could not take (a full disk), for the summary.
UNWRITTEN_LOGS = Path(".snakemake") / "cmsnn" / "unwritten_logs"


def _unwritten_log_note(log_path: str | os.PathLike, directory=".") -> Path:
    name = hashlib.sha256(os.path.abspath(Path(directory) / log_path).encode()).hexdigest()
    return Path(directory) / UNWRITTEN_LOGS / name[:32]


#: The job's stream before :func:`redirect_output_to_log` (None before it).
_CONSOLE = None


def console():
    """Where a job's lines for a person watching go: the stream the job printed to
    before its output was sent to its log (the console of a local run, the batch job's
    log on a cluster); ``sys.stderr`` where nothing was redirected."""
    return _CONSOLE if _CONSOLE is not None else sys.stderr


def without_harmless_lines(text: str) -> str:
    """``text`` without the lines matched by :data:`KNOWN_HARMLESS_LINES`."""
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not any(pattern.search(line) for pattern in KNOWN_HARMLESS_LINES)
    ]
    return "".join(kept)


def remove_harmless_lines_from_output() -> None:
    """Rewrite the log that file descriptor 1 points at without the harmless lines.

    It is rewritten through descriptor 1 itself (which shares its offset with 2), so
    whatever a library prints while the process tears down still lands after it."""
    try:
        _rewrite_output_without_harmless_lines()
    except OSError:  # (a full disk): the log stays as it is
        pass


def _rewrite_output_without_harmless_lines() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.lseek(1, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(1, 1 << 20):
        chunks.append(chunk)
    text = b"".join(chunks).decode(errors="surrogateescape")
    cleaned = without_harmless_lines(text)
    if cleaned != text:
        os.lseek(1, 0, os.SEEK_SET)
        os.ftruncate(1, 0)
        remaining = memoryview(cleaned.encode(errors="surrogateescape"))
        while remaining:
            remaining = remaining[os.write(1, remaining) :]


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
    return (errors or lines or [""])[-1]


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
        ) or _empty_log_reason(_unwritten_log_note(path, directory))
        summary.append(f"{path}: {reason}")
    return summary


def _empty_log_reason(note: Path) -> str:
    """Why a failed job's log is empty: what the job noted when its log could not take
    its error (a full disk), else that the job died before printing (killed: out of
    memory, a batch system's limit)."""
    try:
        return f"{note.read_text()} (the log is empty: free space, then run the same command)"
    except OSError:
        return (
            "(the log is empty: the job ended before printing anything; killed, e.g. for "
            "memory? Its error, if it printed one, is on the console above)"
        )
