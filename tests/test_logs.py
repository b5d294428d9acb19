"""What a user reads when a job fails: the error line of each failed job's log."""

from __future__ import annotations

from cmsnn.logs import failed_job_logs, failure_summary, last_error_line

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
    assert last_error_line("") == "(the log is empty)"


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
