"""The end-to-end runs' watchdog: a slow run that keeps working passes, a silent one is
killed (a guard against hangs, not a speed check)."""

from __future__ import annotations

import sys

import pytest

import snakemake_runs
from snakemake_runs import run_watched


def test_a_run_that_keeps_printing_outlives_the_inactivity_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(snakemake_runs, "INACTIVITY_TIMEOUT", 2.0)
    busy = "import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.8)\n"
    result = run_watched([sys.executable, "-c", busy], tmp_path)
    assert result.returncode == 0 and result.stdout.split() == ["0", "1", "2", "3", "4", "5"]


def test_a_run_that_writes_files_counts_as_active(tmp_path, monkeypatch):
    monkeypatch.setattr(snakemake_runs, "INACTIVITY_TIMEOUT", 2.0)
    writing = (
        "import time, pathlib\n"
        f"for i in range(6):\n    pathlib.Path({str(tmp_path)!r}, f'{{i}}.log').write_text('x')\n"
        "    time.sleep(0.8)\n"
    )
    assert run_watched([sys.executable, "-c", writing], tmp_path).returncode == 0


def test_a_silent_run_is_killed_as_hung(tmp_path, monkeypatch):
    monkeypatch.setattr(snakemake_runs, "INACTIVITY_TIMEOUT", 2.0)
    with pytest.raises(AssertionError, match="no output and no file written for 2 s"):
        run_watched([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path)
