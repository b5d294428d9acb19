"""What a user reads when a job fails: the error line of each failed job's log."""

from __future__ import annotations

import subprocess
import sys

from cmsnn.logs import failed_job_logs, failure_summary, last_error_line, without_harmless_lines

MAIN_LOG = """\
[Thu Nov 26 06:58:59 2026]
Error in rule ingest_csv:
    message: None
    jobid: 0
    output: results/ingested/bad.parquet
    log: results/logs/ingest_csv/bad.log (check log file(s) for error details)
Error in rule split_events:
    log: results/logs/split_events.log, results/logs/other.log (check log file(s) for error details)
"""

TRACEBACK = """\
2026-11-26 06:58:59 INFO cmsnn: reading
Traceback (most recent call last):
  File "x.py", line 1, in <module>
ValueError: bad.csv line 2, column 'x': 'abc' is not a number

"""


def test_failed_job_logs_are_read_from_the_main_log():
    assert failed_job_logs(MAIN_LOG) == [
        "results/logs/ingest_csv/bad.log",
        "results/logs/split_events.log",
        "results/logs/other.log",
    ]
    assert failed_job_logs("Finished job 3.\n") == []


def test_last_error_line():
    assert (
        last_error_line(TRACEBACK)
        == "ValueError: bad.csv line 2, column 'x': 'abc' is not a number"
    )
    assert last_error_line("step 1\nKilled\n") == "Killed"
    assert last_error_line("") == ""


def test_failure_summary(tmp_path):
    (tmp_path / "main.log").write_text(MAIN_LOG)
    (tmp_path / "results/logs/ingest_csv").mkdir(parents=True)
    (tmp_path / "results/logs/ingest_csv/bad.log").write_text(TRACEBACK)
    assert failure_summary([str(tmp_path / "main.log")], tmp_path) == [
        "results/logs/ingest_csv/bad.log: "
        "ValueError: bad.csv line 2, column 'x': 'abc' is not a number",
        "results/logs/split_events.log: (no log was written)",
        "results/logs/other.log: (no log was written)",
    ]


def test_a_jobs_log_keeps_errors_but_not_tensorflows_known_noise(tmp_path):
    """What a job and its compiled libraries print reaches the log; TensorFlow's two
    known-harmless lines are removed when the job ends, a real error line is kept."""
    log = tmp_path / "logs" / "job.log"
    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "E0000 00:00:1795687892.637010   20549 node_def_util.cc:682] NodeDef mentions attribute "
        "use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset>\n"
    )
    real_error = "E0000 00:00:1.0 1 gpu_device.cc:1] could not open CUDA library\n"
    script = (
        "import os, sys\n"
        "from cmsnn.logs import redirect_output_to_log\n"
        f"redirect_output_to_log({str(log)!r})\n"
        "print('from Python')\n"
        f"os.write(2, {(noise + real_error).encode()!r})\n"
        "print('the end', file=sys.stderr)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    text = log.read_text()
    assert text.splitlines() == ["from Python", real_error.strip(), "the end"]
    assert without_harmless_lines(noise + real_error) == real_error
