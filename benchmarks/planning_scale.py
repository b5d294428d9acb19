"""What a big grid costs to plan: a dry run (``snakemake -n``) of the default workflow
with 1000 decay rates x 3 seeds (3000 models, 32,036 jobs), from scratch, against a
plain Snakemake workflow with the same number of jobs (``plain_jobs.smk``: 13 sources
and one ``touch`` per job with one input and one param, each job listed by the dry run
as the workflow's are).

Both run ``--repeats`` times, interleaved, each in a fresh process; the table gives the
median CPU seconds (user + system, from the operating system's accounting of the
process), the wall seconds, the peak resident memory and the workflow's ratio to the
plain one. Issue 30's goal: at most 3x. Prints the table and writes it to
``benchmarks/planning_scale.csv``::

    python benchmarks/planning_scale.py --points 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from measured import run_measured

ROOT = Path(__file__).resolve().parents[1]
PLAIN_SNAKEFILE = Path(__file__).with_name("plain_jobs.smk")


def grid_config(points: int) -> dict:
    """The shipped ``config.yaml`` with ``points`` decay rates (its three seeds)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["grid"] = {"decay_rate": [round(1e-5 * (i + 1), 12) for i in range(points)]}
    return config


def dry_run(workdir: Path, *arguments: str, snakefile: Path) -> dict:
    """One dry run in a fresh process: CPU and wall seconds, peak MiB, and its job total."""
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(snakefile),
        "--directory", str(workdir), "--dry-run", *arguments,
    ]  # fmt: skip
    usage, wall, output = run_measured(command, ROOT)
    return {
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": wall,
        "peak_mib": usage.ru_maxrss / 1024,
        "jobs": int(re.search(r"^total +(\d+)$", output, re.M).group(1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".csv"))
    arguments = parser.parse_args()
    runs: dict[str, list[dict]] = {"workflow": [], "plain": []}
    with tempfile.TemporaryDirectory() as scratch:
        workdir, plain = Path(scratch) / "workflow", Path(scratch) / "plain"
        workdir.mkdir()
        plain.mkdir()
        (workdir / "config.yaml").write_text(yaml.safe_dump(grid_config(arguments.points)))
        jobs = dry_run(workdir, snakefile=ROOT / "Snakefile")["jobs"]  # warms the caches
        for _ in range(arguments.repeats):
            runs["workflow"].append(dry_run(workdir, snakefile=ROOT / "Snakefile"))
            runs["plain"].append(
                dry_run(plain, "--config", f"jobs={jobs}", snakefile=PLAIN_SNAKEFILE)
            )
    rows = []
    for name, measured in runs.items():
        assert {run["jobs"] for run in measured} == {jobs}, measured
        rows.append(
            {
                "dry run": (
                    f"the workflow, {arguments.points} decay rates x 3 seeds"
                    if name == "workflow"
                    else "plain_jobs.smk, the same number of jobs"
                ),
                "jobs": jobs,
                **{
                    key: round(statistics.median(run[key] for run in measured), 1)
                    for key in ("cpu_s", "wall_s", "peak_mib")
                },
            }
        )
    table = pd.DataFrame(rows)
    table["cpu_vs_plain"] = (table["cpu_s"] / table["cpu_s"].iloc[1]).round(2)
    table.to_csv(arguments.output, index=False)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {arguments.repeats} repeats (medians)")  # fmt: skip
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
