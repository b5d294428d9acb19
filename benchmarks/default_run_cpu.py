"""The default run's CPU time, rule by rule, for two versions of the workflow side by
side: ``snakemake --cores N`` on the shipped ``config.yaml`` (the embedded data), from
scratch in a scratch folder, the versions interleaved (A B A B …), each run's jobs'
CPU seconds summed from the ``benchmark:`` file every job writes (``cpu_time``).

Prints per rule the median summed CPU seconds of each version and the total with its
ratio; writes the table to ``benchmarks/default_run_cpu.csv``. A version is a folder
holding the workflow (its ``Snakefile`` and ``src/``: a git worktree of a commit)::

    git worktree add /tmp/before <commit>
    python benchmarks/default_run_cpu.py --before /tmp/before --after . --repeats 2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def run_cpu_by_rule(workflow: Path, folder: Path, cores: int) -> tuple[dict, float]:
    """One default run of ``workflow`` in ``folder``: CPU seconds per rule, wall seconds."""
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text((workflow / "config.yaml").read_text())
    environment = os.environ | {"PYTHONPATH": str(workflow / "src")}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(workflow / "Snakefile"),
         "--directory", str(folder), "--cores", str(cores)],
        check=True, cwd=workflow, env=environment, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - started
    cpu: dict[str, float] = {}
    for path in (folder / "results/benchmarks").rglob("*.tsv"):
        rule = path.relative_to(folder / "results/benchmarks").parts[0].removesuffix(".tsv")
        cpu[rule] = cpu.get(rule, 0.0) + float(pd.read_csv(path, sep="\t")["cpu_time"].iloc[0])
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".csv"))
    arguments = parser.parse_args()
    versions = {"before": arguments.before.resolve(), "after": arguments.after.resolve()}
    runs: dict[str, list[tuple[dict, float]]] = {name: [] for name in versions}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(arguments.repeats):
            for name, workflow in versions.items():
                folder = Path(scratch) / f"{name}-{repeat}"
                runs[name].append(run_cpu_by_rule(workflow, folder, arguments.cores))
    rules = sorted({rule for measured in runs.values() for cpu, _ in measured for rule in cpu})
    table = pd.DataFrame(
        {
            f"{name}_cpu_s": [
                statistics.median(cpu.get(rule, 0.0) for cpu, _ in runs[name]) for rule in rules
            ]
            for name in versions
        },
        index=rules,
    )
    table.loc["all rules"] = table.sum()
    table.loc["wall (whole run)"] = [
        statistics.median(wall for _, wall in runs[name]) for name in versions
    ]
    table["after_vs_before"] = table["after_cpu_s"] / table["before_cpu_s"]
    table = table.round(2)
    table.to_csv(arguments.output, index_label="rule")
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"--cores {arguments.cores}, {arguments.repeats} runs of each, interleaved (medians)"
    )
    print(table.to_markdown())


if __name__ == "__main__":
    main()
