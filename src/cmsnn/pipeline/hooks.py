"""What the workflow does at its start, at its end and on failure: keep the resolved
config beside the results, print the verdict, and name why each failed job failed.

Standard library and PyYAML at import; the verdict imports pandas only when jobs ran.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from cmsnn.files import write_with
from cmsnn.logs import failure_summary
from cmsnn.pipeline.paths import KEPT_CONFIG
from cmsnn.processes import process_alive, this_process


def keep_resolved_config(config: Mapping, results: str, stream=None) -> list[str]:
    """Write the resolved config to ``<results>/config.yaml``, first warning if the
    folder holds another configuration's results (they will be replaced).

    Args:
        config: the resolved config of this run.
        results: the run's results folder.
        stream: where the warning goes (standard error by default).

    Returns:
        The top-level keys in which the kept config differed (empty for none).
    """
    kept = Path(results) / KEPT_CONFIG
    changed = []
    if kept.is_file():
        try:
            earlier = yaml.safe_load(kept.read_text()) or {}
        except yaml.YAMLError:
            earlier = None
        if not isinstance(earlier, Mapping):
            print(
                f"WARNING: {kept} is not a config this workflow kept (not a YAML mapping); "
                "it is replaced by this run's.",
                file=stream or sys.stderr,
            )
            earlier = {}
        changed = sorted(
            key for key in set(earlier) | set(config) if earlier.get(key) != config.get(key)
        )
        if changed:
            print(
                f"WARNING: {results}/ holds the results of another configuration (it differs "
                f"in {', '.join(changed)}); the steps they change are redone here. To keep "
                "both, give this configuration its own folder: results: <folder>.",
                file=stream or sys.stderr,
            )
    write_with(
        kept, lambda temporary: temporary.write_text(yaml.safe_dump(dict(config), sort_keys=True))
    )
    return changed


def print_verdict(summary, results: str, report_command: str, stream=None) -> None:
    """After a successful run, the verdict on the console: each model's test AUC, cut
    and FOM, every warning (a result that may mean nothing must not pass in silence),
    and where the results are. Nothing when the run made no summary."""
    if Path(summary).is_file():
        from cmsnn.summary.verdict import verdict_lines  # (pandas: only when jobs ran)

        lines = verdict_lines(Path(summary), results, report_command)
        print("\n".join(lines), file=stream or sys.stderr)


def print_failures(main_log, stream=None) -> None:
    """On failure, each failed job's error line on the console, beside Snakemake's
    "check log file(s)", so that the reason is seen without opening the log."""
    failures = failure_summary(main_log)
    if failures:
        stream = stream or sys.stderr
        print("\nWhy the failed jobs failed (last error line of each log):", file=stream)
        for failure in failures:
            print(f"  - {failure}", file=stream)


#: Where the main Snakemake process of the run that holds the working folder's locks
#: says who it is.
MAIN_PROCESS_FILE = Path(".snakemake") / "cmsnn" / "main_process.json"


def record_main_process(path=MAIN_PROCESS_FILE) -> None:
    """At the start of a run (after Snakemake took its locks): who holds them."""
    me = this_process()
    if me is not None:
        write_with(path, lambda temporary: temporary.write_text(json.dumps(list(me))))


def remove_stale_locks(snakemake_folder=".snakemake", path=MAIN_PROCESS_FILE, stream=None):
    """A run killed outright (SIGKILL, a closed terminal) leaves Snakemake's locks behind,
    and the next run would stop until ``--unlock``. Where the run that took them is known
    (:func:`record_main_process`) and gone, they are removed, so that the same command
    resumes the run. Locks of a running Snakemake, or of an unknown one, stay."""
    locks = Path(snakemake_folder) / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return
    try:
        pid, started = json.loads(Path(path).read_text())
    except (OSError, ValueError, TypeError):
        return
    if process_alive(pid, started):
        return
    for lock in locks.iterdir():
        lock.unlink(missing_ok=True)
    print(
        f"cmsnn: removed the locks of an earlier run that was stopped outright (process "
        f"{pid} is gone); its unfinished jobs are redone",
        file=stream or sys.stderr,
    )
