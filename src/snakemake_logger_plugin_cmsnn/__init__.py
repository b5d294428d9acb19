"""A Snakemake logger plugin (``--logger cmsnn``, set by the workflow's default profile)
that keeps the console to what a user reads.

Snakemake's own console prints every job as a block of its inputs, outputs, reason and
resources (about 16 lines a job, the final ``rule all`` listing every result in one
line of thousands of characters). This handler prints each job as one line (rule, what
it works on, its log) and leaves everything else as Snakemake formats it: errors in
full, the job table, progress, and a dry run's every job with its reason and resources
(what ``snakemake -n`` is for). Snakemake's complete log (``.snakemake/log/``) is
written by its own handler and keeps every detail.
"""

from __future__ import annotations

import logging
import sys

from snakemake.logging import ColorizingTextHandler, DefaultFormatter, timestamp
from snakemake_interface_logger_plugins.base import LogHandlerBase


class CompactFormatter(DefaultFormatter):
    """Snakemake's formatter, with one line per job started and finished."""

    def format_job_info(self, msg: dict) -> str:
        wildcards = ", ".join(f"{key}={value}" for key, value in msg["wildcards"].items())
        logs = ", ".join(msg["log"])
        return " ".join(
            part
            for part in (
                timestamp(),
                f"job {msg['jobid']}: {msg['rule_name']}",
                f"({wildcards})" if wildcards else "",
                f"log: {logs}" if logs else "",
            )
            if part
        )

    def format_job_finished(self, msg: dict) -> str:
        return f"{timestamp()} {msg['msg']}"


class LogHandler(LogHandlerBase):
    """Snakemake's coloured console handler with :class:`CompactFormatter` (outside
    dry runs); Snakemake adds its default filter, so ``--quiet`` works as usual."""

    def __post_init__(self) -> None:
        settings = self.common_settings
        self._console = ColorizingTextHandler(
            nocolor=settings.nocolor, stream=sys.stdout if settings.stdout else sys.stderr
        )
        formatter_class = DefaultFormatter if settings.dryrun else CompactFormatter
        self._console.setFormatter(
            formatter_class(quiet=settings.quiet, show_failed_logs=settings.show_failed_logs)
        )

    def emit(self, record: logging.LogRecord) -> None:
        self._console.emit(record)

    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return False

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False
